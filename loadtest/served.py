"""Ask the server which version of a model it serves for a target, and that version's signatures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clients import rest_json
from clients.errors import ServerError, ServingClientError, error_for_http_status
from clients.signatures import Signature, signatures_from_json
from clients.spec import ModelTarget

__all__ = ["ServedModel", "describe_served_model"]


@dataclass(frozen=True)
class ServedModel:
    """The version a target (name, version or label, or the latest) resolves to, and its signatures."""

    name: str
    version: int
    signatures: dict[str, Signature]


def describe_served_model(
    transport: str, host: str, target: ModelTarget, timeout: float = 10.0
) -> ServedModel:
    """GetModelMetadata over the given transport ("rest" or "grpc"; "rest-httpuser" is REST).

    The answer's model_spec says which version served it, which is how a label is resolved.

    Raises:
        ServingClientError: (a subclass) the server refused or did not answer, e.g.
            ModelNotFoundError, InvalidInputError for an unknown label, ServerUnavailableError.
    """
    address = target.address
    if transport == "grpc":
        return _grpc_metadata(host, address, timeout)
    return _rest_metadata(host, address, timeout)


def _rest_metadata(url: str, target: ModelTarget, timeout: float) -> ServedModel:
    import requests

    base = url.rstrip("/") if "://" in url else f"http://{url.rstrip('/')}"
    try:
        response = requests.get(f"{base}{target.rest_path()}/metadata", timeout=timeout)
    except requests.RequestException as err:
        raise ServingClientError(f"no answer from {base}: {err}") from err
    if response.status_code != 200:
        message = rest_json.decode_error(response.content) or response.text[:200]
        raise error_for_http_status(response.status_code, message)
    document = response.json()
    try:
        version = int(document["model_spec"]["version"])
    except (KeyError, TypeError, ValueError) as err:
        raise ServerError(f"model metadata without a version: {str(document)[:200]}") from err
    return ServedModel(target.name, version, signatures_from_json(document))


def _grpc_metadata(host: str, target: ModelTarget, timeout: float) -> ServedModel:
    import grpc

    from clients import grpc_messages
    from clients.channel import make_channel
    from clients.errors import error_for_grpc_status
    from wire import protos

    channel = make_channel(host)
    try:
        stub = protos.METHODS["GetModelMetadata"].bind(channel)
        response: Any = stub(grpc_messages.metadata_request(target), timeout=timeout)
    except grpc.RpcError as err:
        raise error_for_grpc_status(err.code(), err.details() or "") from err
    finally:
        channel.close()
    if not response.model_spec.HasField("version"):
        raise ServerError("model metadata without a version")
    version = response.model_spec.version.value
    return ServedModel(target.name, version, grpc_messages.signatures(response))
