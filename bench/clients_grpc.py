"""gRPC Predict through GrpcClient against a bare stub with a prebuilt request, same server."""

from __future__ import annotations

import contextlib
import cProfile
import logging
import pstats
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from bench.callers import http_get_ok
from bench.clients_codec import best_of
from bench.measure import Call, Latency, time_interleaved
from bench.processes import HOST, ROOT, ModuleSpec, free_port, run_modules
from clients import GrpcClient, grpc_messages
from clients.channel import channel_options
from clients.spec import ModelTarget
from wire import protos

log = logging.getLogger(__name__)

MODEL = "half_plus_two"
INPUT = "x"
TIMEOUT = 10.0  # GrpcClient's default deadline; the bare stub gets the same
ROUNDS = 20


def ensure_fixture(models: Path) -> Path:
    """models/half_plus_two, written by `python -m tests.fixtures.models` when missing.

    Raises:
        RuntimeError: the fixture builder failed.
    """
    model_dir = models / MODEL
    if not any(model_dir.glob("*/saved_model.pb")):
        log.info("building the test fixture models into %s", models)
        done = subprocess.run(
            [sys.executable, "-m", "tests.fixtures.models", str(models.resolve())],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not any(model_dir.glob("*/saved_model.pb")):
            raise RuntimeError(f"building {model_dir} failed:\n{done.stderr[-2000:]}")
    return model_dir


def server_spec(model_dir: Path) -> tuple[ModuleSpec, int]:
    """Our embedded server serving only the fixture model, and its gRPC port."""
    grpc_port, rest_port = free_port(), free_port()
    args = [
        "server",
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        f"--model_name={MODEL}",
        f"--model_base_path={model_dir.resolve()}",
    ]
    ready = lambda: http_get_ok(rest_port, f"/v1/models/{MODEL}")  # noqa: E731
    return ModuleSpec("server-clients-bench", args, ready), grpc_port


@dataclass(frozen=True)
class GrpcPaths:
    """Latency of each path, the message sizes, and the client's cost without the network."""

    latency: dict[str, Latency]
    request_bytes: int
    response_bytes: int
    client_work_us: dict[str, float]
    client_profile: list[dict[str, object]]


@contextlib.contextmanager
def _bare_stub(
    target: str, options: list[tuple[str, object]]
) -> Iterator[Callable[[], Any]]:  # the call returns a PredictResponse
    # Imported here: TensorFlow takes seconds to load, and only this path needs it.
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs[INPUT].CopyFrom(tf.make_tensor_proto(np.array([1.0], np.float32)))
    channel = grpc.insecure_channel(target, options=options)
    try:
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        yield lambda: stub.Predict(request, timeout=TIMEOUT)
    finally:
        channel.close()


def profile_calls(call: Call, calls: int, limit: int = 12) -> list[dict[str, object]]:
    """cProfile of `calls` calls: the functions with the most own time, in us per call."""
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [call() for _ in range(calls)])
    # {(file, line, name): (cc, nc, tt, ct, callers)}
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # not in typeshed
    rows = [
        {
            "function": f"{Path(file).name}:{line}({name})",
            "calls_per_call": nc / calls,
            "own_us": tt / calls * 1e6,
            "cumulative_us": ct / calls * 1e6,
        }
        for (file, line, name), (_cc, nc, tt, ct, _callers) in stats.items()
    ]
    rows.sort(key=lambda row: row["own_us"], reverse=True)
    return rows[:limit]


def _client_work(response_bytes: bytes, repeat: int, min_seconds: float) -> dict[str, float]:
    """Microseconds the client spends building the request and reading the response."""
    target, inputs = ModelTarget(MODEL), {INPUT: np.array([1.0], np.float32)}
    response = protos.PredictResponse.FromString(response_bytes)
    calls = {
        "build_request": lambda: grpc_messages.predict_request(target, inputs, None),
        "serialize_request": grpc_messages.predict_request(target, inputs, None).SerializeToString,
        "parse_response": lambda: protos.PredictResponse.FromString(response_bytes),
        "decode_outputs": lambda: grpc_messages.predict_outputs(response),
    }
    return best_of(calls, repeat, min_seconds)


def time_grpc_paths(
    grpc_port: int, requests: int, warmup: int, profile_requests: int = 500
) -> GrpcPaths:
    """Interleaved rounds of the client's predict and the bare stub's, on the same server.

    Besides the bare stub on a plain channel (the target's reference), the bare stub also
    runs on a channel with the client's own options, to tell channel settings from code.

    Raises:
        grpc.FutureTimeoutError: a bare channel did not connect.
        ServingClientError: the client's predict failed.
    """
    target = f"{HOST}:{grpc_port}"
    x = np.array([1.0], np.float32)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(GrpcClient(target, timeout=TIMEOUT))
        bare = stack.enter_context(_bare_stub(target, []))
        bare_options = stack.enter_context(_bare_stub(target, channel_options()))
        reply = bare()
        outputs = client.predict(MODEL, {INPUT: x})
        if not np.allclose(outputs["y"], 0.5 * x + 2):
            raise RuntimeError(f"{MODEL} answered {outputs} to {x}")
        calls = {
            "client": lambda: client.predict(MODEL, {INPUT: x}),
            "bare_stub": bare,
            "bare_stub_client_options": bare_options,
        }
        counts = dict.fromkeys(calls, requests)
        latency = time_interleaved(calls, counts, dict.fromkeys(calls, warmup), ROUNDS)
        profile = profile_calls(calls["client"], profile_requests)
    request_bytes = len(client_request_bytes(x))
    work = _client_work(reply.SerializeToString(), repeat=5, min_seconds=0.05)
    return GrpcPaths(latency, request_bytes, reply.ByteSize(), work, profile)


def client_request_bytes(x: np.ndarray) -> bytes:
    """The PredictRequest the client sends for x, serialized."""
    request = grpc_messages.predict_request(ModelTarget(MODEL), {INPUT: x}, None)
    serialized: bytes = request.SerializeToString()
    return serialized


@contextlib.contextmanager
def fixture_server(models: Path, logs: Path) -> Iterator[int]:
    """Our server on the fixture model in its own process; yields its gRPC port.

    Raises:
        RuntimeError: the fixture could not be built or the server did not start.
    """
    spec, port = server_spec(ensure_fixture(models))
    with run_modules([spec], logs):
        yield port
