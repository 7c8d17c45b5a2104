"""A TensorFlow-free TF Serving client: GrpcClient, RestClient and AsyncGrpcClient.

    from clients import GrpcClient
    with GrpcClient("localhost:8500") as client:
        outputs = client.predict("half_plus_two", {"x": [1.0, 2.0]})

The clients load on first use, so a REST-only service never imports grpc and a gRPC one
never imports requests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from clients.errors import (
    DeadlineExceededError,
    InvalidInputError,
    ModelNotFoundError,
    ResourceExhaustedError,
    ServerError,
    ServerUnavailableError,
    ServingClientError,
)
from clients.retry import RetryPolicy
from clients.signatures import ModelMetadata, VersionStatus
from clients.spec import ModelConfigSpec

if TYPE_CHECKING:
    from clients.aio_grpc_client import AsyncGrpcClient
    from clients.channel import TlsConfig
    from clients.client import ServingClient
    from clients.grpc_client import GrpcClient
    from clients.rest_client import RestClient

__all__ = [
    "AsyncGrpcClient",
    "DeadlineExceededError",
    "GrpcClient",
    "InvalidInputError",
    "ModelConfigSpec",
    "ModelMetadata",
    "ModelNotFoundError",
    "ResourceExhaustedError",
    "RestClient",
    "RetryPolicy",
    "ServerError",
    "ServerUnavailableError",
    "ServingClientError",
    "TlsConfig",
    "VersionStatus",
    "connect",
]

_LAZY = {
    "GrpcClient": "clients.grpc_client",
    "AsyncGrpcClient": "clients.aio_grpc_client",
    "RestClient": "clients.rest_client",
    "TlsConfig": "clients.channel",
}


def connect(transport: str, address: str, **options: Any) -> ServingClient:
    """A GrpcClient ("grpc": address is a gRPC target) or RestClient ("rest": a URL) with the
    options both take (timeout, retry, request_log) or the transport's own.

    Raises:
        ValueError: an unknown transport, or as the client's constructor.
    """
    if transport == "grpc":
        from clients.grpc_client import GrpcClient

        return GrpcClient(address, **options)
    if transport == "rest":
        from clients.rest_client import RestClient

        return RestClient(address, **options)
    raise ValueError(f"unknown transport {transport!r}: give 'grpc' or 'rest'")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'clients' has no attribute {name!r}")
