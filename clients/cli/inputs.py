"""Read the CLI's --input, --examples and --context values: JSON, @file.json, @-, @file bytes."""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clients.signatures import Signature

__all__ = ["FileBytes", "binary_input", "read_examples", "read_features", "read_inputs"]


class FileBytes(bytes):
    """The bytes of an @file that is not JSON: one string input, named with the signature."""


def _from_b64(value: Any) -> Any:
    """value with each {"b64": "..."} replaced by its bytes, as TF Serving's REST API reads it.

    Raises:
        ValueError: if a b64 string is not valid base64.
    """
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("b64"), str):
            try:
                return base64.b64decode(value["b64"], validate=True)
            except binascii.Error as err:
                raise ValueError(f"invalid base64 in {str(value)[:60]}: {err}") from err
        return {key: _from_b64(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_b64(item) for item in value]
    return value


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as err:
        raise ValueError(f"{where} is not valid JSON: {err}") from err


def _read(argument: str, option: str, allow_bytes: bool) -> Any:
    """The JSON value of an option's argument (inline, @-, @file.json), or an @file's FileBytes.

    Raises:
        ValueError: for malformed JSON or base64.
        OSError: if the file cannot be read.
    """
    if not argument.startswith("@"):
        return _from_b64(_json(argument, option))
    path = argument[1:]
    if path == "-":
        return _from_b64(_json(sys.stdin.read(), f"{option} @- (standard input)"))
    if allow_bytes and not path.lower().endswith(".json"):
        return FileBytes(Path(path).read_bytes())
    return _from_b64(_json(Path(path).read_text(encoding="utf-8"), path))


def read_inputs(argument: str) -> Any:
    """Predict inputs: {name: value}, one bare value, or the FileBytes of a non-JSON @file.

    Raises:
        ValueError: for malformed JSON or base64.
        OSError: if the file cannot be read.
    """
    return _read(argument, "--input", allow_bytes=True)


def read_features(argument: str, option: str = "--context") -> dict[str, Any]:
    """A JSON object of tf.Example features.

    Raises:
        ValueError: for malformed JSON or base64, or JSON that is not an object.
        OSError: if the file cannot be read.
    """
    value = _read(argument, option, allow_bytes=False)
    if not isinstance(value, dict):
        raise ValueError(f"{option} must be a JSON object of features, not {type(value).__name__}")
    return value


def read_examples(argument: str) -> list[dict[str, Any]]:
    """A list of examples, each a {feature: value} object; one object is a list of one.

    Raises:
        ValueError: for malformed JSON or base64, or JSON that is not objects.
        OSError: if the file cannot be read.
    """
    value = _read(argument, "--examples", allow_bytes=False)
    examples = value if isinstance(value, list) else [value]
    if not examples or not all(isinstance(example, dict) for example in examples):
        raise ValueError("--examples must be a JSON object or a non-empty list of objects")
    return examples


def _string_inputs(signature: Signature) -> list[str]:
    return [name for name, info in signature["inputs"].items() if info["dtype"] == "DT_STRING"]


def binary_input(data: bytes, signature: Signature, input_name: str | None) -> dict[str, Any]:
    """A file's bytes as {input: [bytes]}, a batch of one (a bare value if the input is a scalar).

    The input is input_name, else the signature's only string input.

    Raises:
        ValueError: if input_name is not an input of the signature, or no name is given and
            the signature has not exactly one string input.
    """
    inputs: Mapping[str, Any] = signature["inputs"]
    if input_name is None:
        candidates = _string_inputs(signature)
        if len(candidates) != 1:
            found = ", ".join(candidates) if candidates else "none"
            raise ValueError(
                f"a file's bytes go to a string input, and the signature has {found}: "
                "name the input with --input-name"
            )
        input_name = candidates[0]
    elif input_name not in inputs:
        raise ValueError(
            f"--input-name {input_name!r} is not an input of the signature; "
            f"it has {', '.join(sorted(inputs)) or 'none'}"
        )
    scalar = inputs[input_name]["shape"] == []
    return {input_name: bytes(data) if scalar else [bytes(data)]}
