"""check-serving's static half: ops and attrs against a release's op registry; the card's
record of the TensorFlow that exported a version, and `export list` showing it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from export.__main__ import main
from export.op_registry import added_between, held_releases, load_registry
from export.serving_check.static import static_check
from exported import card_path
from tests.export import serving_check_models as models

OLDER, TARGET = "2.20.0", "2.21.0"


@pytest.fixture(scope="module")
def refused_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One version each of the models in serving_check_models, under one models root."""
    root = tmp_path_factory.mktemp("check-serving-models")
    builders = {
        "newer_op": models.newer_op,
        "newer_attr": models.newer_attr,
        "default_attr": models.default_attr,
        "custom_op": models.custom_op,
        "newer_dtype": models.newer_dtype,
    }
    return {name: build(root / name / "1") for name, build in builders.items()}


def check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check-serving", *argv])
    return code, capsys.readouterr().out


def test_the_registries_held_are_those_releases_and_differ_as_the_models_assume() -> None:
    assert {OLDER, TARGET} <= set(held_releases())
    older, target = load_registry(OLDER), load_registry(TARGET)
    assert (older.release, target.release) == (OLDER, TARGET)
    ops, attrs = added_between(older, target)
    assert "DecodeJxl" in ops
    assert ("TensorListGetItem", "Tshape") in attrs
    assert len(target.ops) > 1500  # the whole registry, not a sample


def test_an_op_newer_than_the_release_is_refused_naming_node_function_and_release(
    refused_models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    version = refused_models["newer_op"]
    code, out = check([str(version), "--tf-serving-version", OLDER, "--static-only"], capsys)
    assert code == 1
    assert f"{version}: REFUSED" in out
    assert "op 'DecodeJxl' (node 'DecodeJxl' in function '__inference_decode_" in out
    assert "is not in TensorFlow 2.20.0 (added in TensorFlow 2.21.0" in out
    assert "tensorflow/serving:2.20.0 fails with \"Op type not registered 'DecodeJxl'\"" in out


def test_an_attr_newer_than_the_release_is_refused_with_its_value(
    refused_models: dict[str, Path],
) -> None:
    (refusal,) = static_check(refused_models["newer_attr"], load_registry(OLDER))
    assert (refusal.kind, refusal.op, refusal.attr) == ("attr", "TensorListGetItem", "Tshape")
    assert refusal.first_seen == TARGET
    assert "is set to DT_INT64, and TensorFlow 2.20.0's TensorListGetItem has no such attr" in (
        refusal.message
    )
    assert "in function '__inference_first_row_" in refusal.where


def test_a_dtype_the_releases_op_does_not_allow_is_refused(
    refused_models: dict[str, Path],
) -> None:
    version = refused_models["newer_dtype"]
    (refusal,) = static_check(version, load_registry("2.19.0"))
    assert (refusal.kind, refusal.op, refusal.attr, refusal.value) == (
        "dtype",
        "Range",
        "Tidx",
        "DT_UINT64",
    )
    assert "is DT_UINT64, which TensorFlow 2.19.0's Range does not allow (added in" in (
        refusal.message
    )
    assert refusal.first_seen == OLDER
    assert static_check(version, load_registry(OLDER)) == []


def test_a_newer_attr_at_its_default_passes(refused_models: dict[str, Path]) -> None:
    # TensorFlow 2.20 ignores an attr its op lacks; at the default it means what 2.20's op does.
    version = refused_models["default_attr"]
    pb = (version / "saved_model.pb").read_bytes()
    assert b"Tshape" in pb  # the TF1 builder kept the default-valued attr
    assert static_check(version, load_registry(OLDER)) == []


@pytest.mark.parametrize(
    "release", [pytest.param(OLDER, id="older"), pytest.param(TARGET, id="target")]
)
def test_an_op_in_no_registry_needs_a_custom_image(
    refused_models: dict[str, Path], release: str
) -> None:
    (refusal,) = static_check(refused_models["custom_op"], load_registry(release))
    assert refusal.kind == "custom-op"
    assert f"op '{models.CUSTOM_OP}' (node 'tokenize') is in no TensorFlow op registry" in (
        refusal.message
    )
    assert "needs a custom image with that op library" in refusal.message


def test_the_models_pass_against_the_release_that_has_their_ops(
    refused_models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(refused_models[name]) for name in ("newer_op", "newer_attr", "default_attr")]
    code, out = check([*paths, "--tf-serving-version", TARGET, "--static-only"], capsys)
    assert code == 0, out
    assert "3 of 3 versions pass for tensorflow/serving:2.21.0" in out


def test_the_example_models_pass_the_static_check_of_the_target_release(
    example_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check([str(example_models), "--static-only"], capsys)  # every model's versions
    assert code == 0, out
    assert "4 of 4 versions pass for tensorflow/serving:2.21.0" in out
    assert f"{example_models / 'tabular' / '2'}: ok (static; exported with TensorFlow" in out


def test_a_release_without_a_registry_is_a_usage_error(
    example_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check([str(example_models / "tabular"), "--tf-serving-version", "2.3.0"], capsys)
    assert code == 2
    assert "no op registry for TensorFlow 2.3.0" in out
    assert "python -m export.op_registry dump --release 2.3.0" in out


def test_the_card_records_what_exported_the_version_and_list_shows_it(
    example_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = json.loads(card_path(example_models / "digits" / "1").read_text())
    assert card["exported_with"] == {"tensorflow": tf.__version__, "keras": keras.__version__}
    # An older card, without the field, beside a new one.
    for version in ("1", "2"):
        target = card_path(tmp_path / "tabular" / version)
        target.parent.mkdir(parents=True)
        shutil.copy(card_path(example_models / "tabular" / version), target)
    old = json.loads(card_path(tmp_path / "tabular" / "1").read_text())
    del old["exported_with"]
    card_path(tmp_path / "tabular" / "1").write_text(json.dumps(old))
    assert main(["list", "--base-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "TF not recorded" in lines[0] and "accuracy=" in lines[0]
    assert f"TF {tf.__version__}, Keras {keras.__version__}" in lines[1]
