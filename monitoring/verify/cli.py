"""`python -m monitoring verify`: does the live server answer the held-out split as exported?

Sends the version's whole test split over REST and/or gRPC, compares every answer with the
in-process SavedModel, recomputes the model card's test metrics from the served answers and
checks p99 latency against the SLO. Exit status: 0 every check passed, 1 a check failed,
2 the verification could not run (bad options, no server, no exported version).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clients.errors import ServingClientError
from launcher import add_local_server_arguments
from monitoring.verify.checks import VerifySettings, verify_deployment
from monitoring.verify.savedmodel import SavedModelError

__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_OK", "add_arguments", "run"]

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
DEFAULTS = VerifySettings("")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rest", metavar="URL", help="e.g. http://127.0.0.1:8501")
    parser.add_argument("--grpc", metavar="HOST:PORT", help="e.g. 127.0.0.1:8500")
    parser.add_argument("--model", required=True)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, help="default: the latest AVAILABLE version")
    which.add_argument("--label", help="a version label, e.g. canary")
    parser.add_argument(
        "--models-root", type=Path, default=DEFAULTS.models_root, help="the exported versions"
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    parser.add_argument("--slo-p99-ms", type=float, default=DEFAULTS.slo_p99_ms)
    parser.add_argument(
        "--rtol", type=float, default=DEFAULTS.rtol, help="served floats vs the SavedModel's"
    )
    parser.add_argument("--atol", type=float, default=DEFAULTS.atol)
    parser.add_argument(
        "--metrics-rtol",
        type=float,
        default=DEFAULTS.metrics_rtol,
        help="recomputed metrics vs the card's, relative",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULTS.timeout, help="per request, s")
    parser.add_argument("--json", type=Path, help="write the verdict here")
    add_local_server_arguments(
        parser,
        rest_option="--rest",
        grpc_option="--grpc",
        used_for="the verification",
        log=Path("build/verify-server.log"),
    )


def run(args: argparse.Namespace) -> int:
    if args.start_server is None:
        return _verify(args)
    from launcher import StartError, ensure_server

    if not (args.rest and args.grpc):
        print("verify: --start-server needs both --rest and --grpc", file=sys.stderr)
        return EXIT_ERROR
    server = ensure_server(
        args.rest,
        args.grpc,
        args.start_server,
        model=args.model,
        server_args=args.server_args,
        log_path=args.server_log,
    )
    try:
        with server:
            return _verify(args)
    except StartError as err:
        print(f"verify: {err}", file=sys.stderr)
        return EXIT_ERROR


def _verify(args: argparse.Namespace) -> int:
    from monitoring import reference

    hosts = {t: h for t, h in (("rest", args.rest), ("grpc", args.grpc)) if h}
    try:
        if not hosts:
            raise ValueError("give --rest URL, --grpc HOST:PORT, or both")
        settings = VerifySettings(
            args.model,
            models_root=args.models_root,
            version=args.version,
            label=args.label,
            batch_size=args.batch_size,
            slo_p99_ms=args.slo_p99_ms,
            rtol=args.rtol,
            atol=args.atol,
            metrics_rtol=args.metrics_rtol,
            timeout=args.timeout,
        )
        result = verify_deployment(hosts, settings)
    except (
        ServingClientError,
        reference.ReferenceError,
        SavedModelError,
        ValueError,
        OSError,
    ) as err:
        print(f"verify: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(result.text())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return EXIT_OK if result.passed else EXIT_FAILED
