"""check-serving's dynamic half: versions loaded and answered in TensorFlow 2.20.0 itself.

The 2.20.0 env is built on first use (about a minute, ~1.5 GB) into the user's cache
(~/.cache/tfserving-bundle/serving-envs, or $TFSERVING_BUNDLE_SERVING_ENVS) and reused."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.export import serving_check_models as models

pytestmark = pytest.mark.slow  # builds (once) and runs another TensorFlow

OLDER = "2.20.0"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Checked:
    code: int
    out: str
    paths: dict[str, Path]

    def verdict(self, name: str) -> list[str]:
        """The version's verdict line and its problems."""
        lines = self.out.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{self.paths[name]}:"))
        end = next(
            (i for i in range(start + 1, len(lines)) if not lines[i].startswith("  - ")),
            len(lines),
        )
        return lines[start:end]


@pytest.fixture(scope="module")
def checked(
    example_models: Path, tampered_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Checked:
    """One check-serving run against 2.20.0, static and dynamic, over every example version,
    a tampered one, and the models with an op and an attr that 2.20.0 lacks."""
    root = tmp_path_factory.mktemp("dynamic-check")
    paths = {
        f"{model}/{version}": example_models / model / version
        for model, version in [
            ("tabular", "1"),
            ("tabular", "2"),
            ("digits", "1"),
            ("regressor", "1"),
        ]
    }
    paths["tampered"] = tampered_models / "tabular" / "2"
    paths["newer_op"] = models.newer_op(root / "newer_op" / "1")
    paths["newer_attr"] = models.newer_attr(root / "newer_attr" / "1")
    command = [sys.executable, "-m", "export", "check-serving", *map(str, paths.values())]
    done = subprocess.run(
        [*command, "--tf-serving-version", OLDER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=580,  # below pytest-timeout's 600 s, building the env included
        check=False,
    )
    return Checked(done.returncode, done.stdout, paths)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("tabular/1", id="tabular-1"),
        pytest.param("tabular/2", id="tabular-2"),
        pytest.param("digits/1", id="digits"),
        pytest.param("regressor/1", id="regressor"),
    ],
)
def test_the_example_models_load_and_answer_as_exported_in_2_20(
    checked: Checked, name: str
) -> None:
    assert checked.verdict(name) == [
        f"{checked.paths[name]}: ok (static and dynamic; exported with TensorFlow 2.21.0)"
    ], checked.out


def test_an_op_2_20_lacks_fails_to_load_there_as_the_static_check_said(checked: Checked) -> None:
    verdict = checked.verdict("newer_op")
    assert "REFUSED" in verdict[0]
    assert "op 'DecodeJxl'" in verdict[1]
    assert verdict[2].startswith("  - in TensorFlow 2.20.0: does not load: NotFoundError:")
    assert "Op type not registered 'DecodeJxl'" in verdict[2]


def test_an_int64_tshape_fails_to_load_in_2_20(checked: Checked) -> None:
    verdict = checked.verdict("newer_attr")
    assert "attr 'Tshape' of op 'TensorListGetItem'" in verdict[1]
    # 2.20.0 ignores Tshape; its TensorListGetItem then takes only an int32 element_shape.
    assert "in TensorFlow 2.20.0: does not load" in verdict[2]
    assert "element_shape[0] expected type int32 != int64" in verdict[2]


def test_answers_other_than_the_exports_are_refused(checked: Checked) -> None:
    # The tampered version answers class 0 for every row; its training sample (copied from
    # the real version) recorded the real answers.
    verdict = checked.verdict("tampered")
    assert "REFUSED" in verdict[0]
    assert any(
        "in TensorFlow 2.20.0: training sample" in line and "output 'probabilities'" in line
        for line in verdict[1:]
    ), verdict


def test_the_run_says_what_it_did_and_fails(checked: Checked) -> None:
    assert checked.code == 1
    assert checked.out.splitlines()[0] == (
        f"checking {len(checked.paths)} versions against tensorflow/serving:{OLDER}"
        f" (op registry of {OLDER})"
    )
    assert f"4 of {len(checked.paths)} versions pass for tensorflow/serving:{OLDER}" in checked.out
