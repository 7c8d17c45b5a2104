"""tune-batching's outputs, its trial scores, and the command end to end: real trials, each
one a restart of the embedded server with the trial's batching parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.search.steps import SearchLimits, SearchResult, Step
from loadtest.tune.grid import AXES, default_grid
from loadtest.tune.report import format_table, write_outputs
from loadtest.tune.search import Measured, Trial, TuneResult
from loadtest.tune.trials import executed_batch_sizes, score
from serving_config.check import check_file


def a_result() -> TuneResult:
    grid = default_grid(cores=2)
    start = grid.recipe("cpu", 2)
    points = [start, (1,) + start[1:], (0, 4) + start[2:], (0, 0) + start[2:]]
    measured = [
        Measured(100.0, 20.0, "max 100"),
        Measured(150.0, 40.0, "max 150"),
        Measured(120.0, 45.0, "at least 120", {"lower_bound": True}),
        Measured(None, None, "no rate"),
    ]
    trials = [
        Trial(n, p, grid.config(p), m)
        for n, (p, m) in enumerate(zip(points, measured, strict=True), 1)
    ]
    return TuneResult(grid, start, trials, trials[1], "stopped at the budget of 4 trials")


def test_the_table_marks_the_pareto_front_and_the_best() -> None:
    lines = format_table(a_result()).splitlines()
    assert lines[1].split()[-1] == "*"  # 100 req/s at 20 ms: nothing is faster at p99
    assert lines[2].split()[-2:] == ["*", "best"]
    assert ">=120" in lines[3] and not lines[3].rstrip().endswith("*")  # beaten on both
    assert lines[4].split()[-2:] == ["-", "-"]
    assert "budget of 4 trials" in lines[5]


def test_the_outputs_hold_every_trial_and_the_best_parameters(tmp_path: Path) -> None:
    result = a_result()
    paths, problems = write_outputs(result, tmp_path, {"slo": {"p99_ms": 50.0}})
    assert problems == []
    assert [p.name for p in paths] == [
        "tune.json",
        "tune.csv",
        "tune.png",
        "batching_parameters.txt",
    ]
    document = json.loads(paths[0].read_text())
    assert document["pareto_front"] == [1, 2]
    assert document["best"]["number"] == 2 and document["slo"] == {"p99_ms": 50.0}
    assert [t["max_rps"] for t in document["trials"]] == [100.0, 150.0, 120.0, None]
    assert document["trials"][2]["lower_bound"] is True
    assert len(paths[1].read_text().splitlines()) == 5
    assert paths[2].read_bytes()[:4] == b"\x89PNG"
    assert paths[3].read_text() == result.trials[1].config.text()
    assert check_file(paths[3], kind="batching") == []


def test_without_a_passing_trial_no_parameters_file_is_written(tmp_path: Path) -> None:
    result = a_result()
    result.trials = result.trials[3:]
    result.best = None
    paths, _ = write_outputs(result, tmp_path, {})
    assert not (tmp_path / "batching_parameters.txt").exists()
    assert len(paths) == 3
    assert "no trial held any rate" in format_table(result)


def steps(*rows: tuple[float, float, float, str]) -> SearchResult:
    limits = SearchLimits(p99_ms=50.0)
    result = SearchResult(limits)
    result.steps = [Step(t, a, p99 / 2, p99, 0.0, verdict) for t, a, p99, verdict in rows]
    return result


def test_a_generator_cut_search_scores_its_highest_held_rate_as_a_lower_bound() -> None:
    measured = score(
        steps((20, 20, 5, "none"), (40, 40, 9, "none"), (80, 60, 99, "generator-bound"))
    )
    assert (measured.max_rps, measured.p99_ms) == (40, 9)
    assert measured.detail == {"lower_bound": True}
    assert measured.outcome.startswith("at least 40 req/s (a lower bound)")


def test_a_max_rate_at_the_cap_is_a_lower_bound() -> None:
    capped = steps((20, 20, 5, "none"), (40, 40, 9, "none"))
    capped.max_rps = 40
    assert score(capped).detail == {"lower_bound": True}
    capped.first_failing_rps = 80
    assert score(capped).detail == {}


def test_a_search_with_nothing_held_scores_nothing() -> None:
    measured = score(steps((20, 20, 99, "server-bound")))
    assert measured.max_rps is None and measured.p99_ms is None


def test_the_executed_batch_sizes_come_from_the_padding_histogram() -> None:
    page = "\n".join(
        [
            ':tensorflow:serving:batching_session:padding_size_count{execution_batch_size="4"} 7',
            ':tensorflow:serving:batching_session:padding_size_count{execution_batch_size="2"} 1',
            ':tensorflow:serving:batching_session:padding_size_count{execution_batch_size="8"} 0',
            ':tensorflow:serving:batching_session:padding_size_sum{execution_batch_size="16"} 3',
        ]
    )
    assert executed_batch_sizes(page) == [2, 4]


@pytest.mark.slow  # end to end: three server restarts, each with a short capacity search
def test_the_command_restarts_the_server_per_trial_with_its_parameters(
    example_models: Path, tmp_path: Path
) -> None:
    from serving_config.model_config import render_local_text
    from tests.loadtest.cli_runs import run_cli

    config = tmp_path / "models.config"
    config.write_text(render_local_text(models_root=example_models))
    folder = tmp_path / "tune"
    run = run_cli(
        "tune-batching",
        *("--model", "tabular", "--models-root", str(example_models)),
        *("--start-server", str(config), "--report-dir", str(folder)),
        *("--slo-p99-ms", "1000", "--start-rate", "20", "--max-rate", "40"),
        *("--step-time", "1s", "--repeats", "0", "--precision", "0.5"),
        *("--cores", "2", "--max-trials", "3", "--min-gain", "0"),
        # Padding to powers of two: a server running a trial's parameters executes only
        # batches of its allowed sizes, up to its max_batch_size. (Not below 8: the example
        # models' warmup requests hold up to 8 rows, and a smaller maximum refuses them.)
        *("--max-batch-sizes", "8,16", "--timeouts-us", "0,1000", "--threads", "1,2"),
        *("--enqueued-per-thread", "16", "--paddings", "pow2"),
        timeout=900,
    )
    assert (folder / "tune.json").is_file(), run.stderr[-3000:]
    document = json.loads((folder / "tune.json").read_text())
    trials = document["trials"]
    assert len(trials) == 3, run.stdout
    # The recipe first (threads = cores, the largest batch, no wait), then along the axes.
    assert trials[0]["parameters"] == {
        "max_batch_size": 16,
        "batch_timeout_micros": 0,
        "num_batch_threads": 2,
        "max_enqueued_batches": 32,
        "allowed_batch_sizes": [1, 2, 4, 8, 16],
    }
    assert trials[1]["parameters"]["batch_timeout_micros"] == 1000
    assert len({t["server_pid"] for t in trials}) == 3  # a server of its own per trial
    for trial in trials:
        folder_of = Path(trial["trial_dir"])
        written = (folder_of / "config" / "batching_parameters.txt").read_text()
        assert f"max_batch_size {{ value: {trial['parameters']['max_batch_size']} }}" in written
        assert Path(trial["server_log"]).is_file()
        executed = trial["executed_batch_sizes"]
        assert executed, trial  # the server batched the requests
        assert set(executed) <= set(trial["parameters"]["allowed_batch_sizes"]), trial
        assert (folder_of / "capacity.json").is_file()
    assert trials[2]["parameters"]["max_batch_size"] == 8
    if document["best"] is not None:  # a healthy server holds 20 req/s within 1 s
        assert run.code == 0, run.stderr[-3000:]
        best = folder / "batching_parameters.txt"
        assert check_file(best, kind="batching") == []
        assert document["parameters_check"] == []
        assert (
            best.read_text()
            == (
                Path(trials[document["best"]["number"] - 1]["trial_dir"])
                / "config"
                / "batching_parameters.txt"
            ).read_text()
        )
    else:  # a machine too loaded to hold even that must say so, not invent a number
        assert run.code == 1
    assert (folder / "tune.png").read_bytes()[:4] == b"\x89PNG"
    assert "front" in run.stdout and document["stopped"] in run.stdout
    assert AXES[0] == "batch_timeout_micros"  # the CPU recipe walks the timeout first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param([], "needs --start-server", id="embedded-without-models-config"),
        pytest.param(["--launcher", "kubernetes"], "needs --image", id="kubernetes-without-image"),
        pytest.param(
            ["--start-server", "models.config", "--batch-size", "64", "--max-batch-sizes", "8,16"],
            "fits --batch-size",
            id="batches-smaller-than-the-requests",
        ),
        pytest.param(
            ["--start-server", "models.config", "--threads", "2,2"],
            "distinct values",
            id="repeated-grid-values",
        ),
    ],
)
def test_the_command_refuses_what_cannot_run_before_starting_anything(
    options: list[str], message: str, tmp_path: Path
) -> None:
    from tests.loadtest.cli_runs import run_cli

    run = run_cli(
        "tune-batching",
        *("--slo-p99-ms", "50", "--report-dir", str(tmp_path / "tune")),
        *options,
    )
    assert run.code == 2 and message in run.stderr, run.stderr
    assert not (tmp_path / "tune").exists()
