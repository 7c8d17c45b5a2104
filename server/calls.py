"""One request as the core sees it (Call), what it got (Answer), and the decoders and log
encoders the REST and gRPC edges hand the core."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import model_pb2

from runtime.bundle import RunTimeout
from server.errors import Code, ServingError

T = TypeVar("T")
SpecChoice = tuple[str, int | None, str | None]  # (name, version, label) as a request asks
# The edge's input decoder: the requested signature (None when the model has no such
# signature) -> the inputs by alias.
DecodeInputs = Callable[[meta_graph_pb2.SignatureDef | None], dict[str, np.ndarray]]
# The edge's example decoder: the request's serialized tf.Examples, context merged in.
DecodeExamples = Callable[[], list[bytes]]
# The edge's log encoder: (what the core decoded, the answer) -> (request, response) messages.
LogMessages = Callable[[Any, "Answer[Any]"], tuple[Any, Any]]


def spec_choice(spec: model_pb2.ModelSpec) -> SpecChoice:
    """(name, version, label) of a ModelSpec; version and label are a oneof."""
    version = spec.version.value if spec.HasField("version") else None
    return spec.name, version, spec.version_label or None


@dataclass
class Call:
    """One request as the core sees it: its API, entry point and model name (the metrics'
    labels; the edge fills in what it has decoded), how long it may run, and, for the request
    log, the caller's request id and how its messages look.

    deadline is a time.monotonic() (a gRPC client's); timeout_ms is REST's fixed
    --rest_api_timeout_in_ms. log_messages is None when the call is not logged (e.g. metadata).
    """

    api: str
    entrypoint: str
    model: str = ""
    deadline: float | None = None
    timeout_ms: int | None = None
    request_id: Callable[[], str | None] = lambda: None
    log_messages: LogMessages | None = None
    started: float = field(default_factory=time.perf_counter)

    def run_timeout(self) -> RunTimeout | None:
        """The Session run's RunOptions.timeout_in_ms: REST's flag, else the deadline's time left.

        Raises:
            ServingError: DEADLINE_EXCEEDED when the deadline has already passed.
        """
        if self.timeout_ms is not None and self.timeout_ms > 0:
            return RunTimeout(self.timeout_ms)
        if self.deadline is None:
            return None
        left = int((self.deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise ServingError(Code.DEADLINE_EXCEEDED, "Deadline Exceeded")
        return RunTimeout(left)


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What a request got: the version that served it, the signature it ran, the result."""

    model: str
    version: int
    signature: str
    value: T
