"""`python -m bench loadgen`: the load test's reported latency beside wrk's, on the same server.

What is compared, on one embedded server (batching off) on loopback, one connection each:

- **wrk** (Debian's, written in C): one thread, one connection, a Lua script that sends the
  load test's own request bodies in turn and waits a fixed delay after each answer, so it sends
  at about RATE requests per second. wrk times each request from its write to its answer; at
  this rate nothing queues, so that is what wrk2 would report too. Its p50 is the reference:
  what the server costs plus the least a client can add.
- **the load test** (`loadtest.runner.run_load`, its REST user, one user paced at RATE, open
  loop): its reported latency, measured from each request's intended send time, and its
  service time (from the actual send).

For two endpoints: model status (`GET /v1/models/M`, the cheapest answer the server has, so the
difference is almost all client) and a batch-1 Predict. The rounds alternate wrk and the load
test, and the medians over rounds are reported. The difference of p50s (load test minus wrk)
is the generator's own time in the reported latency; the target is at most 0.5 ms.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.callers import http_get_ok
from bench.processes import HOST, ModuleSpec, free_port, run_modules
from loadtest.runner import prepare, run_load
from loadtest.settings import LoadSettings

log = logging.getLogger(__name__)

TARGET_MS = 0.5  # the load test's p50 may exceed wrk's by at most this
Endpoint = Literal["status", "inference"]
ENDPOINTS: tuple[Endpoint, ...] = ("status", "inference")


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no result."""


@dataclass(frozen=True)
class LoadgenOptions:
    models: Path
    out: Path
    model: str = "tabular"
    rate: float = 100.0
    seconds: float = 15.0
    rounds: int = 2
    wrk: str = "wrk"


@dataclass
class EndpointResult:
    """One endpoint's p50s per round (ms) and the medians."""

    endpoint: str
    wrk_p50_ms: list[float] = field(default_factory=list)
    wrk_rps: list[float] = field(default_factory=list)
    loadtest_p50_ms: list[float] = field(default_factory=list)
    loadtest_service_p50_ms: list[float] = field(default_factory=list)
    loadtest_lag_p50_ms: list[float] = field(default_factory=list)
    loadtest_rps: list[float] = field(default_factory=list)

    @property
    def difference_ms(self) -> float:
        """Median over rounds of (load test p50 - wrk p50)."""
        pairs = zip(self.loadtest_p50_ms, self.wrk_p50_ms, strict=True)
        return statistics.median(ours - wrk for ours, wrk in pairs)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "difference_ms": round(self.difference_ms, 3),
            "target_ms": TARGET_MS,
            "met": self.difference_ms <= TARGET_MS,
        }


def _lua_string(data: bytes) -> str:
    """A Lua string literal holding data byte for byte (decimal escapes for everything odd)."""
    parts = []
    for byte in data:
        char = chr(byte)
        parts.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(parts) + '"'


def wrk_script(method: str, path: str, bodies: Sequence[bytes | None], delay_ms: int) -> str:
    """A wrk Lua script: the requests in turn, `delay_ms` after each answer, JSON at the end."""
    requests = []
    for body in bodies:
        if body is None:
            requests.append(f'wrk.format("{method}", "{path}")')
        else:
            headers = '{["Content-Type"] = "application/json"}'
            requests.append(f'wrk.format("{method}", "{path}", {headers}, {_lua_string(body)})')
    return "\n".join(
        [
            "local requests = {}",
            "local i = 0",
            "function init(args)",
            *(f"  requests[{n + 1}] = {r}" for n, r in enumerate(requests)),
            "end",
            "function request()",
            "  i = i % #requests + 1",
            "  return requests[i]",
            "end",
            f"function delay() return {delay_ms} end",
            "function done(summary, latency, requests)",
            "  local e = summary.errors",
            '  io.write(string.format(\'WRK_RESULT {"requests": %d, "duration_us": %d, '
            '"p50_us": %d, "p99_us": %d, "errors": %d, "non_2xx": %d}\\n\', '
            "summary.requests, summary.duration, latency:percentile(50), "
            "latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))",
            "end",
            "",
        ]
    )


