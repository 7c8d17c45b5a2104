"""Client-side load balancing: with round_robin, calls spread over every address of the target.

Two servers on loopback stand in for the pods behind a headless Kubernetes Service; an
"ipv4:" target lists both, as DNS would for the Service. Each server's Prometheus metrics
count the predict calls it answered.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from clients import AsyncGrpcClient, GrpcClient
from tests.clients.conftest import (
    METRICS_PATH,
    start_servers,
    write_models_config,
    write_monitoring_config,
)
from tests.serverproc import RunningServer

CALLS = 40
X = {"x": np.array([1.0], np.float32)}


@pytest.fixture(scope="module")
def second_server(served_models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("second")
    flags = [
        f"--model_config_file={write_models_config(folder, served_models[:1])}",
        "--allow_version_labels_for_unavailable_models",
        f"--monitoring_config_file={write_monitoring_config(folder)}",
    ]
    with start_servers((flags, folder, "second")) as (running,):
        yield running


def ok_predicts(server: RunningServer) -> float:
    text = requests.get(server.rest + METRICS_PATH, timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name == ":tensorflow:serving:request_count":
            return sum(
                s.value
                for s in family.samples
                if s.labels == {"model_name": "half_plus_two", "status": "OK"}
            )
    return 0.0


def both_targets(first: RunningServer, second: RunningServer) -> str:
    return f"ipv4:{first.grpc},{second.grpc}"


def served_per_server(servers: list[RunningServer], call) -> list[float]:
    before = [ok_predicts(s) for s in servers]
    call()
    return [ok_predicts(s) - b for s, b in zip(servers, before, strict=True)]


def test_round_robin_spreads_calls_over_both_servers(server, second_server) -> None:
    servers = [server, second_server]
    target = both_targets(server, second_server)

    def predict_many() -> None:
        with GrpcClient(target, load_balancing="round_robin") as client:
            for _ in range(CALLS):
                client.predict("half_plus_two", X)

    counts = served_per_server(servers, predict_many)
    assert sum(counts) == CALLS
    assert min(counts) >= CALLS // 4, counts


def test_without_load_balancing_one_connection_takes_every_call(server, second_server) -> None:
    servers = [server, second_server]

    def predict_many() -> None:
        with GrpcClient(both_targets(server, second_server)) as client:
            for _ in range(CALLS // 2):
                client.predict("half_plus_two", X)

    assert sorted(served_per_server(servers, predict_many)) == [0, CALLS // 2]


def test_async_round_robin(server, second_server) -> None:
    servers = [server, second_server]
    target = both_targets(server, second_server)

    async def predict_many() -> None:
        async with AsyncGrpcClient(target, load_balancing="round_robin") as client:
            for _ in range(CALLS):
                await client.predict("half_plus_two", X)

    counts = served_per_server(servers, lambda: asyncio.run(predict_many()))
    assert sum(counts) == CALLS and min(counts) >= CALLS // 4, counts
