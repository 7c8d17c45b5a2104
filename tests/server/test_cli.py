"""`python -m server` command line: help, version, flag errors and start-up failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*flags: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_the_flags() -> None:
    result = run("--help")
    assert result.returncode == 0
    for flag in ["--port", "--rest_api_port", "--model_config_file", "--enable_batching", "--host"]:
        assert flag in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert (
        result.stdout.startswith("TensorFlow ModelServer:")
        and "TensorFlow Library: 2.21" in result.stdout
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(["--rest_port=8501"], "did you mean --rest_api_port", id="typo"),
        pytest.param(
            ["--port=1"],
            "Both server_options.model_base_path and server_options.model_config_file are empty!",
            id="no-model",
        ),
        pytest.param(
            ["--model_base_path=/m", "--batching_parameters_file=/b"],
            "without setting server_options.enable_batching",
            id="batching-file-alone",
        ),
        pytest.param(
            ["--model_base_path=/m", "--prefer_tflite_model"], "does not support", id="unsupported"
        ),
        pytest.param(["--model_base_path=/m", "--port=notanumber"], "--port", id="bad-value"),
    ],
)
def test_flag_errors_exit_2_with_a_reason(flags, message) -> None:
    result = run(*flags)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param(
            "model_config_list { config { name: 'm' nonsense: 1 } }",
            "Error parsing text-format tensorflow.serving.ModelServerConfig",
            id="unparsable",
        ),
        pytest.param(
            "model_config_list { config { name: 'm' base_path: 'relative' model_platform: 'tensorflow' } }",
            "Expected model m to have an absolute path or URI",
            id="relative-path",
        ),
        pytest.param(
            "model_config_list { config { name: 'm' base_path: '/tmp' model_platform: 'tensorflow' logging_config { } } }",
            "No request-logger-creator provided.",
            id="logging-config",
        ),
        pytest.param(
            "model_config_list { config { name: 'm' base_path: '/tmp' model_platform: 'tensorflow' } "
            "config { name: 'm' base_path: '/tmp' model_platform: 'tensorflow' } }",
            "Illegal to list model m multiple times",
            id="duplicate",
        ),
    ],
)
def test_bad_config_stops_start_up(tmp_path, config, message) -> None:
    path = tmp_path / "models.config"
    path.write_text(config)
    result = run(
        f"--model_config_file={path}", "--port=0", "--grpc_socket_path=" + str(tmp_path / "sock")
    )
    assert result.returncode == 255
    assert "Failed to start server. Error:" in result.stderr and message in result.stderr
