"""Short load tests against the embedded server, through the CLI and the run_load API.

Each run is a few seconds long with a handful of users, on loopback only.
"""

from __future__ import annotations

import csv
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from launcher import ensure_server
from loadtest import LoadSettings, RunSummary, run_load
from loadtest.report import format_summary
from tests.loadtest.cli_runs import run_cli
from tests.loadtest.conftest import Outcome
from tests.serverproc import ROOT

pytestmark = pytest.mark.slow  # end to end: Locust runs against a live server

REPORT_FILES = [
    "report.html",
    "summary.json",
    "latency.png",
    "hdr_histograms.json",
    "locust-service-times/locust.html",
    "locust-service-times/locust_stats.csv",
    "locust-service-times/locust_failures.csv",
    "locust-service-times/README.txt",
]


RUNS = [pytest.param("rest_run", id="rest"), pytest.param("grpc_run", id="grpc")]


@pytest.mark.parametrize("run", RUNS)
def test_requests_are_recorded_without_failures(run, request) -> None:
    summary: RunSummary = request.getfixturevalue(run).summary
    assert summary.total.count > 20
    assert summary.total.failures == 0
    assert summary.errors == []
    assert summary.workload["source"].startswith("15 held-out examples from ")


@pytest.mark.parametrize("run", RUNS)
def test_hdr_counts_match_locusts_own(run, request) -> None:
    outcome: Outcome = request.getfixturevalue(run)
    with open(outcome.report / "locust-service-times/locust_stats.csv", newline="") as handle:
        locust = {
            (row["Type"], row["Name"]): int(row["Request Count"]) for row in csv.DictReader(handle)
        }
    assert outcome.summary.requests, "no request name recorded"
    for entry in outcome.summary.requests.values():
        assert entry.count == locust[(entry.request_type, entry.name)]
    assert outcome.summary.total.count == locust[("", "Aggregated")]


@pytest.mark.parametrize("run", RUNS)
def test_hdr_percentiles_agree_with_locusts_rounded_median(run, request) -> None:
    """Locust times each call from its actual send: in open loop (rest_run, the default) that
    is our service time, beside the latency from the intended send time; in closed loop the
    two are the same thing and only the latency is kept."""
    summary: RunSummary = request.getfixturevalue(run).summary
    open_loop = summary.settings["mode"] == "open loop"
    assert open_loop == (run == "rest_run")
    for entry in summary.requests.values():
        latency = entry.latency
        assert 0 < latency.min <= latency.p50 <= latency.p90 <= latency.p99 <= latency.p999
        assert latency.p999 <= latency.max
        service = entry.service_time
        assert (service is not None) == open_loop
        call_time = service if service is not None else latency
        assert latency.p50 >= call_time.p50
        # Locust rounds times under 100 ms to whole ms, under 1 s to 10 ms, then to 100 ms.
        median = entry.locust["median_ms"]
        rounding = 1.0 if median < 100 else 10.0 if median < 1000 else 100.0
        assert abs(call_time.p50 - median) <= rounding, (call_time.p50, median)


@pytest.mark.parametrize("run", RUNS)
def test_report_files_are_written(run, request) -> None:
    report = request.getfixturevalue(run).report
    for name in REPORT_FILES:
        assert (report / name).stat().st_size > 0, name
    assert "locust" in (report / "locust-service-times/locust.html").read_text()[:5000].lower()
    assert "service times" in (report / "locust-service-times/README.txt").read_text()
    histograms = json.loads((report / "hdr_histograms.json").read_text())
    assert all(blob.startswith("HISTF") for blob in histograms["recorder"]["latency"].values())


