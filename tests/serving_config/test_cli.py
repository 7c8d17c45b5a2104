"""`python -m serving_config` as a user runs it: output lines and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "serving_config", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_passes_the_shipped_files(models_root: Path) -> None:
    result = run_cli("check", "--models-root", models_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "OK: serving_config/models.config (3 models)",
        "OK: serving_config/batching_parameters.txt (BatchingParameters)",
        "OK: serving_config/monitoring.config (MonitoringConfig)",
    ]


def test_check_fails_when_the_models_are_not_exported(tmp_path: Path) -> None:
    result = run_cli("check", "--models-root", tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith('serving_config/models.config:9: model "tabular": base_path')
    assert "does not exist" in lines[0]
    assert len([line for line in lines if "does not exist" in line]) == 3
    assert "OK: serving_config/batching_parameters.txt (BatchingParameters)" in lines


def test_check_reports_file_and_line_for_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "batching.txt"
    bad.write_text("max_batch_size { value: 8 }\nallowed_batch_sizes: [4, 16]\n")
    result = run_cli("check", bad)
    assert result.returncode == 1
    assert result.stdout == (
        f"{bad}:2: last allowed_batch_sizes entry 16 must equal max_batch_size 8; "
        "TF Serving refuses to load models otherwise\n"
    )


@pytest.mark.parametrize(
    ("kind_args", "returncode"),
    [
        pytest.param([], 1, id="kind-not-inferable"),
        pytest.param(["--kind", "monitoring"], 0, id="forced"),
    ],
)
def test_kind_can_be_forced(tmp_path: Path, kind_args: list[str], returncode: int) -> None:
    path = tmp_path / "metrics.txt"
    path.write_text("prometheus_config { enable: true }\n")
    result = run_cli("check", *kind_args, path)
    assert result.returncode == returncode, result.stdout


def test_render_writes_a_config_the_checker_accepts(models_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "build" / "models.config"
    rendered = run_cli("render", "--models-root", models_root, "--out", out)
    assert rendered.returncode == 0, rendered.stderr
    assert f'base_path: "{models_root}/tabular"' in out.read_text()
    checked = run_cli("check", out, "--models-root", tmp_path / "nowhere")
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout == f"OK: {out} (3 models)\n"


def test_render_prints_to_stdout_without_out(models_root: Path) -> None:
    result = run_cli("render", "--models-root", models_root)
    assert result.returncode == 0
    assert f'base_path: "{models_root}/regressor"' in result.stdout


@pytest.mark.parametrize(
    ("args", "returncode"),
    [
        pytest.param(["--help"], 0, id="help"),
        pytest.param(["check", "--help"], 0, id="check-help"),
        pytest.param([], 2, id="no-command"),
        pytest.param(["render"], 2, id="render-needs-models-root"),
        pytest.param(["check", "--kind", "yaml", "x"], 2, id="unknown-kind"),
    ],
)
def test_usage(args: list[str], returncode: int) -> None:
    assert run_cli(*args).returncode == returncode
