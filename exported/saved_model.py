"""A version's signatures, read from its saved_model.pb without TensorFlow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from exported.errors import ExportedError
from wire.protos.messages import SavedModel

__all__ = ["SAVED_MODEL_FILE", "SERVE_TAGS", "read_signature_defs", "saved_model_path"]

SAVED_MODEL_FILE = "saved_model.pb"
SERVE_TAGS = ("serve",)  # TF Serving's --saved_model_tags default


def saved_model_path(version_dir: Path) -> Path:
    """The version's SavedModel proto, the file TF Serving loads first."""
    return Path(version_dir) / SAVED_MODEL_FILE


def _tag_sets(saved_model: Any) -> list[set[str]]:
    return [set(meta_graph.meta_info_def.tags) for meta_graph in saved_model.meta_graphs]


def read_signature_defs(version_dir: Path, tags: Sequence[str] = SERVE_TAGS) -> dict[str, Any]:
    """{signature key: wire.protos SignatureDef} of the MetaGraph TF Serving would load: the one
    whose tag set equals tags, as TensorFlow's loader matches them.

    Raises:
        ExportedError: version_dir is not a folder, holds no saved_model.pb, the file is not a
            SavedModel, or no MetaGraph has exactly these tags (the message names the path).
        OSError: the file exists but cannot be read.
    """
    folder = Path(version_dir)
    if not folder.is_dir():
        raise ExportedError(f"{folder}: no such version folder")
    path = saved_model_path(folder)
    if not path.is_file():
        raise ExportedError(f"{path}: missing: {folder} is not a SavedModel version folder")
    try:
        saved_model = SavedModel.FromString(path.read_bytes())
    except DecodeError as err:
        raise ExportedError(f"{path}: not a SavedModel ({err})") from err
    wanted = set(tags)
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == wanted:
            return dict(meta_graph.signature_def.items())
    found = "; ".join(",".join(sorted(t)) or "(no tags)" for t in _tag_sets(saved_model))
    raise ExportedError(
        f"{path}: no MetaGraph tagged {','.join(sorted(wanted))} (it has: {found or 'none'})"
    )
