"""Drift checks of simulated request logs against the example models' training reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitoring.drift.check import check_drift
from monitoring.drift.compare import DriftDataError
from monitoring.drift.thresholds import Thresholds
from monitoring.reference import ModelReference
from monitoring.simulate import simulate

SEEDS = range(5)


def held_out_logs(reference, predictor, out: Path, seed: int) -> Path:
    """80% of the test split, drawn without replacement: fresh data from the training population."""
    rows = int(0.8 * reference.num_test_rows())
    return simulate(reference, "none", out, rows=rows, seed=seed, predictor=predictor)


@pytest.mark.parametrize("model", ["tabular", "digits", "regressor"])
def test_held_out_data_raises_few_false_alarms(
    model: str, request: pytest.FixtureRequest, predictors, tmp_path: Path
) -> None:
    reference: ModelReference = request.getfixturevalue(f"reference_{model}")
    predictor = predictors(reference)
    dataset_alarms, feature_alarms, features = 0, 0, 0
    for seed in SEEDS:
        logs = held_out_logs(reference, predictor, tmp_path / str(seed), seed)
        result = check_drift(reference, logs, Thresholds()).result
        dataset_alarms += result.drift_detected
        feature_alarms += len(result.drifted_features) + result.prediction_drifted
        features += len(result.features) + 1
        assert result.prediction is not None
    assert dataset_alarms <= 1, f"{dataset_alarms} of {len(SEEDS)} held-out runs alarmed"
    assert feature_alarms / features <= 0.05


def detect(reference, predictor, out: Path, kind: str, **options):
    logs = simulate(reference, kind, out, seed=3, predictor=predictor, **options)
    return check_drift(reference, logs, Thresholds()).result


@pytest.mark.parametrize("kind", ["shift", "scale", "missing", "category_swap"])
def test_each_simulated_kind_is_detected_on_tabular(
    kind: str, reference_tabular, predictors, tmp_path: Path
) -> None:
    result = detect(reference_tabular, predictors(reference_tabular), tmp_path, kind)
    assert result.drift_detected
    if kind == "missing":
        assert all(f.missing_current > 0.15 for f in result.features if f.drifted)
    if kind == "category_swap":  # benign rows replaced by malignant ones: the class mix moves
        assert result.prediction_drifted


@pytest.mark.parametrize(
    ("model", "kind", "drifted_input"),
    [
        pytest.param("digits", "shift", "image_bytes.mean_intensity", id="digits-brighter"),
        pytest.param("digits", "missing", "image_bytes.mean_intensity", id="digits-blanked"),
        pytest.param("digits", "category_swap", None, id="digits-other-digits"),
        pytest.param("regressor", "shift", "bmi", id="regressor-shift"),
    ],
)
def test_simulated_drift_is_detected_on_images_and_regression(
    model: str,
    kind: str,
    drifted_input: str | None,
    request: pytest.FixtureRequest,
    predictors,
    tmp_path: Path,
) -> None:
    reference = request.getfixturevalue(f"reference_{model}")
    result = detect(reference, predictors(reference), tmp_path, kind)
    assert result.drift_detected
    if drifted_input:
        assert drifted_input in result.drifted_features
    else:  # digits 0-4 swapped for 5-9: pixels summaries barely move, the predictions do
        assert result.prediction_drifted and result.prediction.psi > 0.5


def test_mild_drift_below_the_psi_line_is_not_reported(
    reference_tabular, predictors, tmp_path: Path
) -> None:
    # 0.05 training standard deviations. area_error, the most skewed feature, moves most
    # (0.1 already takes it past the line); 114 rows leave other PSIs noisy, which the
    # significance requirement absorbs.
    result = detect(
        reference_tabular, predictors(reference_tabular), tmp_path, "shift", strength=0.05
    )
    area_error = next(f for f in result.features if f.feature == "area_error")
    assert area_error.psi < Thresholds().psi
    assert not result.drift_detected


def test_the_psi_line_decides_on_real_drift(reference_tabular, predictors, tmp_path: Path) -> None:
    logs = simulate(
        reference_tabular, "shift", tmp_path, seed=3, strength=0.2,
        predictor=predictors(reference_tabular),
    )  # fmt: skip
    features = check_drift(reference_tabular, logs, Thresholds()).result.features
    strongest = max((f for f in features if f.drifted), key=lambda f: f.psi)
    for line, expected in ((strongest.psi - 0.01, True), (strongest.psi + 0.01, False)):
        result = check_drift(reference_tabular, logs, Thresholds(psi=line)).result
        assert (strongest.feature in result.drifted_features) is expected
        assert all(f.psi > line for f in result.features if f.drifted)


def test_only_the_named_version_is_compared(
    example_models: Path, reference_tabular, predictors, tmp_path: Path
) -> None:
    from monitoring.reference import load_reference

    version_2 = load_reference(example_models / "tabular" / "2")
    simulate(reference_tabular, "shift", tmp_path, seed=1, predictor=predictors(reference_tabular))
    simulate(version_2, "none", tmp_path, rows=100, seed=2, predictor=predictors(version_2))
    check = check_drift(version_2, tmp_path, Thresholds())
    assert check.logged.rows == 100
    assert check.logged.other_versions == {1: reference_tabular.num_test_rows()}
    assert not check.result.drift_detected  # the drifted version-1 rows were left out
    with pytest.raises(DriftDataError, match="no logged calls of tabular version 2"):
        check_drift(version_2, next(tmp_path.glob("tabular-v1-*")), Thresholds())


def run_cli(*argv: str) -> int:
    from monitoring.__main__ import main

    return main(["drift", *argv])


@pytest.fixture(scope="module")
def cli_logs(tmp_path_factory, example_models: Path, predictors) -> Path:
    from monitoring.reference import load_reference

    reference = load_reference(example_models / "tabular" / "2")
    folder = tmp_path_factory.mktemp("cli-logs")
    for kind in ("none", "shift"):
        simulate(reference, kind, folder / kind, seed=4, predictor=predictors(reference))
    return folder


@pytest.mark.parametrize(
    ("kind", "exit_code"),
    [pytest.param("none", 0, id="no-drift"), pytest.param("shift", 1, id="drift")],
)
def test_cli_exit_code_and_summary(
    kind: str, exit_code: int, cli_logs: Path, example_models: Path, tmp_path: Path, capsys
) -> None:
    code = run_cli(
        "--model", "tabular", "--logs", str(cli_logs / kind), "--models-root",
        str(example_models), "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == exit_code
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((tmp_path / "summary.json").read_text())
    assert printed == written
    assert (written["model"], written["version"]) == ("tabular", 2)
    assert written["drift_detected"] is bool(exit_code)
    assert len(written["features"]) == 30 and written["prediction"]["method"] == "psi+chi2"
    assert written["rows"]["compared"] == 114


def test_cli_html_report_names_the_features(
    cli_logs: Path, example_models: Path, tmp_path: Path, capsys
) -> None:
    code = run_cli(
        "--model", "tabular", "--logs", str(cli_logs / "shift"), "--models-root",
        str(example_models), "--out", str(tmp_path), "--html",
    )  # fmt: skip
    assert code == 1
    table = capsys.readouterr().out
    assert "worst_fractal_dimension" in table and "30 of 30 features drifted" in table
    html = (tmp_path / "drift_report.html").read_text()
    assert "worst_fractal_dimension" in html and "mean_radius" in html


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--model", "nosuch"], "no model 'nosuch'", id="unknown-model"),
        pytest.param(["--model", "tabular", "--version", "9"], "version 9 is not", id="version"),
        pytest.param(["--model", "tabular", "--psi-threshold", "-1"], "PSI threshold", id="psi"),
        pytest.param(["--model", "tabular", "--min-rows", "500"], "at least 500", id="rows"),
        pytest.param(["--model", "digits"], "no logged calls of digits", id="other-model"),
    ],
)
def test_cli_usage_and_data_errors_exit_2(
    argv: list[str], message: str, cli_logs: Path, example_models: Path, tmp_path: Path, capsys
) -> None:
    code = run_cli(
        *argv, "--logs", str(cli_logs / "none"), "--models-root", str(example_models),
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("drift: ") and message in error and "\n" not in error


def test_cli_missing_logs_exit_2(example_models: Path, tmp_path: Path, capsys) -> None:
    code = run_cli(
        "--model", "tabular", "--logs", str(tmp_path / "absent"), "--models-root",
        str(example_models),
    )  # fmt: skip
    assert code == 2
    assert "no request logs at" in capsys.readouterr().err


def test_cli_pushes_scores_to_a_real_pushgateway(
    cli_logs: Path, example_models: Path, tmp_path: Path
) -> None:
    from monitoring import metric_names
    from tests.k8s.pushgateway import gateway_series, run_pushgateway

    with run_pushgateway(tmp_path) as gateway:
        code = run_cli(
            "--model", "tabular", "--logs", str(cli_logs / "shift"), "--models-root",
            str(example_models), "--out", str(tmp_path), "--pushgateway", gateway,
        )  # fmt: skip
        series = gateway_series(gateway, metric_names.PREFIX)
    assert code == 1
    pushed = {(name, dict(labels).get("feature"), dict(labels).get("method")): value
              for (name, labels), value in series.items()}  # fmt: skip
    summary = json.loads((tmp_path / "summary.json").read_text())
    mean_radius = next(f for f in summary["features"] if f["feature"] == "mean_radius")
    assert pushed[(metric_names.DRIFT_SCORE, "mean_radius", "psi")] == mean_radius["psi"]
    assert pushed[(metric_names.DRIFT_SCORE, "mean_radius", "ks")] == mean_radius["statistic"]
    assert pushed[(metric_names.DRIFT_DETECTED, "mean_radius", None)] == 1
    assert pushed[(metric_names.DRIFT_SHARE, None, None)] == summary["drift_share"]
    assert pushed[(metric_names.PREDICTION_DRIFT_SCORE, None, "psi")] > 0.2
    assert pushed[(metric_names.LAST_RUN_PASSED, None, None)] == 0
    assert {dict(labels)["job"] for _, labels in series} == {metric_names.JOBS["drift"]}
