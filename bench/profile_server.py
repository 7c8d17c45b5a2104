"""`python -m bench.profile_server`: where the server's time per Predict goes, beyond the model.

Builds the server in-process as `python -m server` does (the bench's flags, the models loaded,
warmup run), then calls its gRPC PredictionService.Predict servicer and its REST dispatcher
directly, with the bench's own request (bench/workload.py), and no sockets:

- gRPC: the request bytes parsed as grpcio's deserializer does, Predict, the response
  serialized;
- REST: the request head parsed as the HTTP connection does, then Dispatcher.respond (route,
  the /v1 handler, the response bytes).

Per transport it prints the time per request in the caller's thread, CPU (time.thread_time,
which TF's own threads and other processes leave alone) and wall, and the part outside the
Session run (the server's overhead), as the median of --rounds interleaved rounds; then the
top entries of a cProfile pass, by cumulative and by own time.

    python -m bench.profile_server --models build/test-models/<digest> [--transport grpc|rest]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, cast

import grpc

import tflog

tflog.quiet()

from tensorflow_serving.apis import predict_pb2  # noqa: E402

from bench.workload import Workload, load_workload  # noqa: E402
from runtime.bundle import SessionBundle  # noqa: E402
from server.app import ModelServer  # noqa: E402
from server.flags import parse_flags, validate  # noqa: E402
from server.http.dispatch import Dispatcher  # noqa: E402
from server.http.parsing import parse_head  # noqa: E402

TRANSPORTS = ("grpc", "rest")
GRPC_TIMEOUT = (
    60.0  # seconds: the bench's client deadline, which the server turns into a run timeout
)


class ProfileError(RuntimeError):
    """A profiled call did not succeed, so its timings would mean nothing."""


class SessionClock:
    """Time spent in SessionBundle._session_run (the Session::Run), wall and caller-thread CPU."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self.calls = 0
        original = SessionBundle._session_run

        def timed(bundle: SessionBundle, *args: Any) -> list[Any]:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(bundle, *args)
            finally:
                self.cpu += time.thread_time() - cpu
                self.wall += time.perf_counter() - wall
                self.calls += 1

        SessionBundle._session_run = timed  # type: ignore[method-assign, assignment]

    def reset(self) -> None:
        self.wall, self.cpu, self.calls = 0.0, 0.0, 0


class GrpcContext:
    """The part of grpc.ServicerContext the PredictionService reads on success."""

    def __init__(self) -> None:
        self._deadline = time.monotonic() + GRPC_TIMEOUT

    def time_remaining(self) -> float:
        return self._deadline - time.monotonic()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("user-agent", "grpc-python/profile"),)

    def abort(self, code: Any, details: str) -> NoReturn:
        raise ProfileError(f"Predict failed: {code}: {details}")


def build_server(workload: Workload, extra_flags: Sequence[str] = ()) -> ModelServer:
    """The server the bench starts (its flags), with its models loaded; no port is opened."""
    options = parse_flags(
        [
            "--port=8500",
            "--rest_api_port=8501",
            f"--model_name={workload.model}",
            f"--model_base_path={workload.version_dir.parent.resolve()}",
            *extra_flags,
        ]
    )
    validate(options)
    server = ModelServer(options)
    server.load_models()
    return server


def grpc_call(server: ModelServer, workload: Workload) -> Callable[[], bytes]:
    """One Predict as grpcio serves it: parse the request bytes, call, serialize the answer."""
    service = server.prediction_service()
    raw = workload.request.SerializeToString()
    parse = predict_pb2.PredictRequest.FromString

    def call() -> bytes:
        context = cast(grpc.ServicerContext, GrpcContext())
        response: predict_pb2.PredictResponse = service.Predict(parse(raw), context)
        return response.SerializeToString()  # type: ignore[no-any-return]

    return call


