"""A version's warmup requests (a TFRecord of PredictionLog messages), read without TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from google.protobuf.message import DecodeError

from exported.errors import ExportedError
from exported.layout import warmup_path
from wire import protos
from wire.tfrecord import read_tfrecords

__all__ = ["WarmupRequest", "read_warmup_logs", "read_warmup_requests"]

RequestKind = Literal["predict", "classify", "regress"]

# The logs TF Serving replays at warmup -> the kind of request each holds.
_KINDS: dict[str, RequestKind] = {
    "predict_log": "predict",
    "classify_log": "classify",
    "regress_log": "regress",
}


@dataclass(frozen=True)
class WarmupRequest:
    """One replayable request: its kind and its wire.protos request message."""

    kind: RequestKind
    request: Any  # a wire.protos PredictRequest, ClassificationRequest or RegressionRequest

    @property
    def signature_name(self) -> str:
        """The signature the request names ("" means serving_default)."""
        return str(self.request.model_spec.signature_name)


def read_warmup_logs(version_dir: Path) -> list[Any]:
    """Every record of the version's warmup file as a wire.protos.PredictionLog, in file order.

    Raises:
        OSError: the file is missing or cannot be read.
        ExportedError: a record is truncated, fails its checksum or is not a PredictionLog.
    """
    path = warmup_path(version_dir)
    logs = []
    try:
        for index, raw in enumerate(read_tfrecords(path)):
            try:
                logs.append(protos.PredictionLog.FromString(raw))
            except DecodeError as err:
                raise ExportedError(f"{path}: record {index} is not a PredictionLog") from err
    except ExportedError:
        raise
    except ValueError as err:  # the framing: truncated, or a checksum does not match
        raise ExportedError(str(err)) from err
    return logs


def read_warmup_requests(version_dir: Path) -> list[WarmupRequest]:
    """The predict, classify and regress requests of the version's warmup file, in file order.

    Raises:
        OSError: the file is missing or cannot be read.
        ExportedError: a record is corrupt or is not a PredictionLog of those kinds.
    """
    requests = []
    for index, log in enumerate(read_warmup_logs(version_dir)):
        which = log.WhichOneof("log_type")
        if which not in _KINDS:
            raise ExportedError(
                f"{warmup_path(version_dir)}: record {index} holds no predict, classify"
                " or regress log"
            )
        requests.append(WarmupRequest(_KINDS[which], getattr(log, which).request))
    return requests
