"""Run one bounded load test and summarise it: the API behind `python -m loadtest run`.

    from loadtest import LoadSettings, Slo, run_load
    summary = run_load(LoadSettings(model="tabular", label="canary", run_time=30), slo=Slo(p99_ms=50))
    summary.total.latency.p99, summary.total.error_rate, summary.served_version, summary.passed

Locust runs headless in a subprocess (`python -m locust -f loadtest/locustfile.py ...`), so a
caller's process is never monkey-patched by gevent and two runs never share state.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clients.errors import ServingClientError
from clients.spec import ModelTarget
from loadtest.gate import Slo
from loadtest.payloads import Workload, build_workload
from loadtest.report import ReportFiles, new_report_dir
from loadtest.results import read_results, summarize
from loadtest.served import ServedModel, describe_served_model
from loadtest.server_times import read_counters, server_times
from loadtest.settings import LoadSettings
from loadtest.shapes import load_stages, total_duration
from loadtest.summary import RunSummary

__all__ = ["LoadTestError", "prepare", "run_load"]

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
# Beyond the run time: Locust's start (imports, forking workers) and its orderly stop.
STARTUP_GRACE_S = 120.0


class LoadTestError(Exception):
    """The load test could not run: no server, no workload, or Locust failed (see .log_path)."""

    def __init__(self, message: str, log_path: Path | None = None) -> None:
        super().__init__(message)
        self.log_path = log_path


def _absolute(settings: LoadSettings) -> LoadSettings:
    """Paths made absolute, since Locust runs in the repository root."""
    changes: dict[str, Any] = {}
    for name in ("models_root", "stages"):
        value = getattr(settings, name)
        if value is not None:
            changes[name] = Path(value).resolve()
    return settings.replace(**changes)


def prepare(settings: LoadSettings) -> tuple[ServedModel, Workload]:
    """Ask the server what it serves for the target and build the workload, as each Locust
    process will: a run that cannot start fails here, with the reason.

    Raises:
        LoadTestError: the server did not answer or refused, or no workload can be built.
    """
    target = ModelTarget(settings.model, settings.version, settings.label, settings.signature)
    try:
        served = describe_served_model(
            settings.transport, settings.target_host, target, settings.timeout
        )
        return served, build_workload(settings, served)
    except ServingClientError as err:
        raise LoadTestError(f"{settings.target_host}: {err}") from err
    except (ValueError, OSError) as err:
        raise LoadTestError(str(err)) from err


def locust_command(
    settings: LoadSettings, files: ReportFiles, web: bool = False, web_port: int = 8089
) -> list[str]:
    """The Locust command line for settings, writing its HTML and CSV into files."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    command += ["--host", settings.target_host, "--exit-code-on-error", "0"]
    command += ["--html", str(files.locust_html), "--csv", str(files.csv_prefix)]
    if settings.processes > 1:
        command += ["--processes", str(settings.processes)]
    if not settings.stages:
        command += ["--users", str(settings.total_users)]
        command += ["--spawn-rate", f"{settings.total_spawn_rate:g}"]
        command += ["--run-time", f"{math.ceil(settings.run_time)}s"]
    if web:
        command += ["--web-host", "127.0.0.1", "--web-port", str(web_port)]
    else:
        command += ["--headless", "--only-summary"]
    return command


def _expected_seconds(settings: LoadSettings) -> float:
    if settings.stages:
        return total_duration(load_stages(settings.stages))
    return math.ceil(settings.run_time)


def _run_locust(
    settings: LoadSettings, files: ReportFiles, web: bool, web_port: int
) -> dict[str, Any]:
    env = {
        **os.environ,
        **settings.to_env(),
        "LOADTEST_RESULTS": str(files.hdr_json),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = locust_command(settings, files, web, web_port)
    timeout = None if web else _expected_seconds(settings) + STARTUP_GRACE_S
    logger.info("running %s", " ".join(command))
    if web:
        logger.warning("Locust's web UI: http://127.0.0.1:%d (Ctrl-C to finish)", web_port)
    with open(files.locust_log, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as err:
            process.kill()
            process.wait()
            raise LoadTestError(f"Locust ran over {timeout:.0f}s", files.locust_log) from err
        except KeyboardInterrupt:
            code = _stop_after_interrupt(process)
    if not files.hdr_json.is_file():
        tail = files.locust_log.read_text(errors="replace")[-2000:]
        raise LoadTestError(f"Locust exited with {code} and no results:\n{tail}", files.locust_log)
    results = read_results(files)
    if results.get("exit_code") == 2 or code == 2:
        raise LoadTestError(
            f"Locust failed (exit {code}); see {files.locust_log}", files.locust_log
        )
    return results


def _stop_after_interrupt(process: subprocess.Popen[bytes]) -> int:
    """Let Locust, which had the same Ctrl-C from the terminal, write its reports and exit;
    interrupt it ourselves if it did not get one, and kill it if it hangs."""
    for action, grace in ((None, 15.0), (signal.SIGINT, 30.0), (signal.SIGKILL, None)):
        if action is not None:
            process.send_signal(action)
        try:
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    return process.wait()


def _served_after(settings: LoadSettings) -> int | None:
    target = ModelTarget(settings.model, settings.version, settings.label, settings.signature)
    try:
        return describe_served_model(
            settings.transport, settings.target_host, target, settings.timeout
        ).version
    except ServingClientError as err:
        logger.warning("could not ask the served version after the run: %s", err)
        return None


def run_load(
    settings: LoadSettings,
    *,
    slo: Slo | None = None,
    report_dir: Path | None = None,
    reports_root: Path = Path("reports"),
    web: bool = False,
    web_port: int = 8089,
) -> RunSummary:
    """Run settings' load once and write the report: Locust's HTML and CSV, hdr_histograms.json,
    summary.json and latency.png in report_dir (default: reports_root/<timestamp>/).

    With slo, the summary's `slo` entry lists one line per breach (summary.passed is False).

    Raises:
        LoadTestError: the run could not start or Locust failed; nothing to summarise.
    """
    settings = _absolute(settings)
    served, workload = prepare(settings)
    files = ReportFiles(Path(report_dir) if report_dir else new_report_dir(reports_root))
    files.directory.mkdir(parents=True, exist_ok=True)
    files.write_locust_readme()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    clock = time.monotonic()
    logger.info("%s: %s", workload.request_name, workload.source)
    metrics_url = settings.server_metrics_url
    before = read_counters(metrics_url, settings.model) if metrics_url else None
    results = _run_locust(settings, files, web, web_port)
    after = (
        read_counters(metrics_url, settings.model) if before is not None and metrics_url else None
    )
    return summarize(
        settings,
        files,
        results,
        started=started,
        served_version=served.version,
        served_version_after=_served_after(settings),
        slo=slo,
        wall_seconds=round(time.monotonic() - clock, 1),
        server=server_times(before, after),
    )