def rest_call(server: ModelServer, workload: Workload) -> Callable[[], bytes]:
    """One POST as the HTTP connection serves it: parse the head, dispatch, encode."""
    dispatcher = Dispatcher(server.rest_api(), {}, server.options.rest_api_gzip_limit_bytes)
    body = workload.rest_body
    # The head http.client sends for the bench's HttpPost.
    head = (
        f"POST {workload.rest_path} HTTP/1.1\r\nHost: 127.0.0.1:8501\r\n"
        f"Accept-Encoding: identity\r\nContent-Length: {len(body)}\r\n"
        "Content-Type: application/json"
    ).encode("latin-1")

    def call() -> bytes:
        response, _ = dispatcher.respond(parse_head(head), body)
        return response

    answer = call()
    if not answer.startswith(b"HTTP/1.1 200 "):
        raise ProfileError(f"REST predict failed: {answer[-300:]!r}")
    return call


@dataclass(frozen=True)
class Round:
    """Per-request means of one round, in µs."""

    cpu: float
    wall: float
    session_cpu: float
    session_wall: float

    @property
    def overhead_cpu(self) -> float:
        return self.cpu - self.session_cpu

    @property
    def overhead_wall(self) -> float:
        return self.wall - self.session_wall


def time_round(call: Callable[[], bytes], n: int, clock: SessionClock) -> Round:
    clock.reset()
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(n):
        call()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    if clock.calls != n:
        raise ProfileError(f"{clock.calls} Session runs for {n} requests")
    scale = 1e6 / n
    return Round(cpu * scale, wall * scale, clock.cpu * scale, clock.wall * scale)


def median_round(rounds: list[Round]) -> Round:
    return Round(
        statistics.median(r.cpu for r in rounds),
        statistics.median(r.wall for r in rounds),
        statistics.median(r.session_cpu for r in rounds),
        statistics.median(r.session_wall for r in rounds),
    )


def profile_text(call: Callable[[], bytes], n: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    for key in ("cumulative", "tottime"):
        out.write(f"--- by {key} ---\n")
        stats.sort_stats(key).print_stats(top)
    return out.getvalue()


def _say(text: str = "") -> None:
    # A CLI's result goes to stdout (library code logs instead).
    sys.stdout.write(text + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_server", description=__doc__)
    parser.add_argument("--models", type=Path, required=True, help="the models root")
    parser.add_argument("--model", default="tabular")
    parser.add_argument("--transport", choices=[*TRANSPORTS, "both"], default="both")
    parser.add_argument("--n", type=int, default=2000, help="requests per round and per profile")
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed rounds, transports alternating"
    )
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests first")
    parser.add_argument("--top", type=int, default=30, help="profile entries to print")
    parser.add_argument("--no-profile", action="store_true", help="timings only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    workload = load_workload(args.models, args.model)
    server = build_server(workload)
    transports = TRANSPORTS if args.transport == "both" else (args.transport,)
    makers = {"grpc": grpc_call, "rest": rest_call}
    calls = {name: makers[name](server, workload) for name in transports}
    clock = SessionClock()
    for call in calls.values():
        for _ in range(args.warmup):
            call()
    rounds: dict[str, list[Round]] = {name: [] for name in calls}
    for _ in range(args.rounds):
        for name, call in calls.items():
            rounds[name].append(time_round(call, args.n, clock))
    _say(f"model {workload.model} from {workload.version_dir}; {args.rounds} x {args.n} requests")
    _say(
        f"{'':5} {'cpu µs':>8} {'session':>8} {'overhead':>9}   {'wall µs':>8} {'session':>8} "
        f"{'overhead':>9}   (median of rounds; cpu = caller thread)"
    )
    for name, each in rounds.items():
        r = median_round(each)
        spread = [round(x.overhead_cpu, 1) for x in each]
        _say(
            f"{name:5} {r.cpu:8.1f} {r.session_cpu:8.1f} {r.overhead_cpu:9.1f}   "
            f"{r.wall:8.1f} {r.session_wall:8.1f} {r.overhead_wall:9.1f}   cpu overheads {spread}"
        )
    if not args.no_profile:
        for name, call in calls.items():
            _say(f"\n===== cProfile: {name}, {args.n} requests =====")
            _say(profile_text(call, args.n, args.top))
    server.repository.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
