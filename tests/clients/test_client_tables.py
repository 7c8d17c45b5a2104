"""The error tables, model addressing and the signature cache, without a server."""

from __future__ import annotations

import grpc
import pytest

from clients.errors import (
    DeadlineExceededError,
    InvalidInputError,
    ModelNotFoundError,
    ResourceExhaustedError,
    ServerError,
    ServerUnavailableError,
    ServingClientError,
    error_for_grpc_status,
    error_for_http_status,
)
from clients.signatures import SignatureCache
from clients.spec import ModelConfigSpec, ModelTarget
from wire import protos

GRPC_EXPECTED = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidInputError,
    grpc.StatusCode.FAILED_PRECONDITION: InvalidInputError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidInputError,
    grpc.StatusCode.NOT_FOUND: ModelNotFoundError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: ServerUnavailableError,
    grpc.StatusCode.UNKNOWN: ServerError,
    grpc.StatusCode.INTERNAL: ServerError,
    grpc.StatusCode.DATA_LOSS: ServerError,
    grpc.StatusCode.UNIMPLEMENTED: ServerError,
}


@pytest.mark.parametrize("code", [pytest.param(c, id=c.name) for c in grpc.StatusCode])
def test_every_grpc_code_maps_to_one_class(code: grpc.StatusCode) -> None:
    if code == grpc.StatusCode.OK:
        return
    error = error_for_grpc_status(code, "the server's words")
    assert type(error) is GRPC_EXPECTED.get(code, ServingClientError)
    assert (error.message, error.code) == ("the server's words", code)
    assert str(error) == f"the server's words ({code.name})"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InvalidInputError),
        (401, ServingClientError),
        (404, ModelNotFoundError),
        (409, ServingClientError),
        (413, ResourceExhaustedError),
        (429, ResourceExhaustedError),
        (500, ServerError),
        (501, InvalidInputError),
        (502, ServerUnavailableError),
        (503, ServerUnavailableError),
        (504, DeadlineExceededError),
        (599, ServerError),
    ],
)
def test_http_statuses(status: int, expected: type) -> None:
    error = error_for_http_status(status, "msg")
    assert type(error) is expected and error.code == status


def test_tf_status_names_map_like_grpc_codes() -> None:
    assert type(error_for_grpc_status("NOT_FOUND", "m")) is ModelNotFoundError


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        pytest.param({}, "/v1/models/m", id="latest"),
        pytest.param({"version": 3}, "/v1/models/m/versions/3", id="version"),
        pytest.param({"label": "a b/c"}, "/v1/models/m/labels/a%20b%2Fc", id="label"),
    ],
)
def test_rest_paths(kwargs: dict, path: str) -> None:
    assert ModelTarget("m", **kwargs).rest_path() == path


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"name": ""}, id="no-name"),
        pytest.param({"name": "m", "version": 1, "label": "x"}, id="both"),
        pytest.param({"name": "m", "version": -1}, id="negative"),
        pytest.param({"name": "m", "version": True}, id="bool"),
        pytest.param({"name": "m", "label": ""}, id="empty-label"),
    ],
)
def test_invalid_targets(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ModelTarget(**kwargs)


def test_model_spec_and_config_messages() -> None:
    spec = protos.ModelSpec()
    ModelTarget("m", label="stable", signature="sig").fill(spec)
    assert (spec.name, spec.version_label, spec.signature_name) == ("m", "stable", "sig")
    assert not spec.HasField("version")
    config = protos.ModelConfig()
    ModelConfigSpec("m", "/models/m", versions=[1, 2], labels={"stable": 1}).fill(config)
    assert list(config.model_version_policy.specific.versions) == [1, 2]
    assert dict(config.version_labels) == {"stable": 1}


def test_signature_cache_is_a_small_lru_with_expiry() -> None:
    now = [0.0]
    cache = SignatureCache(max_entries=2, ttl=10, clock=lambda: now[0])
    cache.put("a", {"sa": {}})
    cache.put("b", {"sb": {}})
    assert cache.get("a") == {"sa": {}}  # a is now the most recent
    cache.put("c", {"sc": {}})
    assert cache.get("b") is None and len(cache) == 2
    now[0] = 10.0
    assert cache.get("a") is None and cache.get("c") is None
    cache.put("d", {})
    cache.discard("d")
    assert cache.get("d") is None
