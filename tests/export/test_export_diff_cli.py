"""`python -m export diff OLD NEW`: the table, the breaking changes' reasons and the exit codes, in
a process where TensorFlow cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from export.__main__ import main
from export.diff import EXIT_BAD_INPUT, EXIT_BREAKING, EXIT_OK
from tests.export.signature_models import rewritten_copy, save_toy, set_shape
from tests.support.no_tensorflow import BLOCK_TENSORFLOW
from wire.protos.messages import DataType

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["signature", "kind", "what", "before", "after", "verdict"]


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> dict[str, Path]:
    """toy/1 saved by TensorFlow; 2 the same; 3 with a compatible change (an output added);
    4 with a breaking one (x narrowed to [-1, 5]) and a compatible one (scores freed)."""
    root = tmp_path_factory.mktemp("diff-cli") / "toy"
    one = save_toy(root / "1")

    def add_output(sigs) -> None:
        info = sigs["serving_default"].outputs["logits"]
        info.name, info.dtype = "logits:0", DataType.Value("DT_FLOAT")
        set_shape(info, [-1, 3])

    def narrow_and_free(sigs) -> None:
        set_shape(sigs["serving_default"].inputs["x"], [-1, 5])
        set_shape(sigs["classify"].outputs["scores"], [-1, -1])

    return {
        "1": one,
        "2": rewritten_copy(one, root / "2", lambda sigs: None),
        "3": rewritten_copy(one, root / "3", add_output),
        "4": rewritten_copy(one, root / "4", narrow_and_free),
    }


def _rows(out: str) -> list[list[str]]:
    """The table's rows, header first, split on runs of two or more spaces."""
    import re

    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == HEADER)
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def test_identical_versions(versions, capsys) -> None:
    assert main(["diff", str(versions["1"]), str(versions["2"])]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.strip() == f"signatures of {versions['1']} -> {versions['2']}: no signature changes"


def test_a_compatible_change_passes(versions, capsys) -> None:
    assert main(["diff", str(versions["1"]), str(versions["3"])]) == EXIT_OK
    out = capsys.readouterr().out
    assert "0 breaking, 1 compatible change(s)" in out
    assert _rows(out) == [
        HEADER,
        ["serving_default", "output added", "output logits", "-", "DT_FLOAT [-1, 3]", "compatible"],
    ]
    assert "breaking:" not in out


def test_a_breaking_change_fails_with_its_reason(versions, capsys) -> None:
    assert main(["diff", str(versions["1"]), str(versions["4"])]) == EXIT_BREAKING
    out = capsys.readouterr().out
    assert "2 breaking, 1 compatible change(s)" in out
    assert _rows(out) == [
        HEADER,
        ["classify", "shape changed", "output scores", "[-1, 3]", "[-1, -1]", "compatible"],
        ["serving_default", "shape changed", "input x", "[-1, 4]", "[-1, 5]", "breaking"],
        [
            "serving_default",
            "default signature changed",
            "signature",
            "predict (2 in, 2 out)",
            "predict (2 in, 2 out)",
            "breaking",
        ],
    ]
    breaking = [line for line in out.splitlines() if line.startswith("breaking: ")]
    assert breaking[0] == (
        "breaking: serving_default: input x: shape changed ([-1, 4] -> [-1, 5]): dimension 1 "
        "4 -> 5: old requests of other shapes reach a graph built for this one"
    )
    assert len(breaking) == 2


def test_going_back_is_judged_from_the_other_side(versions, capsys) -> None:
    """4 -> 1: x's fixed size changes back (breaking either way); scores' dimension becomes
    fixed again (an output: compatible either way)."""
    assert main(["diff", str(versions["4"]), str(versions["1"])]) == EXIT_BREAKING
    rows = _rows(capsys.readouterr().out)[1:]
    assert [(row[2], row[3], row[4], row[5]) for row in rows[:2]] == [
        ("output scores", "[-1, -1]", "[-1, 3]", "compatible"),
        ("input x", "[-1, 5]", "[-1, 4]", "breaking"),
    ]


@pytest.mark.parametrize(
    ("which", "message"),
    [
        pytest.param("missing", "no such version folder", id="missing-version"),
        pytest.param("empty", "saved_model.pb: missing", id="not-a-savedmodel"),
    ],
)
def test_an_unreadable_version_exits_2_naming_it(versions, tmp_path, capsys, which, message):
    bad = tmp_path / which
    if which == "empty":
        bad.mkdir()
    assert main(["diff", str(versions["1"]), str(bad)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"export diff: {bad}") and message in captured.err


def test_bad_arguments_exit_2(versions, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diff", str(versions["1"])])
    assert exited.value.code == EXIT_BAD_INPUT
    assert "the following arguments are required: new" in capsys.readouterr().err


def test_the_help_says_why_shape_narrowing_breaks(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["diff", "--help"])
    out = capsys.readouterr().out
    assert "TF Serving does not check shapes, the graph does" in out


def test_the_command_runs_without_tensorflow(versions) -> None:
    script = BLOCK_TENSORFLOW + "\nfrom export.__main__ import main\nsys.exit(main(sys.argv[1:]))\n"
    done = subprocess.run(
        [sys.executable, "-c", script, "diff", str(versions["1"]), str(versions["4"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_BREAKING, done.stderr
    assert "2 breaking, 1 compatible change(s)" in done.stdout
