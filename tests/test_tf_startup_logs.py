"""What a newcomer reads is clean: the entry points start TensorFlow without its CUDA probe and
start-up notices on a machine without a GPU, and real warnings and errors still show (tflog)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tflog
from launcher import free_port

ROOT = Path(__file__).resolve().parents[1]

# What TensorFlow prints at start-up on a CPU-only machine when nothing silences it.
PROBE_MARKERS = re.compile(
    r"cuInit|cuda|cuDNN|cuFFT|cuBLAS|TensorRT|oneDNN|absl::InitializeLog|cpu_feature_guard",
    re.IGNORECASE,
)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the settings tflog makes (this test process made them too), so
    that the child shows what the entry point does on its own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"TF_CPP_MIN_LOG_LEVEL", "TF_ENABLED_DEVICE_TYPES", tflog.SHOW_ALL}
    }
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def run(
    args: list[str], env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def probe_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if PROBE_MARKERS.search(line)]


def test_an_entry_point_that_imports_tensorflow_prints_no_probe_lines() -> None:
    done = run(["-m", "demo", "--help"], clean_env())  # demo imports TensorFlow at the top
    assert done.returncode == 0, done.stderr[-3000:]
    assert "usage: python -m demo" in done.stdout
    assert probe_lines(done.stderr) == [], done.stderr


SESSION_SCRIPT = textwrap.dedent(
    """
    import sys
    import warnings

    import tflog

    tflog.quiet()
    import tensorflow as tf

    tf.compat.v1.Session().close()  # the devices: where the CUDA probe (cuInit) happens
    print(float(tf.constant(1.0) + 1), flush=True)
    print("== started", file=sys.stderr, flush=True)
    try:
        tf.io.read_file("/nonexistent/tflog-test")  # a C++ LOG(WARNING) from the kernel
    except tf.errors.NotFoundError:
        print("read failed", flush=True)
    tf.get_logger().warning("tflog-test: a TensorFlow Python warning")
    warnings.warn("tflog-test: a Python warning", stacklevel=1)
    """
)


def test_real_warnings_after_start_up_still_show() -> None:
    done = run(["-c", SESSION_SCRIPT], clean_env())
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["2.0", "read failed"]
    before, started, after = done.stderr.partition("== started\n")
    assert started, done.stderr
    assert probe_lines(done.stderr) == [], done.stderr
    assert re.search(
        r"^W\d{4} .*\] OP_REQUIRES failed at .*NOT_FOUND: /nonexistent/tflog-test", after, re.M
    ), done.stderr
    assert "tflog-test: a TensorFlow Python warning" in after
    assert "UserWarning: tflog-test: a Python warning" in after


def test_show_all_leaves_tensorflow_alone() -> None:
    """TFLOG_SHOW_ALL=1: what TensorFlow prints unfiltered (here: the probe lines this hides)."""
    done = run(
        ["-c", "import tflog; tflog.quiet(); import tensorflow"], clean_env(TFLOG_SHOW_ALL="1")
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert probe_lines(done.stderr), done.stderr


FILTER_SCRIPT = textwrap.dedent(
    """
    import os
    import sys

    import tflog

    print("before", file=sys.stderr, flush=True)
    with tflog.filtered_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
        os.write(2, b"I0000 00:00:1796280096.939908   25719 port.cc:153] oneDNN custom operations are on. You may see\\n")
        os.write(2, b"W0000 00:00:1796280096.939909   25719 port.cc:160] a real warning from the same file\\n")
        os.write(2, b"I0000 00:00:1796280096.940356   25719 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\\n")
        print("python during", file=sys.stderr)
        os.write(2, b"E0000 00:00:1796280112.473334   25800 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\\n")
        os.write(2, b"E0000 00:00:1796280112.473335   25800 some_kernel.cc:1] a real error\\n")
        os.write(2, b"x" * 200_000 + b"\\n")  # more than a pipe holds: must not block
        os.write(2, b"no newline at the end")
    print("after", file=sys.stderr, flush=True)
    """
)


def test_the_filter_keeps_every_other_line_in_order_and_never_blocks() -> None:
    done = run(["-c", FILTER_SCRIPT], clean_env(), timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.split("\n") == [
        "before",
        "W0000 00:00:1796280096.939909   25719 port.cc:160] a real warning from the same file",
        "python during",
        "E0000 00:00:1796280112.473335   25800 some_kernel.cc:1] a real error",
        "x" * 200_000,
        "no newline at the endafter",
        "",
    ]


def test_settings_already_in_the_environment_win() -> None:
    env = tflog.environment({"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLED_DEVICE_TYPES": "CPU,GPU"})
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert env["TF_ENABLED_DEVICE_TYPES"] == "CPU,GPU"
    assert tflog.environment({})["TF_CPP_MIN_LOG_LEVEL"] == "1"  # warnings and errors show
    assert tflog.environment({tflog.SHOW_ALL: "1"}) == {tflog.SHOW_ALL: "1"}


@pytest.mark.slow
def test_the_demo_output_has_no_cuda_probe_lines(example_models: Path, tmp_path: Path) -> None:
    """`make demo` as a newcomer runs it: every line it prints, none of them a probe line."""
    config = tmp_path / "models.config"
    rendered = run(
        [
            "-m",
            "serving_config",
            "render",
            "--models-root",
            str(example_models),
            "--out",
            str(config),
        ],
        clean_env(),
        timeout=60,
    )
    assert rendered.returncode == 0, rendered.stderr
    done = run(
        [
            "-m",
            "demo",
            "--models",
            str(example_models),
            "--config",
            str(config),
            "--port",
            str(free_port()),
            "--rest-port",
            str(free_port()),
        ],
        clean_env(),
        timeout=480,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "server stopped" in done.stdout
    assert probe_lines(output) == [], output
