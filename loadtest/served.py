"""Ask the server which version of a model it serves for a target, and that version's signatures."""

from __future__ import annotations

from clients import connect
from clients.retry import NO_RETRY
from clients.signatures import ModelMetadata
from clients.spec import ModelTarget

__all__ = ["ServedModel", "describe_served_model"]

# The version a target (name, version or label, or the latest) resolves to, and its signatures.
ServedModel = ModelMetadata


def describe_served_model(
    transport: str, host: str, target: ModelTarget, timeout: float = 10.0
) -> ServedModel:
    """The client's describe_model over the given transport ("rest" or "grpc"; "rest-httpuser"
    is REST), asked once (no retries: the caller decides whether to try again).

    Raises:
        ServingClientError: (a subclass) the server refused or did not answer, e.g.
            ModelNotFoundError, InvalidInputError for an unknown label, ServerUnavailableError.
    """
    address = target.address
    with connect(
        "grpc" if transport == "grpc" else "rest", host, timeout=timeout, retry=NO_RETRY
    ) as client:
        return client.describe_model(address.name, version=address.version, label=address.label)
