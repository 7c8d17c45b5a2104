"""The capacity search against a model of a server whose limit is known, then for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.search.steps import SearchLimits, Step, search

CAPACITY = 730.0  # req/s the modelled server can serve
BASE_MS = 2.0


def modelled_server(calls: list[float], *, generator_limit: float | None = None, noisy_at=None):
    """p99 of an M/M/1-like queue: BASE / (1 - load); past capacity it falls behind."""

    def measure(rate: float) -> Step:
        calls.append(rate)
        if generator_limit is not None and rate > generator_limit:
            return Step(
                rate, generator_limit, 5.0, 500.0, 0.0, "generator-bound", ("short of CPU",)
            )
        if rate >= CAPACITY:
            return Step(rate, CAPACITY * 0.9, 400.0, 3000.0, 0.0, "server-bound")
        p99 = BASE_MS / (1 - rate / CAPACITY)
        if noisy_at is not None and abs(rate - noisy_at) < 1 and calls.count(rate) > 1:
            p99 = 999.0  # this rate fails when run again
        return Step(rate, rate, p99 / 3, p99, 0.0)

    return measure


def slo_crossing(p99_ms: float) -> float:
    """The rate where the modelled p99 reaches p99_ms."""
    return CAPACITY * (1 - BASE_MS / p99_ms)


@pytest.mark.parametrize("slo_ms", [pytest.param(5.0, id="5ms"), pytest.param(20.0, id="20ms")])
def test_the_search_lands_within_its_precision_below_the_true_limit(slo_ms: float) -> None:
    calls: list[float] = []
    limits = SearchLimits(p99_ms=slo_ms, start_rps=20, precision=0.05, repeats=2)
    result = search(modelled_server(calls), limits)
    truth = slo_crossing(slo_ms)
    assert result.max_rps is not None
    assert truth * 0.95 <= result.max_rps <= truth  # a passing rate, within 5% of the limit
    assert result.first_failing_rps is not None and result.first_failing_rps > truth
    assert calls[:4] == [20, 40, 80, 160]  # rising steps x2 first
    assert len(result.repeats) == 2 and all(r.target_rps == result.max_rps for r in result.repeats)
    assert "max rate within the SLO" in result.outcome


def test_a_generator_bound_step_gives_no_result_and_says_why() -> None:
    result = search(modelled_server([], generator_limit=150), SearchLimits(p99_ms=50.0))
    assert result.max_rps is None
    assert "load generator was the bottleneck at 160 req/s" in result.outcome
    assert "short of CPU" in result.outcome


def test_an_unstable_final_rate_moves_the_answer_down() -> None:
    calls: list[float] = []
    limits = SearchLimits(p99_ms=20.0, start_rps=20, precision=0.05, repeats=1)
    first = search(modelled_server([]), limits).max_rps
    result = search(modelled_server(calls, noisy_at=first), limits)
    assert result.max_rps is not None and first is not None
    assert result.max_rps < first
    assert result.first_failing_rps == first


def test_a_cap_below_the_limit_says_so() -> None:
    result = search(modelled_server([]), SearchLimits(p99_ms=50.0, start_rps=20, max_rps=100))
    assert result.max_rps == 100
    assert "raise --max-rate" in result.outcome


def test_nothing_passing_says_so() -> None:
    result = search(modelled_server([]), SearchLimits(p99_ms=1.0, start_rps=20))
    assert result.max_rps is None and result.steps[0].target_rps == 20
    assert "no rate from 20 req/s up met the SLO" in result.outcome


def test_the_result_is_plain_json() -> None:
    result = search(modelled_server([]), SearchLimits(p99_ms=10.0))
    document = json.loads(json.dumps(result.to_dict()))
    assert document["max_rps"] == result.max_rps
    assert len(document["steps"]) == len(result.steps)


@pytest.mark.slow  # end to end: four short Locust runs against a live server
def test_the_command_runs_its_steps_against_a_server(
    metered_server, example_models, tmp_path
) -> None:
    from tests.loadtest.cli_runs import run_cli

    folder = tmp_path / "capacity"
    run = run_cli(
        "capacity-search",
        *("--host", metered_server.rest, "--model", "tabular"),
        *("--models-root", str(example_models), "--report-dir", str(folder)),
        *("--slo-p99-ms", "1000", "--start-rate", "25", "--max-rate", "100"),
        *("--step-time", "2s", "--repeats", "1"),
        timeout=300,
    )
    document = json.loads((folder / "capacity.json").read_text())
    steps = document["steps"]
    assert [s["target_rps"] for s in steps][:3] == [25, 50, 100], run.stdout
    if document["max_rps"] is not None:  # a healthy server holds 100 req/s within 1 s p99
        assert run.code == 0
        assert document["max_rps"] == 100 and "raise --max-rate" in document["outcome"]
        assert [r["target_rps"] for r in document["repeats"]] == [100]
    else:  # a machine too loaded to hold even that must say so, not invent a number
        assert run.code == 1 and document["outcome"].startswith("no ")
    for step in steps:
        assert (Path(step["report_dir"]) / "report.html").is_file()
        assert step["server"]["requests"] > 0  # the server's own times, per step
    assert (folder / "capacity.png").read_bytes()[:4] == b"\x89PNG"
    assert "target" in run.stdout and document["outcome"] in run.stdout
