"""A real Pushgateway (Debian's `prometheus-pushgateway`) on loopback, kept in memory only."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.serverproc import free_port
from tests.support.daemons import run_until_stopped

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
    url = f"http://127.0.0.1:{port}"
    with run_until_stopped(BINARY, command, log_path, f"{url}/-/ready", timeout=20):
        yield url


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
