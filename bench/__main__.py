"""`python -m bench`: performance benchmarks of the server (`server`) and the client (`clients`)."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tflog

tflog.quiet()

QUICK = {
    "requests": 300,
    "warmup": 30,
    "baseline_requests": 20,
    "baseline_warmup": 3,
    "requests_per_client": 10,
}
FULL = {
    "requests": 2000,
    "warmup": 200,
    "baseline_requests": 200,
    "baseline_warmup": 10,
    "requests_per_client": 100,
}
CLIENTS_QUICK = {
    "import_runs": 2,
    "tf_import_runs": 1,
    "codec_repeat": 3,
    "codec_min_seconds": 0.02,
    "requests": 300,
    "warmup": 30,
}
CLIENTS_FULL = {
    "import_runs": 7,
    "tf_import_runs": 3,
    "codec_repeat": 7,
    "codec_min_seconds": 0.1,
    "requests": 3000,
    "warmup": 200,
}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Performance benchmarks of the serving bundle."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server = commands.add_parser(
        "server",
        help="latency of our server against the floor and a FastAPI baseline; batching throughput",
        description=(
            "Model tabular, batch 1, one client on loopback: p50/p99 of gRPC and REST Predict "
            "next to bare echo servers plus the in-process signature call (the floor) and a "
            "FastAPI + Keras app (the baseline); then 32 concurrent gRPC clients with batching "
            "off and on. Every server runs in its own process. Writes OUT/server.json and "
            "OUT/server.md; exits 0 whether or not targets are met."
        ),
    )
    server.add_argument(
        "--models",
        type=Path,
        default=Path("models"),
        metavar="DIR",
        help="models folder holding tabular/<version> (default: %(default)s)",
    )
    server.add_argument(
        "--out",
        type=Path,
        default=Path("build/bench"),
        metavar="DIR",
        help="where server.json, server.md and server logs go (default: %(default)s)",
    )
    server.add_argument(
        "--quick",
        action="store_true",
        help=f"small counts for a smoke run: {QUICK['requests']} requests per path",
    )
    server.add_argument(
        "--requests",
        type=int,
        metavar="N",
        help=f"timed requests per path (default: {FULL['requests']})",
    )
    server.add_argument(
        "--warmup",
        type=int,
        metavar="N",
        help=f"untimed requests first (default: {FULL['warmup']})",
    )
    server.add_argument(
        "--baseline-requests",
        type=int,
        metavar="N",
        help=f"timed requests to the slow FastAPI baseline (default: {FULL['baseline_requests']})",
    )
    server.add_argument(
        "--clients",
        type=int,
        default=32,
        metavar="N",
        help="concurrent gRPC clients for the batching runs (default: %(default)s)",
    )
    server.add_argument(
        "--requests-per-client",
        type=int,
        metavar="N",
        help=f"timed requests per concurrent client (default: {FULL['requests_per_client']})",
    )
    server.add_argument(
        "--batching-parameters",
        type=Path,
        metavar="FILE",
        help="BatchingParameters for the batching-on run (default: the shipped file)",
    )
    server.add_argument(
        "--server-flag",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra flag for both of our servers, e.g. --server-flag=--grpc_max_threads=64 "
        "(repeatable)",
    )
    _add_clients_parser(commands)
    _add_loadgen_parser(commands)
    return parser


def _add_loadgen_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    loadgen = commands.add_parser(
        "loadgen",
        help="the load test's reported REST latency beside wrk's on the same server",
        description=(
            "One embedded server; wrk (one connection, a delay after each answer) and the load "
            "test (paced, open loop) take turns at about RATE req/s on model status and on a "
            "batch-1 Predict. Reports each p50 and the difference (target: the load test at "
            "most 0.5 ms above wrk). Needs wrk (Debian: apt-get install wrk). Writes "
            "OUT/loadgen.json and OUT/loadgen.md; exits 0 whether or not the target is met."
        ),
    )
    loadgen.add_argument("--models", type=Path, default=Path("models"), metavar="DIR")
    loadgen.add_argument("--out", type=Path, default=Path("build/bench"), metavar="DIR")
    loadgen.add_argument("--model", default="tabular")
    loadgen.add_argument("--rate", type=float, default=100.0, help="req/s (default: %(default)s)")
    loadgen.add_argument(
        "--seconds", type=float, default=15.0, help="per run (default: %(default)s)"
    )
    loadgen.add_argument(
        "--rounds", type=int, default=2, help="wrk/load test pairs (default: %(default)s)"
    )


def _add_clients_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    clients = commands.add_parser(
        "clients",
        help="import cost, tensor conversion and gRPC overhead of clients/ against TensorFlow's",
        description=(
            "Import time and memory of `clients` against tensorflow-serving-api + TensorFlow "
            "in fresh processes; numpy <-> TensorProto against tf.make_tensor_proto / "
            "tf.make_ndarray; gRPC Predict p50 through GrpcClient against a bare stub with a "
            "prebuilt request, on our server with the half_plus_two test model. Writes "
            "OUT/clients.json and OUT/clients.md; exits 0 whether or not targets are met."
        ),
    )
    clients.add_argument(
        "--out",
        type=Path,
        default=Path("build/bench"),
        metavar="DIR",
        help="where clients.json, clients.md and server logs go (default: %(default)s)",
    )
    clients.add_argument(
        "--models",
        type=Path,
        metavar="DIR",
        help="folder holding half_plus_two/, built there by tests.fixtures.models when "
        "missing (default: OUT/fixture-models)",
    )
    clients.add_argument(
        "--quick",
        action="store_true",
        help=f"small counts for a smoke run: {CLIENTS_QUICK['requests']} gRPC calls per path",
    )
    clients.add_argument(
        "--import-runs",
        type=int,
        metavar="N",
        help=f"fresh processes per import statement (default: {CLIENTS_FULL['import_runs']}; "
        f"{CLIENTS_FULL['tf_import_runs']} for TensorFlow's)",
    )
    clients.add_argument(
        "--requests",
        type=int,
        metavar="N",
        help=f"timed gRPC calls per path (default: {CLIENTS_FULL['requests']})",
    )


def _clients(args: argparse.Namespace, command: str) -> int:
    from bench.clients_bench import ClientsBenchOptions, run_clients_bench
    from bench.clients_report import markdown, to_document, write_files
    from bench.report import environment
    from bench.tables import verdict

    # options field -> value: ints and floats, then the command line's
    counts: dict[str, Any] = dict(CLIENTS_QUICK if args.quick else CLIENTS_FULL)
    for key in ("import_runs", "requests"):
        if getattr(args, key) is not None:
            counts[key] = getattr(args, key)
    models = args.models or args.out / "fixture-models"
    options = ClientsBenchOptions(out=args.out, models=models, **counts)
    try:
        result = run_clients_bench(options)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    document = to_document(result, environment(command))
    json_path, md_path = write_files(document, args.out)
    print(markdown(document))
    for target in document["targets"]:
        print(
            f"{verdict(target)}: {target['name']} (measured {target['value']:.3g}{target['unit']})"
        )
    print(f"\nwrote {json_path} and {md_path}")
    return 0


def _server(args: argparse.Namespace, command: str) -> int:
    from bench.report import environment, to_document, write_files
    from bench.server_bench import ServerBenchOptions, run_server_bench
    from bench.tables import markdown, verdict
    from bench.workload import WorkloadError

    # options field -> value: ints, then the command line's
    counts: dict[str, Any] = dict(QUICK if args.quick else FULL)
    for key in ("requests", "warmup", "baseline_requests", "requests_per_client"):
        if getattr(args, key) is not None:
            counts[key] = getattr(args, key)
    extra = {"batching_parameters": args.batching_parameters} if args.batching_parameters else {}
    options = ServerBenchOptions(
        models=args.models,
        out=args.out,
        clients=args.clients,
        server_flags=tuple(args.server_flag),
        **counts,
        **extra,
    )
    try:
        result = run_server_bench(options)
    except WorkloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    document = to_document(result, environment(command))
    json_path, md_path = write_files(document, args.out)
    print(markdown(document))
    for target in document["targets"]:
        print(f"{verdict(target)}: {target['name']} (measured {target['value']:.2f}x)")
    print(f"\nwrote {json_path} and {md_path}")
    return 0


def _loadgen(args: argparse.Namespace) -> int:
    from bench.loadgen_accuracy import LoadgenOptions, WrkError, measure_loadgen, write_loadgen

    options = LoadgenOptions(
        args.models, args.out, args.model, args.rate, args.seconds, args.rounds
    )
    try:
        results = measure_loadgen(options)
    except (WrkError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    markdown = write_loadgen(results, options)
    print(markdown.read_text())
    print(f"wrote {markdown} and {markdown.with_suffix('.json')}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = _build_parser().parse_args(args_list)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    command = shlex.join(["python", "-m", "bench", *args_list])
    if args.command == "server":
        return _server(args, command)
    if args.command == "clients":
        return _clients(args, command)
    if args.command == "loadgen":
        return _loadgen(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
