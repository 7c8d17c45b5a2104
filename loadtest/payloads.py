"""The requests a load test sends, built once before the run: held-out examples or generated inputs."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from clients import grpc_messages, rest_json
from clients.spec import DEFAULT_SIGNATURE, ModelTarget
from exported import version_path, warmup_path
from loadtest.generated import generated_inputs
from loadtest.heldout import HeldOut, held_out_examples
from loadtest.served import ServedModel
from loadtest.settings import LoadSettings
from wire import protos

__all__ = ["Batch", "Workload", "build_workload"]

logger = logging.getLogger(__name__)

Kind = Literal["predict", "classify", "regress", "status"]
METHOD_KINDS = {
    "tensorflow/serving/predict": "predict",
    "tensorflow/serving/classify": "classify",
    "tensorflow/serving/regress": "regress",
}
GRPC_METHODS = {
    "predict": "Predict",
    "classify": "Classify",
    "regress": "Regress",
    "status": "GetModelStatus",
}
GENERATED_BATCHES = 8  # distinct generated batches, so the server does not see one request


@dataclass(frozen=True)
class Batch:
    """One request, ready to send: a REST body (None for a GET) or a gRPC request message."""

    rows: int
    rest_body: bytes | None
    grpc_request: Any = None


@dataclass(frozen=True)
class Workload:
    """What every user sends in turn: the batches of one kind of request to one target."""

    kind: Kind
    target: ModelTarget
    source: str  # where the payloads came from, for the report
    served_version: int
    batches: tuple[Batch, ...]

    @property
    def request_name(self) -> str:
        """The name requests are reported under, e.g. "predict tabular/labels/canary"."""
        name = f"{self.kind} {self.target.rest_path().removeprefix('/v1/models/')}"
        if self.target.signature and self.target.signature not in (DEFAULT_SIGNATURE, self.kind):
            name += f" [{self.target.signature}]"
        return name

    @property
    def rest_path(self) -> str:
        """The REST path: .../models/M[...]:predict (or :classify, :regress), or the status path."""
        path = self.target.rest_path()
        return path if self.kind == "status" else f"{path}:{self.kind}"

    @property
    def grpc_method(self) -> str:
        return GRPC_METHODS[self.kind]


def _row_batches(rows: int, batch_size: int) -> list[np.ndarray]:
    """Row indices of ceil(rows / batch_size) batches, wrapping around to fill the last."""
    count = max(1, math.ceil(rows / batch_size))
    return [np.arange(i * batch_size, (i + 1) * batch_size) % rows for i in range(count)]


def _predict_batch(target: ModelTarget, inputs: dict[str, np.ndarray], grpc: bool) -> Batch:
    rows = len(next(iter(inputs.values()))) if inputs else 0
    if grpc:
        return Batch(rows, None, grpc_messages.predict_request(target, inputs, None))
    return Batch(rows, rest_json.encode_predict_request(inputs, target.signature), None)


def _examples_batch(
    kind: str, target: ModelTarget, examples: list[dict[str, Any]], grpc: bool
) -> Batch:
    if grpc:
        request_class = (
            protos.ClassificationRequest if kind == "classify" else protos.RegressionRequest
        )
        request = grpc_messages.examples_request(request_class, target, examples, None)
        return Batch(len(examples), None, request)
    body = rest_json.encode_examples(examples, signature_name=target.signature)
    return Batch(len(examples), body, None)


def _held_out_batches(
    held_out: HeldOut, target: ModelTarget, batch_size: int, grpc: bool
) -> list[Batch]:
    batches = []
    for indices in _row_batches(held_out.rows, batch_size):
        rows = held_out.take(indices)
        if rows.kind == "predict":
            batches.append(_predict_batch(target, rows.inputs or {}, grpc))
        else:
            batches.append(_examples_batch(rows.kind, target, rows.examples or [], grpc))
    return batches


def _signature(served: ServedModel, name: str) -> dict[str, Any]:
    if name not in served.signatures:
        available = ", ".join(sorted(served.signatures)) or "none"
        raise ValueError(
            f"{served.name} version {served.version} has no signature {name!r} ({available})"
        )
    return served.signatures[name]


def build_workload(settings: LoadSettings, served: ServedModel) -> Workload:
    """The batches for settings against the served version (ask describe_served_model for it).

    payload "warmup" replays held-out examples from <models_root>/<model>/<version>'s warmup
    file, re-batched to batch_size; "metadata" generates predict inputs from the signature;
    "auto" uses warmup records when that file exists and holds the signature's requests.

    Raises:
        ValueError: no such signature, warmup records asked for but missing or unusable,
            or generated payloads asked for a classify or regress signature.
        OSError: the warmup file cannot be read.
    """
    target = ModelTarget(settings.model, settings.version, settings.label, settings.signature)
    grpc = settings.transport == "grpc"
    if settings.endpoint == "status":
        request = grpc_messages.status_request(target)
        batch = Batch(0, None, request)
        return Workload("status", target.address, "model status", served.version, (batch,))
    signature_name = target.signature_name
    kind = METHOD_KINDS.get(_signature(served, signature_name).get("method_name", ""), "predict")
    directory = (
        version_path(settings.models_root, settings.model, served.version)
        if settings.models_root
        else None
    )
    use_warmup = settings.payload == "warmup"
    if settings.payload == "auto" and directory and warmup_path(directory).is_file():
        use_warmup = True
    if use_warmup:
        if directory is None:
            raise ValueError("warmup payloads need the models root (LOADTEST_MODELS_ROOT)")
        try:
            held_out = held_out_examples(directory, signature_name)
        except ValueError:
            if settings.payload == "warmup":
                raise
            logger.info("no warmup records for %s; generating inputs", signature_name)
        else:
            batches = _held_out_batches(held_out, target, settings.batch_size, grpc)
            source = f"{held_out.rows} held-out examples from {warmup_path(directory)}"
            return Workload(kind, target, source, served.version, tuple(batches))  # type: ignore[arg-type]
    if kind != "predict":
        raise ValueError(
            f"inputs can only be generated for predict signatures; {signature_name!r} is a "
            f"{kind} signature: use warmup records (--payload warmup, --models-root)"
        )
    signature = _signature(served, signature_name)
    batches = [
        _predict_batch(target, generated_inputs(signature, settings.batch_size, seed), grpc)
        for seed in range(GENERATED_BATCHES)
    ]
    source = f"inputs generated from the {signature_name!r} signature"
    return Workload("predict", target, source, served.version, tuple(batches))
