"""Publish a new version into a served model's base path, as an export does, and wait for it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import requests

from export.publish import publish, reserve_version
from exported.layout import WARMUP_PATH

__all__ = ["SwapError", "first_request_ms", "publish_copy", "wait_available"]


class SwapError(Exception):
    """The new version could not be published or did not become AVAILABLE in time."""


def publish_copy(source: Path, model_dir: Path, *, warmup: bool = True) -> int:
    """Copy the SavedModel at source into model_dir as the next version (atomically: staged
    beside it, then renamed), without its warmup file when warmup is False; returns the version.

    Raises:
        SwapError: source is not a SavedModel folder.
    """
    if not (source / "saved_model.pb").is_file():
        raise SwapError(f"{source} is not a SavedModel version folder (no saved_model.pb)")
    version, staging = reserve_version(model_dir)
    shutil.copytree(source, staging, dirs_exist_ok=True)
    if not warmup:
        (staging / WARMUP_PATH).unlink(missing_ok=True)
    publish(staging, model_dir, version)
    return version


def wait_available(rest_url: str, model: str, version: int, timeout: float = 120.0) -> float:
    """Poll GetModelStatus over REST until version is AVAILABLE; returns the time.time() then.

    Raises:
        SwapError: it did not become AVAILABLE within timeout seconds.
    """
    url = f"{rest_url.rstrip('/')}/v1/models/{model}/versions/{version}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            states = [
                v.get("state")
                for v in requests.get(url, timeout=5).json().get("model_version_status", [])
            ]
        except (requests.RequestException, ValueError):
            states = []
        if "AVAILABLE" in states:
            return time.time()
        time.sleep(0.05)
    raise SwapError(f"version {version} of {model} was not AVAILABLE within {timeout:g}s")


def first_request_ms(rest_url: str, model: str, version: int, body: bytes) -> float:
    """The latency of one predict sent to that version (the body of the workload's first batch).

    Raises:
        SwapError: the server did not answer 200.
    """
    url = f"{rest_url.rstrip('/')}/v1/models/{model}/versions/{version}:predict"
    started = time.perf_counter()
    response = requests.post(
        url, data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    took = (time.perf_counter() - started) * 1000.0
    if response.status_code != 200:
        raise SwapError(
            f"first request to version {version}: HTTP {response.status_code} {response.text[:200]}"
        )
    return round(took, 3)
