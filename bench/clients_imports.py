"""What importing the client costs a fresh process: wall time and resident memory, per statement."""

from __future__ import annotations

import logging
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import cast

from bench.processes import ROOT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportCase:
    """One statement run in a fresh interpreter; `name` keys it in the report."""

    name: str
    statement: str
    note: str = ""


BASELINE = ImportCase("interpreter", "pass", "`python -c pass`: what every process pays")
CLIENT_CASES = (
    ImportCase("clients", "import clients", "the package alone; clients load on first use"),
    ImportCase("grpc_client", "from clients import GrpcClient", "what a gRPC service pays"),
    ImportCase("rest_client", "from clients import RestClient", "what a REST service pays"),
)
# The client's required dependencies alone: the floor under each client's import time.
DEPENDENCY_CASES = (
    ImportCase(
        "grpc_dependencies",
        "import numpy, grpc, google.protobuf.message",
        "GrpcClient's dependencies alone",
    ),
    ImportCase(
        "rest_dependencies",
        "import numpy, requests, google.protobuf.message",
        "RestClient's dependencies alone",
    ),
)
TF_CASES = (
    ImportCase(
        "tensorflow_serving_apis",
        "import tensorflow_serving.apis",
        "a namespace package: loads none of the API modules",
    ),
    ImportCase(
        "tensorflow_serving_apis_and_tf",
        "import tensorflow\n"
        "from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc",
        "what a service on the official API pays: its stubs and tf.make_tensor_proto",
    ),
)

# Runs inside the measured process. Nothing is imported before the statement but `time`,
# which the interpreter has loaded anyway; memory is read from /proc, so no module either.
_PROBE = """\
import time
_started = time.perf_counter()
exec(compile({statement!r}, "<measured>", "exec"))
_seconds = time.perf_counter() - _started
with open("/proc/self/status") as _status:
    _kb = dict(l.split(":", 1) for l in _status if l.startswith(("VmRSS", "VmHWM")))
print("MEASURED", _seconds, int(_kb["VmRSS"].split()[0]), int(_kb["VmHWM"].split()[0]))
"""
_MEASURED = re.compile(r"^MEASURED (\S+) (\d+) (\d+)$", re.MULTILINE)
_IMPORT_TIME = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|( +)(\S+)$", re.MULTILINE)
OUR_PACKAGE = "clients"


@dataclass(frozen=True)
class ImportCost:
    """Medians over fresh processes: import seconds, RSS after it and peak RSS, in MB."""

    statement: str
    note: str
    runs: int
    import_seconds: float
    min_import_seconds: float  # the least disturbed run, for a sense of the noise
    rss_mb: float
    peak_rss_mb: float
    process_seconds: float  # interpreter start, the import and exit, seen from outside

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _env() -> dict[str, str]:
    # Bytecode caches allowed, as after a pip install: the untimed first run writes any that
    # are missing, so timed runs measure importing, not compiling our sources.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run_once(statement: str, timeout: float) -> tuple[float, float, float, float]:
    code = _PROBE.format(statement=statement)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - started
    match = _MEASURED.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(
            f"`{statement}` failed in a fresh process (exit {done.returncode}):\n"
            f"{done.stderr[-2000:]}"
        )
    seconds, rss_kb, peak_kb = float(match[1]), int(match[2]), int(match[3])
    return seconds, rss_kb / 1024, peak_kb / 1024, elapsed


def measure_import(
    case: ImportCase, runs: int, warmup_runs: int = 1, timeout: float = 300.0
) -> ImportCost:
    """Run the case's statement in `runs` fresh interpreters; keep the median of each number.

    `warmup_runs` untimed runs go first, so every timed run finds the files in the page cache.

    Raises:
        RuntimeError: the statement failed in the subprocess.
        subprocess.TimeoutExpired: a run took longer than `timeout` seconds.
    """
    for _ in range(warmup_runs):
        _run_once(case.statement, timeout)
    samples = [_run_once(case.statement, timeout) for _ in range(runs)]
    seconds, rss, peak, elapsed = (
        statistics.median(column) for column in zip(*samples, strict=True)
    )
    log.info("%s: %.3f s, %.1f MB (median of %d)", case.statement, seconds, peak, runs)
    fastest = min(sample[0] for sample in samples)
    return ImportCost(case.statement, case.note, runs, seconds, fastest, rss, peak, elapsed)


def _import_tree(statement: str) -> list[tuple[str, float, int]]:
    """(module, own milliseconds, depth) per import, parents before their children."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`{statement}` failed under -X importtime:\n{done.stderr[-2000:]}")
    rows = [
        (module, int(self_us) / 1e3, (len(indent) - 1) // 2)
        for self_us, indent, module in _IMPORT_TIME.findall(done.stderr)
    ]
    return rows[::-1]  # -X importtime prints a module after everything it imported


def import_profile(statement: str, limit: int = 8, min_ms: float = 2.0) -> list[dict[str, object]]:
    """Where the statement's import time goes, per dependency our code imports (one run).

    Each module's own time (`python -X importtime`, children excluded) is charged to the
    outermost module above it that is not ours, by top-level package: ssl pulled in by
    asyncio, pulled in by clients.retry, counts as asyncio. Time in clients' own modules
    counts as clients. Modules the interpreter imports at startup are left out.

    Raises:
        RuntimeError: the statement failed in the subprocess.
    """
    startup = {module for module, _, _ in _import_tree(BASELINE.statement)}
    totals: dict[str, float] = {}
    ancestors: list[str] = []
    for module, ms, depth in _import_tree(statement):
        ancestors = [*ancestors[:depth], module]
        if module in startup:
            continue
        owner = next((m for m in ancestors if m.split(".")[0] != OUR_PACKAGE), OUR_PACKAGE)
        package = owner.split(".")[0]
        totals[package] = totals.get(package, 0.0) + ms
    rows = [{"package": p, "ms": ms} for p, ms in totals.items() if ms >= min_ms]
    rows.sort(key=lambda row: cast(float, row["ms"]), reverse=True)  # ms: the floats above
    return rows[:limit]
