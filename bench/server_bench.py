"""`python -m bench server`: our server against the floor and FastAPI, then batching off vs on."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from bench.callers import HttpPost, grpc_channel, http_get_ok
from bench.measure import Call, ConcurrentRun, Throughput, run_concurrent, time_interleaved
from bench.processes import ROOT, ModuleSpec, free_port, port_open, run_modules
from bench.report import ServerBenchResult
from bench.signature_call import ObjectSignatureCall, SessionCall
from bench.workload import Workload, load_workload

log = logging.getLogger(__name__)

SHIPPED_BATCHING = ROOT / "serving_config" / "batching_parameters.txt"
TIMEOUT = 60.0  # seconds per call; only a hung server gets near it
ROUNDS = 10  # single-client latency: every path gets a slice of its requests per round
CONCURRENT_ROUNDS = 4  # batching off and on alternate this many times


@dataclass(frozen=True)
class ServerBenchOptions:
    """Request counts and paths for one run."""

    models: Path
    out: Path
    requests: int = 2000
    warmup: int = 200
    baseline_requests: int = 200
    baseline_warmup: int = 10
    clients: int = 32
    requests_per_client: int = 100
    batching_parameters: Path = SHIPPED_BATCHING
    server_flags: tuple[str, ...] = ()  # extra flags for both of our servers

    @property
    def logs(self) -> Path:
        return self.out / "logs"


@dataclass(frozen=True)
class OurServer:
    """Ports of one embedded server process and how to start it."""

    spec: ModuleSpec
    grpc_port: int
    rest_port: int


def _our_server(workload: Workload, options: ServerBenchOptions, batching: bool) -> OurServer:
    grpc_port, rest_port = free_port(), free_port()
    flags = [
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        f"--model_name={workload.model}",
        f"--model_base_path={workload.version_dir.parent.resolve()}",
        *options.server_flags,
    ]
    if batching:
        flags += ["--enable_batching", f"--batching_parameters_file={options.batching_parameters}"]
    status = f"/v1/models/{workload.model}"
    name = "server-batching-" + ("on" if batching else "off")
    spec = ModuleSpec(name, ["server", *flags], lambda: http_get_ok(rest_port, status))
    return OurServer(spec, grpc_port, rest_port)


def _fastapi(workload: Workload) -> tuple[ModuleSpec, int]:
    port = free_port()
    args = [
        "bench.fastapi_baseline",
        f"--model-dir={workload.version_dir.resolve()}",
        f"--model-name={workload.model}",
        f"--port={port}",
    ]
    return ModuleSpec("fastapi-baseline", args, lambda: port_open(port)), port


def _echo(
    transport: str, reply: bytes, options: ServerBenchOptions, session: Workload | None = None
) -> tuple[ModuleSpec, int]:
    """The echo server of `transport`; with `session`, the composed floor (the echo that also
    runs that workload's Session run per request)."""
    reply_file = options.out / f"echo-{transport}-reply.bin"
    reply_file.write_bytes(reply)
    port = free_port()
    args = ["bench.floor", transport, f"--port={port}", f"--reply-file={reply_file}"]
    name = f"echo-{transport}"
    if session is not None:
        args += [
            f"--session-models={session.version_dir.parent.parent.resolve()}",
            f"--session-model={session.model}",
        ]
        name += "-session"
    return ModuleSpec(name, args, lambda: port_open(port)), port


@contextlib.contextmanager
def _grpc_predict(
    port: int, request: predict_pb2.PredictRequest
) -> Iterator[Callable[[], predict_pb2.PredictResponse]]:
    channel = grpc_channel(port)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    try:
        yield lambda: stub.Predict(request, timeout=TIMEOUT)
    finally:
        channel.close()


@contextlib.contextmanager
def _http_post(port: int, workload: Workload) -> Iterator[HttpPost]:
    call = HttpPost(port, workload.rest_path, workload.rest_body, timeout=TIMEOUT)
    try:
        yield call
    finally:
        call.close()


def _concurrent_grpc(port: int, workload: Workload, clients: int, requests: int) -> ConcurrentRun:
    # One channel (one HTTP/2 connection), a stub per client thread, as a client pool would.
    channel = grpc_channel(port)
    try:

        def make_call() -> Call:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            return lambda: stub.Predict(workload.request, timeout=TIMEOUT)

        return run_concurrent(make_call, clients, requests, warmup=2)
    finally:
        channel.close()


def _batching_throughput(
    off: OurServer, on: OurServer, workload: Workload, options: ServerBenchOptions
) -> tuple[Throughput, Throughput]:
    per_round = max(1, options.requests_per_client // CONCURRENT_ROUNDS)
    runs: dict[str, list[ConcurrentRun]] = {"off": [], "on": []}
    for _ in range(CONCURRENT_ROUNDS):
        for key, server in (("off", off), ("on", on)):
            runs[key].append(
                _concurrent_grpc(server.grpc_port, workload, options.clients, per_round)
            )
    return Throughput.from_runs(runs["off"]), Throughput.from_runs(runs["on"])


def run_server_bench(options: ServerBenchOptions) -> ServerBenchResult:
    """Start every server in its own process, then time each path in interleaved rounds.

    Raises:
        WorkloadError: the models folder lacks the model or its warmup requests.
        RuntimeError: a server process failed to start.
    """
    options.out.mkdir(parents=True, exist_ok=True)
    workload = load_workload(options.models)
    log.info("model %s from %s", workload.model, workload.version_dir)
    load_at_start = os.getloadavg()
    off = _our_server(workload, options, batching=False)
    on = _our_server(workload, options, batching=True)
    fastapi_spec, fastapi_port = _fastapi(workload)
    with contextlib.ExitStack() as stack:
        stack.enter_context(run_modules([off.spec, on.spec, fastapi_spec], options.logs))
        grpc_ours = stack.enter_context(_grpc_predict(off.grpc_port, workload.request))
        rest_ours = stack.enter_context(_http_post(off.rest_port, workload))
        # The echo servers answer with our real responses, so reply sizes match byte for byte.
        grpc_reply, rest_reply = grpc_ours().SerializeToString(), rest_ours()
        grpc_echo_spec, grpc_echo_port = _echo("grpc", grpc_reply, options)
        http_echo_spec, http_echo_port = _echo("http", rest_reply, options)
        grpc_composed_spec, grpc_composed_port = _echo("grpc", grpc_reply, options, workload)
        http_composed_spec, http_composed_port = _echo("http", rest_reply, options, workload)
        stack.enter_context(
            run_modules(
                [grpc_echo_spec, http_echo_spec, grpc_composed_spec, http_composed_spec],
                options.logs,
            )
        )
        calls: dict[str, Call] = {
            "grpc": grpc_ours,
            "rest": rest_ours,
            # The gRPC echo listens on Predict's path: the very same stub and request are used.
            "grpc_echo": stack.enter_context(_grpc_predict(grpc_echo_port, workload.request)),
            "http_echo": stack.enter_context(_http_post(http_echo_port, workload)),
            "grpc_composed": stack.enter_context(
                _grpc_predict(grpc_composed_port, workload.request)
            ),
            "http_composed": stack.enter_context(_http_post(http_composed_port, workload)),
            "signature_call": SessionCall(workload),
            "tf2_signature_call": ObjectSignatureCall(workload),
            "fastapi": stack.enter_context(_http_post(fastapi_port, workload)),
        }
        requests = {name: options.requests for name in calls} | {
            "fastapi": options.baseline_requests
        }
        warmup = {name: options.warmup for name in calls} | {"fastapi": options.baseline_warmup}
        log.info("single client: %d rounds over %s", ROUNDS, ", ".join(calls))
        latency = time_interleaved(calls, requests, warmup, ROUNDS)
        log.info("%d concurrent gRPC clients: batching off and on, alternating", options.clients)
        batching_off, batching_on = _batching_throughput(off, on, workload, options)
    settings = {
        **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "rounds": ROUNDS,
        "concurrent_rounds": CONCURRENT_ROUNDS,
        "model": workload.model,
        "model_version_dir": str(workload.version_dir),
        "grpc_request_bytes": workload.request.ByteSize(),
        "grpc_response_bytes": len(grpc_reply),
        "rest_request_bytes": len(workload.rest_body),
        "rest_response_bytes": len(rest_reply),
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
    }
    return ServerBenchResult(
        grpc=latency["grpc"],
        rest=latency["rest"],
        grpc_echo=latency["grpc_echo"],
        http_echo=latency["http_echo"],
        grpc_composed=latency["grpc_composed"],
        http_composed=latency["http_composed"],
        signature_call=latency["signature_call"],
        tf2_signature_call=latency["tf2_signature_call"],
        fastapi=latency["fastapi"],
        batching_off=batching_off,
        batching_on=batching_on,
        settings=settings,
    )
