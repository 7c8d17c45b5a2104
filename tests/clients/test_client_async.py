"""AsyncGrpcClient against the embedded server: the same results and errors as GrpcClient."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest
from grpc import aio

from clients import (
    AsyncGrpcClient,
    DeadlineExceededError,
    GrpcClient,
    InvalidInputError,
    ModelNotFoundError,
    VersionStatus,
)
from tests.clients.conftest import CANARY, STABLE


def run(server, use: Callable[[AsyncGrpcClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with AsyncGrpcClient(server.grpc) as client:
            return await use(client)

    return asyncio.run(main())


def test_predict(server) -> None:
    outputs = run(server, lambda c: c.predict("half_plus_two", [1.0, 2.0], label="stable"))
    assert outputs["y"].dtype == np.float32
    assert outputs["y"].tolist() == [2.5, 3.0]


def test_many_calls_in_flight_share_one_channel(server) -> None:
    async def use(client: AsyncGrpcClient) -> list[dict[str, np.ndarray]]:
        calls = [
            client.predict("half_plus_two", {"x": np.array([float(i)], np.float32)}, version=CANARY)
            for i in range(20)
        ]
        return await asyncio.gather(*calls)

    results = run(server, use)
    assert [r["y"].tolist() for r in results] == [[0.5 * i + 3] for i in range(20)]


def test_classify_regress_status_and_metadata(server) -> None:
    async def use(client: AsyncGrpcClient) -> tuple:
        examples = [{"x": 1.0}]
        return await asyncio.gather(
            client.classify("half_plus_two", examples, version=STABLE, signature="classify_x_to_y"),
            client.regress("half_plus_two", examples, signature="regress_x_to_y"),
            client.get_model_status("half_plus_two", version=STABLE),
            client.get_model_metadata("identity"),
        )

    classes, values, status, metadata = run(server, use)
    assert classes == [[("y", 2.5)]]
    assert values == [3.5]
    assert status == [VersionStatus(STABLE, "AVAILABLE", "OK", "")]
    with GrpcClient(server.grpc) as sync_client:
        assert metadata == sync_client.get_model_metadata("identity")


def test_strings(server) -> None:
    outputs = run(server, lambda c: c.predict("identity", {"x": [b"\x00\xff"]}, signature="string"))
    assert outputs["y_bytes"].tolist() == [b"\x00\xff"]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(lambda c: c.predict("nope", {"x": [1.0]}), ModelNotFoundError, id="model"),
        pytest.param(
            lambda c: c.predict("half_plus_two", {"z": np.ones(1, np.float32)}),
            InvalidInputError,
            id="input",
        ),
        pytest.param(
            lambda c: c.get_model_metadata("half_plus_two", label="nope"),
            InvalidInputError,
            id="label",
        ),
        pytest.param(
            lambda c: c.get_model_status("half_plus_two", timeout=1e-6),
            DeadlineExceededError,
            id="deadline",
        ),
    ],
)
def test_errors(server, call, error) -> None:
    with pytest.raises(error) as raised:
        run(server, call)
    if error is not DeadlineExceededError:
        assert isinstance(raised.value.__cause__, aio.AioRpcError)
        assert raised.value.message == raised.value.__cause__.details()
