"""Each error class, from a real server's answers (or its absence), over both transports."""

from __future__ import annotations

import logging
import socket
import time

import grpc
import numpy as np
import pytest
import requests

from clients import (
    DeadlineExceededError,
    GrpcClient,
    InvalidInputError,
    ModelNotFoundError,
    ResourceExhaustedError,
    RestClient,
    RetryPolicy,
    ServerUnavailableError,
)
from clients.client import DEFAULT_TIMEOUT
from tests.clients.conftest import MAX_REQUEST_BYTES, TRANSPORTS, make_client
from tests.serverproc import RunningServer, free_port

X = {"x": np.array([1.0], np.float32)}


def code(client, grpc_code: grpc.StatusCode, http_status: int):
    return grpc_code if isinstance(client, GrpcClient) else http_status


def cause(client) -> type[Exception]:
    return grpc.RpcError if isinstance(client, GrpcClient) else requests.RequestException


def test_unknown_model(client) -> None:
    with pytest.raises(ModelNotFoundError) as raised:
        client.predict("no_such_model", X)
    assert "Servable not found for request: Latest(no_such_model)" in raised.value.message
    assert raised.value.code == code(client, grpc.StatusCode.NOT_FOUND, 404)
    assert isinstance(raised.value.__cause__, cause(client))
    with pytest.raises(ModelNotFoundError, match="no_such_model"):
        client.get_model_status("no_such_model")


def test_unknown_version(client) -> None:
    with pytest.raises(ModelNotFoundError, match=r"Specific\(half_plus_two, 7\)"):
        client.predict("half_plus_two", X, version=7)
    with pytest.raises(ModelNotFoundError, match="Could not find version 7"):
        client.get_model_status("half_plus_two", version=7)


def test_unknown_label(client) -> None:
    with pytest.raises(InvalidInputError, match="Unrecognized servable version label: nope"):
        client.predict("half_plus_two", X, label="nope")


def test_unknown_signature(client) -> None:
    with pytest.raises(InvalidInputError, match="missing_sig") as raised:
        client.predict("half_plus_two", X, signature="missing_sig")
    # gRPC's server answers FAILED_PRECONDITION; REST finds out from the model's metadata.
    assert raised.value.code == code(client, grpc.StatusCode.FAILED_PRECONDITION, None)
    with pytest.raises(InvalidInputError, match="No signature was found with the name: nope"):
        client.classify("half_plus_two", [{"x": 1.0}], signature="nope")


def test_bad_inputs(client) -> None:
    with pytest.raises(InvalidInputError) as raised:
        client.predict("half_plus_two", {"wrong_name": np.array([1.0], np.float32)})
    assert raised.value.code == code(client, grpc.StatusCode.INVALID_ARGUMENT, 400)
    assert "x" in raised.value.message and raised.value.message in str(raised.value)
    with pytest.raises(InvalidInputError):
        client.predict("identity", {"x": [1.5]}, signature="int32")  # not silently truncated
    with pytest.raises(InvalidInputError):
        client.predict("half_plus_two", X, output_filter=["nope"])


def test_a_bare_value_needs_a_one_input_signature(client) -> None:
    with pytest.raises(ValueError, match="one input"):
        client.predict("half_plus_two", [1.0], signature="two_inputs")


def test_deadline_passed_before_sending(client) -> None:
    with pytest.raises(DeadlineExceededError):
        client.predict("half_plus_two", X, timeout=1e-6)


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel's backlog) but never answers: a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hung_server_hits_the_deadline(transport: str, silent_port: int) -> None:
    address = f"127.0.0.1:{silent_port}"
    started = time.monotonic()
    hung = RunningServer(f"http://{address}", address, None, None)
    with (
        make_client(transport, hung) as client,
        pytest.raises(DeadlineExceededError) as raised,
    ):
        client.predict("half_plus_two", X, timeout=0.5)
    # It waited for the deadline, and gave up on it rather than on the client's 10 s default.
    assert 0.4 < time.monotonic() - started < DEFAULT_TIMEOUT
    assert isinstance(raised.value.__cause__, cause(client))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unreachable_server_after_bounded_retries(transport: str, caplog) -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.1)
    unreachable = RunningServer(f"http://{address}", address, None, None)
    started = time.monotonic()
    with (
        caplog.at_level(logging.DEBUG, logger="clients.retry"),
        make_client(transport, unreachable, retry=policy) as client,
        pytest.raises(ServerUnavailableError) as raised,
    ):
        client.get_model_status("half_plus_two", timeout=30)
    # It stopped after its three attempts, not at the 30 s deadline.
    assert time.monotonic() - started < 30
    assert len([r for r in caplog.records if "retrying" in r.message]) == 2
    assert isinstance(raised.value.__cause__, cause(client))


def test_oversized_request(client) -> None:
    too_big = np.zeros(MAX_REQUEST_BYTES // 4 + 1024, np.float32)
    with pytest.raises(ResourceExhaustedError) as raised:
        client.predict("identity", {"x": too_big}, signature="float32")
    assert raised.value.code == code(client, grpc.StatusCode.RESOURCE_EXHAUSTED, 413)


def test_rest_and_grpc_raise_the_same_classes(server) -> None:
    calls = [
        lambda c: c.predict("no_such_model", X),
        lambda c: c.predict("half_plus_two", {"wrong": X["x"]}),
        lambda c: c.regress("half_plus_two", [{"x": 1.0}], signature="serving_default"),
        lambda c: c.get_model_metadata("half_plus_two", label="nope"),
    ]
    with GrpcClient(server.grpc) as grpc_client, RestClient(server.rest) as rest_client:
        for call in calls:
            classes = []
            for client in (grpc_client, rest_client):
                with pytest.raises(Exception) as raised:  # noqa: PT011 - compared below
                    call(client)
                classes.append(type(raised.value))
            assert classes[0] is classes[1] and classes[0] is not Exception, classes
