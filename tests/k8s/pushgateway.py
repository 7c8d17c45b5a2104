"""A real Pushgateway (Debian's `prometheus-pushgateway`) on loopback, kept in memory only."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.serverproc import free_port

BINARY = "prometheus-pushgateway"


@contextlib.contextmanager
def run_pushgateway(workdir: Path) -> Iterator[str]:
    """Start a Pushgateway on a free loopback port, yield its URL, stop it afterwards.

    Raises:
        RuntimeError: the binary is missing (`make system-deps`), exited, or was not ready
            within 20 s.
    """
    binary = shutil.which(BINARY)
    if binary is None:
        raise RuntimeError(f"{BINARY} not found on PATH: run `make system-deps`")
    port = free_port()
    log_path = workdir / "pushgateway.log"
    # An empty persistence file keeps pushes in memory: nothing survives the test.
    command = [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{BINARY} exited:\n{log_path.read_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{BINARY} not ready in 20 s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gateway_series(url: str, prefix: str) -> dict[tuple[str, frozenset], float]:
    """Return {(name, label items): value} of the series on the gateway's /metrics whose name
    starts with prefix (the gateway's own metrics and push_time_seconds left out)."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith(prefix)
    }