def run_wrk(wrk: str, url: str, script: Path, seconds: float) -> dict[str, float]:
    """Run wrk (one thread, one connection) and return its WRK_RESULT numbers.

    Raises:
        WrkError: wrk is not installed, exits non-zero, or reports errors or no result.
    """
    if shutil.which(wrk) is None:
        raise WrkError(f"{wrk} is not installed (Debian: apt-get install wrk)")
    command = [wrk, "-t1", "-c1", f"-d{max(1, round(seconds))}s", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise WrkError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    for line in done.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            result: dict[str, float] = json.loads(line.removeprefix("WRK_RESULT "))
            if result["errors"] or result["non_2xx"]:
                raise WrkError(f"wrk saw failed requests: {result}")
            return result
    raise WrkError(f"wrk printed no result: {done.stdout.strip()}")


def _settings(options: LoadgenOptions, rest_port: int, endpoint: Endpoint) -> LoadSettings:
    return LoadSettings(
        model=options.model,
        transport="rest",
        endpoint=endpoint,
        models_root=options.models.resolve(),
        host=f"http://{HOST}:{rest_port}",
        users=1,
        rate=options.rate,
        run_time=options.seconds,
    )


def _measure_endpoint(
    options: LoadgenOptions, rest_port: int, endpoint: Endpoint, work: Path
) -> EndpointResult:
    settings = _settings(options, rest_port, endpoint)
    _, workload = prepare(settings)
    method = "GET" if workload.batches[0].rest_body is None else "POST"
    bodies = [batch.rest_body for batch in workload.batches]
    url = f"http://{HOST}:{rest_port}"
    result = EndpointResult(endpoint)
    # A short probe sets wrk's delay so that delay plus service time is one interval.
    probe = work / f"{endpoint}-probe.lua"
    probe.write_text(wrk_script(method, workload.rest_path, bodies, 10))
    service_ms = run_wrk(options.wrk, url, probe, 2)["p50_us"] / 1000.0
    delay_ms = max(1, round(1000.0 / options.rate - service_ms))
    script = work / f"{endpoint}.lua"
    script.write_text(wrk_script(method, workload.rest_path, bodies, delay_ms))
    for round_number in range(options.rounds):
        wrk = run_wrk(options.wrk, url, script, options.seconds)
        result.wrk_p50_ms.append(wrk["p50_us"] / 1000.0)
        result.wrk_rps.append(round(wrk["requests"] / (wrk["duration_us"] / 1e6), 1))
        summary = run_load(
            settings, report_dir=options.out / "loadgen" / f"{endpoint}-{round_number + 1}"
        )
        row = next(iter(summary.requests.values()))
        result.loadtest_p50_ms.append(row.latency.p50)
        if row.service_time is not None:
            result.loadtest_service_p50_ms.append(row.service_time.p50)
        lag = (summary.generator.get("send_lag_ms") or {}).get("p50")
        if lag is not None:
            result.loadtest_lag_p50_ms.append(lag)
        result.loadtest_rps.append(round(row.rps, 1))
        log.info(
            "%s round %d: wrk p50 %.3f ms, load test p50 %.3f ms",
            endpoint,
            round_number + 1,
            result.wrk_p50_ms[-1],
            result.loadtest_p50_ms[-1],
        )
    return result


def measure_loadgen(options: LoadgenOptions) -> list[EndpointResult]:
    """Start one embedded server and compare wrk and the load test on each endpoint.

    Raises:
        WrkError: wrk is missing or failed.
        StartError: the server did not start.
    """
    if shutil.which(options.wrk) is None:
        raise WrkError(f"{options.wrk} is not installed (Debian: apt-get install wrk)")
    grpc_port, rest_port = free_port(), free_port()
    version_dirs = options.models.resolve() / options.model
    flags = [
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        f"--model_name={options.model}",
        f"--model_base_path={version_dirs}",
    ]
    status = f"/v1/models/{options.model}"
    spec = ModuleSpec("server-loadgen", ["server", *flags], lambda: http_get_ok(rest_port, status))
    options.out.mkdir(parents=True, exist_ok=True)
    logs = options.out / "logs"
    logs.mkdir(exist_ok=True)
    with run_modules([spec], logs), tempfile.TemporaryDirectory() as tmp:
        return [_measure_endpoint(options, rest_port, e, Path(tmp)) for e in ENDPOINTS]


def format_loadgen(results: Sequence[EndpointResult], rate: float) -> str:
    lines = [
        f"## Load test vs wrk, REST, one connection, about {rate:g} req/s",
        "",
        "| endpoint | wrk p50 ms | load test p50 ms | its service p50 ms | its send lag p50 ms "
        f"| difference ms | target <= {TARGET_MS} ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = [
            r.endpoint,
            _median(r.wrk_p50_ms),
            _median(r.loadtest_p50_ms),
            _median(r.loadtest_service_p50_ms),
            _median(r.loadtest_lag_p50_ms),
            f"{r.difference_ms:+.3f}",
            "met" if r.difference_ms <= TARGET_MS else "NOT met",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "wrk: `wrk -t1 -c1` with a Lua delay after each answer (timed from write to answer); "
        "load test: `loadtest run` paced at the same rate, latency from the intended send time. "
        "Medians over rounds; rates achieved: "
        + "; ".join(
            f"{r.endpoint} wrk {_median(r.wrk_rps)} / load test {_median(r.loadtest_rps)} req/s"
            for r in results
        )
    )
    return "\n".join(lines) + "\n"


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.3f}" if values else "-"


def write_loadgen(results: Sequence[EndpointResult], options: LoadgenOptions) -> Path:
    """Write OUT/loadgen.json and OUT/loadgen.md; return the markdown's path."""
    data = {"rate": options.rate, "seconds": options.seconds, "rounds": options.rounds}
    data["endpoints"] = [r.to_dict() for r in results]  # type: ignore[assignment]
    (options.out / "loadgen.json").write_text(json.dumps(data, indent=2) + "\n")
    markdown = options.out / "loadgen.md"
    markdown.write_text(format_loadgen(results, options.rate))
    return markdown
