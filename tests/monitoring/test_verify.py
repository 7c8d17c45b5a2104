"""`python -m monitoring verify` against the embedded server on the real exported models.

Served: tabular 1 (the real export, label stable), tabular 2 (tampered: a SavedModel that
answers class 0 for every row, with version 1's card and test split; label canary) and
regressor 1. A second models root, `swapped`, holds the tampered SavedModel as tabular 1, so
verifying the real served version 1 against it must find the predictions differ.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from monitoring.__main__ import main
from tests.serverproc import RunningServer, free_port


@pytest.fixture(scope="module")
def models(tampered_models: Path, tmp_path_factory) -> Path:
    """The session's tampered models, with `swapped` beside them in a copy of this module's."""
    root = tmp_path_factory.mktemp("verify-models")
    for model in ("tabular", "regressor"):
        shutil.copytree(tampered_models / model, root / model)
    shutil.copytree(root / "tabular" / "2", root / "swapped" / "tabular" / "1")
    return root


@pytest.fixture(scope="module")
def server(tampered_server: RunningServer) -> RunningServer:
    return tampered_server


def verify(server: RunningServer, models_root: Path, tmp_path: Path, *options: str):
    summary = tmp_path / "verify.json"
    argv = ["verify", "--rest", server.rest, "--grpc", server.grpc]
    argv += ["--models-root", str(models_root), "--json", str(summary), *options]
    code = main(argv)
    return code, json.loads(summary.read_text()) if summary.exists() else None


def verdicts(summary: dict) -> dict[tuple[str, str], bool | None]:
    return {(c["name"], c["transport"]): c["passed"] for c in summary["checks"]}


@pytest.mark.parametrize(
    ("model", "options", "version"),
    [
        pytest.param("tabular", ["--label", "stable"], 1, id="classifier-by-label"),
        pytest.param("regressor", [], 1, id="regressor-latest"),
    ],
)
def test_the_real_export_passes(server, models, tmp_path, capsys, model, options, version):
    # An SLO no loaded machine misses: this is about answers, versions and metrics; the SLO
    # check itself is proven by test_an_impossible_slo_fails.
    slo = ["--slo-p99-ms", "60000"]
    code, summary = verify(server, models, tmp_path, "--model", model, *options, *slo)
    out = capsys.readouterr().out
    assert code == 0, out
    assert summary["version"] == version and summary["passed"] is True
    assert set(verdicts(summary).values()) == {True}
    assert len(summary["checks"]) == 1 + 3 * 2  # version, then three per transport
    card = summary["metrics"]["card"]
    for transport in ("rest", "grpc"):
        assert summary["metrics"][transport] == pytest.approx(card, rel=1e-5)
    assert out.rstrip().endswith(f"PASS: {model} version {version} is served as exported")


def test_a_tampered_version_fails_on_the_card(server, models, tmp_path, capsys) -> None:
    """The tampered version answers as its own SavedModel does, but not as its card claims."""
    code, summary = verify(server, models, tmp_path, "--model", "tabular", "--label", "canary")
    out = capsys.readouterr().out
    assert code == 1, out
    assert summary["version"] == 2
    checks = verdicts(summary)
    for transport in ("rest", "grpc"):
        assert checks[("predictions match the SavedModel", transport)] is True
        assert checks[("metrics equal the card", transport)] is False
    assert "card differs: accuracy" in out and out.rstrip().endswith("FAIL: 2 check(s) failed")


def test_served_answers_unlike_the_savedmodel_fail(server, models, tmp_path, capsys) -> None:
    """Verifying served version 1 against another copy of version 1 (the tampered model)."""
    options = ["--model", "tabular", "--version", "1"]
    code, summary = verify(server, models / "swapped", tmp_path, *options)
    assert code == 1
    # The swapped copy's card names version 2, the version the server answers with is 1.
    assert verdicts(summary)[("served version is the exported one", "all")] is False
    compared = [c for c in summary["checks"] if c["name"] == "predictions match the SavedModel"]
    assert [c["transport"] for c in compared] == ["rest", "grpc"]
    for check in compared:
        assert check["passed"] is False
        mismatched, rows = check["detail"].split(" rows differ")[0].split("/")
        # The real model answers class 1 for most rows, the tampered one class 0 for all.
        assert int(rows) == summary["rows"] and int(mismatched) > int(rows) // 2


def test_an_impossible_slo_fails(server, models, tmp_path) -> None:
    options = ["--model", "regressor", "--slo-p99-ms", "0.001"]
    code, summary = verify(server, models, tmp_path, *options)
    assert code == 1
    checks = verdicts(summary)
    assert (
        checks[("p99 within SLO", "rest")] is False and checks[("p99 within SLO", "grpc")] is False
    )
    assert checks[("metrics equal the card", "grpc")] is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(["--label", "nightly"], "nightly", id="unknown-label"),
        pytest.param(["--version", "7"], "7", id="unknown-version"),
    ],
)
def test_what_cannot_be_verified_exits_2(server, models, tmp_path, capsys, options, message):
    code, summary = verify(server, models, tmp_path, "--model", "tabular", *options)
    err = capsys.readouterr().err
    assert code == 2 and summary is None
    assert err.startswith("verify: ") and message in err


def test_no_server_exits_2(models, tmp_path, capsys) -> None:
    port = free_port()
    argv = ["verify", "--grpc", f"127.0.0.1:{port}", "--model", "tabular", "--timeout", "2"]
    assert main([*argv, "--models-root", str(models)]) == 2
    assert capsys.readouterr().err.startswith("verify: ")


def test_no_transport_exits_2(capsys) -> None:
    assert main(["verify", "--model", "tabular"]) == 2
    assert "--rest URL, --grpc HOST:PORT" in capsys.readouterr().err
