"""`python -m server` command line: help, version, flag errors and start-up failures."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.models import save_half_plus_two

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


def test_a_grpc_port_in_use_is_one_start_up_line_not_a_traceback(tmp_path) -> None:
    with socket.socket(socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET) as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        taken.bind(("::" if socket.has_ipv6 else "0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        base = tmp_path / "m"
        save_half_plus_two(base / "1")
        result = run(f"--port={port}", "--model_name=m", f"--model_base_path={base}")
    assert result.returncode == 255, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    failures = [line for line in result.stderr.splitlines() if "Failed to start server" in line]
    assert len(failures) == 1 and str(port) in failures[0], result.stderr[-2000:]
