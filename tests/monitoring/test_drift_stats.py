"""Drift statistics and thresholds on synthetic samples: scores, tests, verdict lines."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift.compare import DriftDataError, compare_columns
from monitoring.drift.frames import Column, image_summaries, input_columns, prediction_column
from monitoring.drift.stats import compare_categorical, compare_numeric, psi_from_counts
from monitoring.drift.thresholds import ThresholdError, Thresholds

RNG_SEED = 11


def normal(rows: int, shift: float = 0.0, seed: int = RNG_SEED) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc=shift, size=rows)


def test_psi_grows_with_the_shift() -> None:
    reference = normal(4000, seed=1)
    scores = [compare_numeric(reference, normal(4000, s, seed=2)).psi for s in (0, 0.25, 0.5, 1)]
    assert scores == sorted(scores)
    assert scores[0] < 0.02 < 0.1 < scores[2] and scores[3] > 0.8


def test_psi_of_identical_histograms_is_zero() -> None:
    counts = np.array([5.0, 10.0, 0.0, 3.0])
    assert psi_from_counts(counts, counts * 3) == pytest.approx(0.0, abs=1e-3)


def test_missing_values_drift_even_when_present_values_do_not() -> None:
    reference, current = normal(1000, seed=1), normal(400, seed=2)
    current[::3] = np.nan
    result = compare_numeric(reference, current)
    assert result.missing_current == pytest.approx(0.335, abs=0.01)
    assert result.psi > 0.2 and result.p_value < 1e-10
    assert compare_numeric(reference, normal(400, seed=2)).p_value > 0.01


def test_unseen_categories_count_as_drift() -> None:
    reference = np.array(["a", "b"] * 200, dtype=object)
    same = np.array(["b", "a"] * 100, dtype=object)
    unseen = np.array(["a", "b", "c", "c"] * 50, dtype=object)
    assert compare_categorical(reference, same).p_value > 0.5
    result = compare_categorical(reference, unseen)
    assert result.method == "psi+chi2" and result.psi > 1 and result.p_value < 1e-20


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"psi": 0}, "PSI threshold must be positive", id="psi"),
        pytest.param({"alpha": 1.5}, "alpha must be between 0 and 1", id="alpha"),
        pytest.param({"min_drifted_features": 0}, "min drifted features", id="features"),
        pytest.param({"min_rows": 0}, "min rows", id="rows"),
    ],
)
def test_bad_thresholds_are_named(options: dict, message: str) -> None:
    with pytest.raises(ThresholdError, match=message):
        Thresholds(**options)


def columns(values: dict[str, np.ndarray]) -> dict[str, Column]:
    return {name: Column(v, "numeric", name) for name, v in values.items()}


@pytest.mark.parametrize(
    ("shift", "psi_threshold", "drifted"),
    [
        pytest.param(0.1, 0.2, False, id="mild-shift-below-psi-line"),
        pytest.param(0.6, 0.2, True, id="shift-above-psi-line"),
        pytest.param(0.6, 1.0, False, id="same-shift-under-a-higher-line"),
        pytest.param(0.3, 0.05, True, id="small-shift-under-a-lower-line"),
    ],
)
def test_the_psi_threshold_is_respected(shift: float, psi_threshold: float, drifted: bool) -> None:
    reference = columns({"x": normal(3000, seed=1), "y": normal(3000, seed=3)})
    current = columns({"x": normal(1500, shift, seed=2), "y": normal(1500, seed=4)})
    result = compare_columns(reference, current, Thresholds(psi=psi_threshold))
    x = next(f for f in result.features if f.feature == "x")
    assert (x.psi > psi_threshold) == drifted  # the shift lands on the expected side
    assert x.drifted == drifted and result.drift_detected == drifted
    assert result.drifted_features == (["x"] if drifted else [])


def test_significance_is_split_over_features() -> None:
    reference = columns({f"f{i}": normal(300, seed=i) for i in range(20)})
    result = compare_columns(reference, reference, Thresholds(alpha=0.05))
    assert {f.alpha for f in result.features} == {0.05 / 20}


def test_more_drifted_features_can_be_required() -> None:
    reference = columns({"x": normal(2000, seed=1), "y": normal(2000, seed=3)})
    current = columns({"x": normal(800, 1.0, seed=2), "y": normal(800, seed=4)})
    assert compare_columns(reference, current, Thresholds()).drift_detected
    assert not compare_columns(
        reference, current, Thresholds(min_drifted_features=2)
    ).drift_detected


@pytest.mark.parametrize(
    ("current", "message"),
    [
        pytest.param({"x": normal(10)}, "10 logged rows to compare; at least 30", id="few-rows"),
        pytest.param({"z": normal(100)}, r"missing \['x'\], unexpected \['z'\]", id="features"),
    ],
)
def test_data_that_cannot_be_compared_is_refused(current: dict, message: str) -> None:
    with pytest.raises(DriftDataError, match=message):
        compare_columns(columns({"x": normal(100)}), columns(current), Thresholds())


def test_input_columns_of_vectors_strings_and_images() -> None:
    import io

    from PIL import Image

    def png(level: int) -> bytes:
        buffer = io.BytesIO()
        Image.new("L", (4, 4), level).save(buffer, "PNG")
        return buffer.getvalue()

    found = input_columns(
        {
            "vector": np.arange(6, dtype=np.float32).reshape(3, 2),
            "colour": np.array([b"red", b"blue", b"red"], dtype=object),
            "photo": np.array([png(0), png(255), b"not an image"], dtype=object),
        }
    )
    assert {n: c.kind for n, c in found.items()} == {
        "colour": "categorical",
        "photo.dark_fraction": "numeric",
        "photo.mean_intensity": "numeric",
        "photo.std_intensity": "numeric",
        "vector[0]": "numeric",
        "vector[1]": "numeric",
    }
    np.testing.assert_array_equal(found["vector[1]"].values, [1, 3, 5])
    np.testing.assert_array_equal(found["photo.mean_intensity"].values[:2], [0, 1])
    assert np.isnan(found["photo.dark_fraction"].values[2])  # undecodable: missing
    assert image_summaries(np.array([png(128)], dtype=object))[0, 2] == 0


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        pytest.param({"class_ids": np.array([1, 0])}, ["b", "a"], id="predict-class-ids"),
        pytest.param(
            {"probabilities": np.array([[0.2, 0.8], [0.9, 0.1]])}, ["b", "a"], id="probabilities"
        ),
        pytest.param(
            {
                "classes": np.array([[b"a", b"b"], [b"a", b"b"]], dtype=object),
                "scores": np.array([[0.3, 0.7], [0.6, 0.4]]),
            },
            ["b", "a"],
            id="classify",
        ),
    ],
)
def test_predicted_classes_from_each_call_kind(outputs: dict, expected: list[str]) -> None:
    column = prediction_column(outputs, "classifier", ["a", "b"])
    assert column is not None and column.values.tolist() == expected
