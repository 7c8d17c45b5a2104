"""One logged call as a PredictionLog record, and back: the format of request logs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from google.protobuf.message import DecodeError

from wire import DEFAULT_SIGNATURE, protos
from wire.tensors import make_ndarray
from wire.tfrecord import read_tfrecords

__all__ = [
    "LOG_SUFFIX",
    "LoggedCall",
    "decode_logged_call",
    "log_files",
    "prediction_log",
    "read_request_logs",
]

Kind = Literal["predict", "classify", "regress"]
LOG_SUFFIX = ".tfrecord"
# call kind -> (PredictionLog field, its log message class)
_LOG_FIELDS: dict[str, tuple[str, Any]] = {
    "predict": ("predict_log", protos.PredictLog),
    "classify": ("classify_log", protos.ClassifyLog),
    "regress": ("regress_log", protos.RegressLog),
}
_KINDS = {field_name: kind for kind, (field_name, _) in _LOG_FIELDS.items()}


@dataclass(frozen=True)
class LoggedCall:
    """A served call read back from a request log.

    `inputs` holds a predict call's input arrays; `examples` a classify or regress call's
    {feature: values} rows. `outputs` holds the predict outputs, or for classify `classes`
    (bytes, examples x classes) and `scores`, or for regress `outputs` (one value per example).
    `version` is the version that answered when the response names it (gRPC), else the version
    asked for, else None.
    """

    request_id: str
    timestamp: float
    latency: float
    transport: str
    kind: Kind
    model: str
    version: int | None
    label: str
    signature: str
    sampling_rate: float
    inputs: dict[str, np.ndarray] | None
    examples: list[dict[str, list[Any]]] | None
    outputs: dict[str, np.ndarray]


def prediction_log(
    kind: Kind,
    request: Any,
    response: Any,
    *,
    request_id: str,
    timestamp: float,
    latency: float,
    transport: str,
    sampling_rate: float,
) -> Any:
    """A PredictionLog of one call: wire.protos request and response, with the call's facts.

    Raises:
        KeyError: kind is not predict, classify or regress.
    """
    field_name, log_class = _LOG_FIELDS[kind]
    log = protos.PredictionLog()
    metadata = log.log_metadata
    metadata.model_spec.CopyFrom(request.model_spec)
    if response.HasField("model_spec") and response.model_spec.HasField("version"):
        metadata.model_spec.version.value = response.model_spec.version.value
    metadata.sampling_config.sampling_rate = sampling_rate
    metadata.saved_model_tags.append("serve")
    metadata.timestamp_secs = int(timestamp)
    metadata.request_id = request_id
    metadata.timestamp_micros = round(timestamp * 1e6)
    metadata.latency_micros = round(latency * 1e6)
    metadata.transport = transport
    entry = getattr(log, field_name)
    entry.CopyFrom(log_class(request=request, response=response))
    return log


def _example_rows(request: Any) -> list[dict[str, list[Any]]]:
    which = request.input.WhichOneof("kind")
    if which is None:
        return []
    listed = getattr(request.input, which)
    context = {}
    if which == "example_list_with_context":
        context = _features(listed.context)
    return [{**context, **_features(example)} for example in listed.examples]


def _features(example: Any) -> dict[str, list[Any]]:
    rows = {}
    for name, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        rows[name] = list(getattr(feature, kind).value) if kind else []
    return rows


def _outputs(kind: str, response: Any) -> dict[str, np.ndarray]:
    if kind == "predict":
        return {name: make_ndarray(tensor) for name, tensor in response.outputs.items()}
    if kind == "regress":
        values = [r.value for r in response.result.regressions]
        return {"outputs": np.asarray(values, dtype=np.float32)}
    groups = response.result.classifications
    return {
        "classes": np.asarray([[c.label for c in g.classes] for g in groups], dtype=object),
        "scores": np.asarray([[c.score for c in g.classes] for g in groups], dtype=np.float32),
    }


def decode_logged_call(log: Any) -> LoggedCall:
    """A PredictionLog (wire.protos) as a LoggedCall.

    Raises:
        ValueError: the log holds no predict, classify or regress call.
    """
    which = log.WhichOneof("log_type")
    if which not in _KINDS:
        raise ValueError(f"a request log holds predict, classify or regress calls, not {which}")
    kind = _KINDS[which]
    entry = getattr(log, which)
    metadata = log.log_metadata
    spec = metadata.model_spec
    timestamp = (
        metadata.timestamp_micros / 1e6 if metadata.timestamp_micros else metadata.timestamp_secs
    )
    return LoggedCall(
        request_id=metadata.request_id,
        timestamp=float(timestamp),
        latency=metadata.latency_micros / 1e6,
        transport=metadata.transport,
        kind=kind,  # type: ignore[arg-type]
        model=spec.name,
        version=spec.version.value if spec.HasField("version") else None,
        label=spec.version_label,
        signature=spec.signature_name or DEFAULT_SIGNATURE,
        sampling_rate=metadata.sampling_config.sampling_rate,
        inputs=(
            {name: make_ndarray(t) for name, t in entry.request.inputs.items()}
            if kind == "predict"
            else None
        ),
        examples=None if kind == "predict" else _example_rows(entry.request),
        outputs=_outputs(kind, entry.response),
    )


def log_files(path: Path) -> list[Path]:
    """The finished log files at path (a file, or a folder searched recursively), in name order.

    Files still being written end in `.partial` and are left out.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob(f"*{LOG_SUFFIX}") if p.is_file())


def read_request_logs(path: Path) -> Iterator[LoggedCall]:
    """Every call in the request logs at path (a file or a folder), file by file.

    Raises:
        FileNotFoundError: path does not exist.
        OSError: a file cannot be read.
        ValueError: a record is corrupt or is not a predict, classify or regress log (the
            message names the file and record).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no request logs at {path}")
    for file in log_files(path):
        for index, raw in enumerate(read_tfrecords(file)):
            try:
                log = protos.PredictionLog.FromString(raw)
                yield decode_logged_call(log)
            except (DecodeError, ValueError) as err:
                raise ValueError(f"{file}: record {index}: {err}") from err