@pytest.mark.parametrize("run", RUNS)
def test_the_plot_is_a_png(run, request) -> None:
    data = (request.getfixturevalue(run).report / "latency.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 600
    assert len(data) > 20_000  # two drawn panels, not an empty canvas


def test_summary_names_the_served_version(rest_run, grpc_run) -> None:
    assert rest_run.summary.model["label"] == "canary"
    assert rest_run.summary.served_version == 2  # serving_config/models.config: canary -> 2
    assert grpc_run.summary.served_version == 1
    assert rest_run.summary.model["served_version_after"] == 2


def test_a_loose_slo_passes_with_exit_0(rest_run) -> None:
    assert rest_run.cli.code == 0, rest_run.cli.stderr[-2000:]
    assert "SLO: all objectives met" in rest_run.cli.stdout
    assert rest_run.summary.passed


def test_an_impossible_slo_fails_with_one_line_per_breach(grpc_run) -> None:
    assert grpc_run.cli.code == 1, grpc_run.cli.stderr[-2000:]
    lines = [line for line in grpc_run.cli.stdout.splitlines() if line.startswith("SLO breach: ")]
    assert len(lines) == 3
    assert [line.split()[2] for line in lines] == ["p99", "p50", "throughput"]
    assert grpc_run.summary.slo["breaches"] == lines
    assert not grpc_run.summary.passed


def test_the_gate_command_rechecks_a_summary(rest_run) -> None:
    summary = str(rest_run.report / "summary.json")
    failing = run_cli("gate", summary, "--slo-p99-ms", "0.001", "--slo-error-rate", "0")
    assert failing.code == 1
    assert failing.stdout.strip().splitlines() == [
        line for line in failing.stdout.splitlines() if line.startswith("SLO breach: p99 latency")
    ]
    assert run_cli("gate", summary, "--slo-p99-ms", "60000").code == 0


def test_paced_mode_reports_target_and_achieved_rate(example_server, tmp_path) -> None:
    """Generated inputs (PNG bytes for digits) at 40 requests per second over gRPC."""
    settings = LoadSettings(
        transport="grpc",
        host=example_server.grpc,
        model="digits",
        payload="metadata",
        batch_size=2,
        rate=40,
        run_time=4,
    )
    summary = run_load(settings, report_dir=tmp_path)
    assert summary.total.failures == 0
    assert summary.workload["source"] == "inputs generated from the 'serving_default' signature"
    assert summary.pacing["target_rps"] == 40
    assert 32 <= summary.pacing["achieved_rps"] <= 48
    service = summary.total.service_time
    assert service is not None and service.count == summary.total.count
    assert summary.total.latency.p50 >= service.p50  # measured from the intended send time
    assert "paced: target 40.0 req/s, achieved" in format_summary(summary)


def test_an_unreachable_rate_is_flagged_and_latency_includes_the_wait(
    example_server, example_models, tmp_path
) -> None:
    """One user cannot send 2000 requests a second: the schedule slips, and it says so."""
    settings = LoadSettings(
        host=example_server.rest,
        models_root=example_models,
        rate=2000,
        users=1,
        run_time=3,
    )
    summary = run_load(settings, report_dir=tmp_path)
    assert summary.generator["bottleneck"]
    # One user's calls back to back: too few users, or its one process short of CPU.
    assert summary.generator["verdict"] in ("users-bound", "generator-bound")
    assert any("below the target 2000.0 req/s" in r for r in summary.generator["reasons"])
    assert summary.total.latency.p99 > 2 * summary.total.service_time.p99
    text = format_summary(summary)
    assert ("TOO FEW USERS" in text) or ("LOAD GENERATOR BOTTLENECK" in text)


def test_processes_merge_their_histograms(example_server, example_models, tmp_path) -> None:
    """Two worker processes, users set by a stages file: their histograms add up."""
    stages = tmp_path / "stages.toml"
    stages.write_text(
        '[[stages]]\nduration = "2s"\nusers = 2\n\n[[stages]]\nduration = "2s"\nusers = 4\n'
    )
    settings = LoadSettings(
        host=example_server.rest, models_root=example_models, stages=stages, processes=2
    )
    summary = run_load(settings, report_dir=tmp_path / "report")
    workers = summary.generator["processes"]
    assert [p["role"] for p in workers] == ["worker", "worker"]
    assert len({p["pid"] for p in workers}) == 2
    assert summary.total.count > 20
    assert summary.total.count == summary.total.locust["count"]
    assert summary.total.failures == 0


def test_the_report_command_summarises_a_masters_folder(rest_run, example_server, tmp_path) -> None:
    """What a distributed master leaves (Locust's CSV, hdr_histograms.json) is summarised alike."""
    folder = tmp_path / "dist"
    folder.mkdir()
    for name in ("locust_stats.csv", "locust_failures.csv"):  # where a master's --csv put them
        (folder / name).write_bytes((rest_run.report / "locust-service-times" / name).read_bytes())
    (folder / "hdr_histograms.json").write_bytes(
        (rest_run.report / "hdr_histograms.json").read_bytes()
    )
    done = run_cli(
        "report",
        str(folder),
        "--model",
        "tabular",
        "--label",
        "canary",
        "--host",
        example_server.rest,
        "--slo-error-rate",
        "0",
    )
    assert done.code == 0, done.stderr[-2000:]
    summary = RunSummary.load(folder / "summary.json")
    assert summary.total.count == rest_run.summary.total.count
    assert summary.total.latency == rest_run.summary.total.latency
    assert summary.served_version == 2
    assert (folder / "latency.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "report.html").is_file()


GEVENT_PROBE = """
from gevent import monkey; monkey.patch_all()
import sys, gevent
from wire import protos
from clients import GrpcClient
from clients.retry import NO_RETRY
from loadtest.grpc_calls import enable_gevent
if sys.argv[2] == "on":
    enable_gevent()
client = GrpcClient(sys.argv[1], timeout=10, retry=NO_RETRY)
request = protos.GetModelStatusRequest()
request.model_spec.name = "digits"
ticks = []
def tick():
    # A timer, not a spin: a greenlet that yields with sleep(0) keeps the hub from polling
    # gRPC's I/O and slows the calls down, more so on a loaded machine.
    while True:
        gevent.sleep(0.001)
        ticks.append(1)
ticker = gevent.spawn(tick)
gevent.sleep(0)
before = len(ticks)
for _ in range(50):
    client.send("GetModelStatus", request)
print(len(ticks) - before)
"""


@pytest.mark.parametrize("mode", [pytest.param("on", id="gevent"), pytest.param("off", id="plain")])
def test_grpc_calls_let_other_users_run(example_server, mode) -> None:
    """Under Locust's gevent, a gRPC call must yield, or the users take turns."""
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_PROBE, example_server.grpc, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ticks = int(done.stdout.strip())
    assert ticks > 0 if mode == "on" else ticks == 0


def test_a_running_server_is_used_not_started(example_server) -> None:
    with ensure_server(example_server.rest, example_server.grpc, Path("unused.config")) as started:
        assert started is False
