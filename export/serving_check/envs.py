"""Cached virtual environments holding one TensorFlow release each, built on demand.

`python -m export check-serving` runs a version in the TensorFlow of the target TF Serving
release, and `python -m export.op_registry dump` records that release's op registry; both
need that release's Python package beside the project's own environment, which stays as it
is. Each env lives at `<root>/tensorflow-cpu-<release>/` (root: $TFSERVING_BUNDLE_SERVING_ENVS,
else ~/.cache/tfserving-bundle/serving-envs). Building one (`python -m venv` and
`pip install tensorflow-cpu==<release>`) takes a minute or two and happens once: callers
wait on a lock file, the env is built in a temporary folder beside its final place and
renamed there when it imports the pinned TensorFlow, so no caller ever sees half an env.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import tflog

log = logging.getLogger(__name__)

ROOT_VARIABLE = "TFSERVING_BUNDLE_SERVING_ENVS"
PACKAGE = "tensorflow-cpu"
READY_FILE = "serving-env.json"  # written last, before the rename: an env without it is not one


class ServingEnvError(RuntimeError):
    """An env could not be built (pip failed, or the TensorFlow it installed is another)."""


def envs_root() -> Path:
    """Where the envs are kept: $TFSERVING_BUNDLE_SERVING_ENVS, else the user's cache."""
    override = os.environ.get(ROOT_VARIABLE)
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tfserving-bundle" / "serving-envs"


def env_dir(release: str) -> Path:
    return envs_root() / f"{PACKAGE}-{release}"


def installed_tensorflow() -> str | None:
    """The TensorFlow version of the running environment, read without importing it."""
    for name in ("tensorflow", "tensorflow-cpu"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def tensorflow_python(release: str) -> Path:
    """An interpreter that imports TensorFlow `release`: this one when it already does,
    else the cached env's (built now if missing; see the module docstring).

    Raises:
        ServingEnvError: the env could not be built.
        OSError: the cache folder cannot be written.
    """
    if installed_tensorflow() == release:
        log.info("TensorFlow %s is this environment's own: running it here", release)
        return Path(sys.executable)
    return serving_env_python(release)


def serving_env_python(release: str) -> Path:
    """The cached env's interpreter for `release`, building the env first if it is missing.

    Raises:
        ServingEnvError: pip failed, or the env does not import TensorFlow `release`.
        OSError: the cache folder cannot be written.
    """
    target = env_dir(release)
    if (target / READY_FILE).is_file():
        return target / "bin" / "python"
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        if (target / READY_FILE).is_file():
            return target / "bin" / "python"
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process building %s", target)
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / READY_FILE).is_file():  # built by whoever held the lock
            _build(release, target)
    return target / "bin" / "python"


def _build(release: str, target: Path) -> None:
    for stale in target.parent.glob(f".{target.name}.building-*"):  # an interrupted build
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():  # a folder without the ready file: not ours to trust
        shutil.rmtree(target)
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    log.info(
        "building a TensorFlow %s environment in %s (python -m venv, pip install %s==%s):"
        " a minute or two, done once",
        release,
        target,
        PACKAGE,
        release,
    )
    try:
        # The env is used only as `bin/python -m ...`, which finds its prefix from where it
        # is, so renaming it after the build is safe (the scripts in bin/ are never run).
        _run([sys.executable, "-m", "venv", str(staging)])
        python = str(staging / "bin" / "python")
        pip = [python, "-m", "pip", "install", "--quiet", "--progress-bar", "off"]
        _run([*pip, f"{PACKAGE}=={release}"])
        probe = "import tensorflow as tf; print(tf.__version__)"
        found = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found != release:
            raise ServingEnvError(f"the env at {staging} imports TensorFlow {found or 'none'}")
        seconds = round(time.perf_counter() - started, 1)
        ready = {"package": PACKAGE, "release": release, "built_seconds": seconds}
        (staging / READY_FILE).write_text(json.dumps(ready) + "\n")
        staging.chmod(0o755)  # mkdtemp made it private; the env is a cache like any other
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("TensorFlow %s environment ready in %.0fs", release, time.perf_counter() - started)


def run_quietly(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a TensorFlow process with tflog's settings; its stderr, less TensorFlow's start-up
    noise, comes back in the result (stdout too)."""
    done = subprocess.run(
        command, capture_output=True, text=True, env=tflog.environment(), check=False
    )
    kept = [line for line in done.stderr.splitlines() if not tflog.is_startup_noise(line.encode())]
    return subprocess.CompletedProcess(command, done.returncode, done.stdout, "\n".join(kept))


def _run(command: list[str]) -> None:
    # pip's own output goes to stderr, so a user waiting sees what it downloads.
    done = subprocess.run(command, stdout=2, stderr=2, check=False)
    if done.returncode != 0:
        raise ServingEnvError(f"{' '.join(command)} failed with exit status {done.returncode}")
