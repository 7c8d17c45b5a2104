"""reload_config through GrpcClient and AsyncGrpcClient: models come and go, and it is never retried."""

from __future__ import annotations

import asyncio
import logging

import grpc
import numpy as np
import pytest

from clients import (
    AsyncGrpcClient,
    GrpcClient,
    InvalidInputError,
    ModelConfigSpec,
    ModelNotFoundError,
    RetryPolicy,
    ServerError,
    ServerUnavailableError,
    VersionStatus,
)
from tests.clients.conftest import STABLE
from tests.serverproc import free_port
from wire import protos

COPY = "half_plus_two_copy"


def test_reload_adds_then_removes_a_model(server, served_models) -> None:
    copy = ModelConfigSpec(COPY, served_models[0].base_path, versions=[STABLE])
    with GrpcClient(server.grpc, timeout=120) as client:
        client.reload_config([*served_models, copy])
        assert client.get_model_status(COPY) == [VersionStatus(STABLE, "AVAILABLE", "OK", "")]
        assert client.predict(COPY, {"x": [2.0]})["y"].tolist() == [3.0]
        client.reload_config(served_models)
        assert client.get_model_status(COPY)[0].state == "END"
        with pytest.raises(ModelNotFoundError):
            client.predict(COPY, {"x": np.array([2.0], np.float32)})
        assert client.get_model_status("half_plus_two", version=STABLE)[0].state == "AVAILABLE"


def test_reload_refuses_an_empty_config(server) -> None:
    with GrpcClient(server.grpc) as client, pytest.raises(InvalidInputError, match="not supported"):
        client.reload_config(protos.ModelServerConfig())


def test_async_reload_with_a_model_server_config(server, served_models) -> None:
    config = protos.ModelServerConfig()
    for spec in served_models:
        spec.fill(config.model_config_list.config.add())

    async def reload() -> list[VersionStatus]:
        async with AsyncGrpcClient(server.grpc, timeout=120) as client:
            await client.reload_config(config)
            return await client.get_model_status("tabular")

    assert [s.version for s in asyncio.run(reload())] == [2, 1]


def test_reload_is_not_retried(caplog) -> None:
    policy = RetryPolicy(max_attempts=5, initial_backoff=0.01)
    with (
        caplog.at_level(logging.DEBUG, logger="clients.retry"),
        GrpcClient(f"127.0.0.1:{free_port()}", retry=policy) as client,
    ):
        with pytest.raises(ServerUnavailableError):
            client.reload_config([ModelConfigSpec("m", "/nowhere")], timeout=5)
        assert not [r for r in caplog.records if "retrying" in r.message]
        with pytest.raises(ServerUnavailableError):
            client.get_model_status("m", timeout=5)  # reads are retried by the same client
        assert len([r for r in caplog.records if "retrying" in r.message]) == 4


def test_a_model_that_fails_to_load_is_a_server_error(server, served_models, tmp_path) -> None:
    broken = ModelConfigSpec("broken", str(tmp_path / "broken"), versions=[1])
    (tmp_path / "broken" / "1").mkdir(parents=True)  # a version folder with no SavedModel in it
    with GrpcClient(server.grpc, timeout=120) as client:
        try:
            with pytest.raises(ServerError, match="broken") as raised:
                client.reload_config([*served_models, broken])
            assert raised.value.code == grpc.StatusCode.UNKNOWN
        finally:
            client.reload_config(served_models)
        assert client.predict("half_plus_two", {"x": [2.0]}, label="stable")["y"].tolist() == [3.0]
