"""The pieces without a server: settings, SLO thresholds and files, stages, pacing, HDR merging."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loadtest.gate import Slo, check_slo, load_slo
from loadtest.hdr import LatencyRecorder, latency_stats
from loadtest.pacing import Pacer
from loadtest.settings import LoadSettings, parse_duration
from loadtest.shapes import load_stages, stage_at
from loadtest.summary import RunSummary, request_summaries


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("90", 90.0, id="bare"),
        pytest.param("10s", 10.0, id="seconds"),
        pytest.param("1m30s", 90.0, id="minutes"),
        pytest.param("1h", 3600.0, id="hours"),
        pytest.param("500ms", 0.5, id="milliseconds"),
    ],
)
def test_durations(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "10x", "-5", "0s"])
def test_bad_durations(text) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_settings_come_from_the_environment_and_options_win() -> None:
    env = {
        "LOADTEST_TRANSPORT": "grpc",
        "LOADTEST_MODEL": "digits",
        "LOADTEST_LABEL": "canary",
        "LOADTEST_BATCH_SIZE": "8",
        "LOADTEST_RUN_TIME": "1m",
    }
    settings = LoadSettings.from_env(env, model="tabular", users=None)
    assert (settings.transport, settings.model, settings.label) == ("grpc", "tabular", "canary")
    assert (settings.batch_size, settings.run_time) == (8, 60.0)
    assert settings.target_host == "127.0.0.1:8500"
    assert LoadSettings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"version": 1, "label": "canary"}, "not both", id="version-and-label"),
        pytest.param({"transport": "http3"}, "transport", id="transport"),
        pytest.param(
            {"rate": 10.0, "stages": Path("s.toml")}, "cannot be combined", id="rate-stages"
        ),
        pytest.param({"batch_size": 0}, "batch size", id="batch"),
    ],
)
def test_settings_refuse_contradictions(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        LoadSettings(**changes)


def test_paced_runs_size_their_users_from_the_rate() -> None:
    paced = LoadSettings(rate=100)
    assert paced.total_users == 5 and paced.total_spawn_rate == 5  # all at once
    assert LoadSettings(rate=100, users=2).total_users == 2


def test_a_late_pacer_catches_up_and_keeps_its_schedule() -> None:
    now = [100.0]
    pacer = Pacer(10.0, clock=lambda: now[0])  # every 100 ms, first within 100 ms
    first = pacer.take()
    assert 100.0 <= first < 100.1
    now[0] = first + 0.35  # the first call took 350 ms: three sends are overdue
    intended = [pacer.take() for _ in range(4)]
    # The overdue ones keep their intended times (latency counts from them), and the
    # schedule goes on from there rather than from now.
    assert intended == pytest.approx([first + 0.1, first + 0.2, first + 0.3, first + 0.4])


def test_recorders_merge_to_the_same_histogram_as_one(tmp_path) -> None:
    start = time.time()
    one, parts = LatencyRecorder(), [LatencyRecorder(), LatencyRecorder()]
    for i in range(2000):
        latency = 0.2 + (i % 97) * 0.05
        one.record("POST", "predict m", latency, start + i / 1000)
        parts[i % 2].record("POST", "predict m", latency, start + i / 1000)
    merged = LatencyRecorder()
    for part in parts:
        merged.merge(part.drain())
    assert parts[0].count() == 0  # drained
    assert latency_stats(merged.latency["POST predict m"]) == latency_stats(
        one.latency["POST predict m"]
    )
    assert sum(h.get_total_count() for h in merged.timeline.values()) == 2000


def test_sub_millisecond_latencies_keep_microseconds() -> None:
    recorder = LatencyRecorder()
    for _ in range(10):
        recorder.record("gRPC", "predict m", 0.2345, time.time())
    stats = latency_stats(recorder.latency["gRPC predict m"])
    assert stats.p50 == pytest.approx(0.2345, abs=0.001)


def _summary(count: int, failures: int, latency_ms: float, duration: float) -> RunSummary:
    recorder = LatencyRecorder()
    for i in range(count):
        recorder.record("POST", "predict m", latency_ms, 1000.0 + i * duration / count)
    locust = {
        "Request Count": str(count),
        "Failure Count": str(failures),
        "Median Response Time": str(round(latency_ms)),
        "Average Response Time": str(latency_ms),
        "Max Response Time": str(latency_ms),
        "Requests/s": str(count / duration),
    }
    rows = [{"Type": "POST", "Name": "predict m", **locust}]
    requests, total = request_summaries(recorder, rows, duration)
    return RunSummary(Path("."), "", duration, {}, {}, {}, requests, total, [], None, {})


def test_check_slo_writes_one_line_per_breach() -> None:
    summary = _summary(count=100, failures=5, latency_ms=20.0, duration=10.0)  # 10 req/s
    assert check_slo(summary, Slo(p99_ms=50, p50_ms=30, max_error_rate=0.1, min_rps=5)) == []
    breaches = check_slo(summary, Slo(p99_ms=10, p50_ms=15, max_error_rate=0.01, min_rps=20))
    assert [line.split()[2] for line in breaches] == ["p99", "p50", "error", "throughput"]
    assert all(line.startswith("SLO breach: ") and "\n" not in line for line in breaches)
    assert "5 of 100 requests failed" in breaches[2]


def test_no_request_is_a_breach() -> None:
    assert check_slo(_summary(0, 0, 1.0, 1.0), Slo(p99_ms=10)) == [
        "SLO breach: no request completed"
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param("slo.toml", "[slo]\np99_ms = 25\nmin_rps = 100\n", id="toml"),
        pytest.param("slo.json", '{"p99_ms": 25, "min_rps": 100}', id="json"),
        pytest.param("slo.yaml", "slo:\n  p99_ms: 25\n  min_rps: 100\n", id="yaml"),
    ],
)
def test_slo_files(tmp_path, name, text) -> None:
    path = tmp_path / name
    path.write_text(text)
    slo = load_slo(path)
    assert slo == Slo(p99_ms=25, min_rps=100)
    assert slo.merged(Slo(p99_ms=10)) == Slo(p99_ms=10, min_rps=100)


def test_slo_files_with_unknown_keys_are_refused(tmp_path) -> None:
    path = tmp_path / "slo.toml"
    path.write_text("p99 = 25\n")
    with pytest.raises(ValueError, match="unknown SLO keys"):
        load_slo(path)


def test_stages_file(tmp_path) -> None:
    path = tmp_path / "stages.json"
    path.write_text(
        '{"stages": [{"duration": "10s", "users": 5}, {"duration": 20, "users": 50, "spawn_rate": 10}]}'
    )
    stages = load_stages(path)
    assert [(s.duration, s.users, s.spawn_rate) for s in stages] == [(10, 5, 5), (20, 50, 10)]
    assert stage_at(stages, 9.9).users == 5
    assert stage_at(stages, 10.0).users == 50
    assert stage_at(stages, 30.0) is None
