"""Read a SavedModel's warmup file (a TFRecord of PredictionLog protos) without TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from google.protobuf.message import DecodeError

from wire import protos
from wire.tfrecord import read_tfrecords

__all__ = ["WARMUP_FILE", "WarmupRequest", "read_warmup_requests", "warmup_path"]

WARMUP_FILE = "tf_serving_warmup_requests"

# The logs TF Serving replays at warmup -> the kind of request each holds.
_KINDS = {"predict_log": "predict", "classify_log": "classify", "regress_log": "regress"}


@dataclass(frozen=True)
class WarmupRequest:
    """One replayable request: its kind and a wire.protos request message."""

    kind: Literal["predict", "classify", "regress"]
    request: Any

    @property
    def signature_name(self) -> str:
        """The signature the request names ("" means serving_default)."""
        return self.request.model_spec.signature_name


def warmup_path(version_dir: Path) -> Path:
    """Where TF Serving looks for a version's warmup requests."""
    return Path(version_dir) / "assets.extra" / WARMUP_FILE


def read_warmup_requests(path: Path) -> list[WarmupRequest]:
    """The predict, classify and regress requests of a warmup file, in file order.

    Raises:
        OSError: the file cannot be read.
        ValueError: a record is corrupt or is not a PredictionLog of those kinds.
    """
    requests = []
    for index, raw in enumerate(read_tfrecords(path)):
        try:
            log = protos.PredictionLog.FromString(raw)
        except DecodeError as err:
            raise ValueError(f"{path}: record {index} is not a PredictionLog") from err
        which = log.WhichOneof("log_type")
        if which not in _KINDS:
            raise ValueError(f"{path}: record {index} holds no predict, classify or regress log")
        requests.append(WarmupRequest(_KINDS[which], getattr(log, which).request))  # type: ignore[arg-type]
    return requests
