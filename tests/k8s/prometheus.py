"""A real Prometheus (the `prometheus` binary) on loopback, and the HTTP API calls the tests use."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import yaml

from deploy_checks.tools import find_tool
from tests.serverproc import free_port
from tests.support.daemons import run_until_stopped


class PrometheusApi:
    """Prometheus' /api/v1 endpoints, answering the `data` part of each reply."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _get(self, path: str, **params: Any) -> Any:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        if body.get("status") != "success":
            raise AssertionError(f"GET /api/v1/{path} {params}: {body.get('error', body)}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Return the instant vector expr evaluates to now (an empty list when no data).

        Raises:
            AssertionError: Prometheus refused the expression.
        """
        data = self._get("query", query=expr)
        assert data["resultType"] == "vector", f"{expr}: {data['resultType']} result"
        return data["result"]

    def label_values(self, label: str, match: str | None = None) -> list[str]:
        params = {"match[]": match} if match else {}
        return self._get(f"label/{label}/values", **params)

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self._get("rules")["groups"] for rule in group["rules"]]

    def alerts(self) -> list[dict[str, Any]]:
        return self._get("alerts")["alerts"]

    def targets(self) -> list[dict[str, Any]]:
        return self._get("targets")["activeTargets"]


@contextlib.contextmanager
def run_prometheus(config: dict[str, Any], workdir: Path) -> Iterator[PrometheusApi]:
    """Start Prometheus with config (a prometheus.yml as data) and stop it afterwards.

    Raises:
        ToolMissing: the prometheus binary is not installed (`make system-deps`).
        RuntimeError: it exited or did not become ready within 30 s.
    """
    binary = find_tool("prometheus")
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    log_path = workdir / "prometheus.log"
    command = [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with run_until_stopped("prometheus", command, log_path, f"{url}/-/ready", timeout=30):
        yield PrometheusApi(url)
