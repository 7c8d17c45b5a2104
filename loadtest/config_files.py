"""Read the small config files a load test takes (stages, SLOs): JSON, TOML or YAML by suffix."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["read_config"]


def _parse(suffix: str, text: str) -> Any:
    if suffix == ".toml":
        return tomllib.loads(text)  # TOMLDecodeError is a ValueError, as is JSONDecodeError
    if suffix in (".yaml", ".yml"):
        import yaml  # PyYAML, needed only for YAML files

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ValueError(str(err)) from err
    return json.loads(text)


def read_config(path: Path) -> Any:
    """The parsed content of a .toml, .yaml/.yml or (any other suffix) JSON file.

    Raises:
        OSError: the file cannot be read.
        ValueError: the file does not parse (the message names the file).
    """
    path = Path(path)
    try:
        return _parse(path.suffix, path.read_text())
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err
