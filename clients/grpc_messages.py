"""Build TF Serving's gRPC requests and read its responses: the sync and asyncio clients share these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from clients.errors import ServerError, ServingClientError, error_for_grpc_status
from clients.request_messages import examples_request, predict_outputs, predict_request
from clients.signatures import (
    ModelMetadata,
    Signature,
    VersionStatus,
    signatures_from_proto,
    statuses_from_proto,
)
from clients.spec import ModelConfigSpec, ModelTarget
from wire import protos

__all__ = [
    "classifications",
    "examples_request",
    "metadata",
    "metadata_request",
    "predict_outputs",
    "predict_request",
    "regressions",
    "reload_request",
    "reload_status_error",
    "signatures",
    "status_request",
    "version_statuses",
]

_STATE_NAME = protos.ModelVersionStatus.State.Name


def _dtype_name(number: int) -> str:
    try:
        return protos.DataType.Name(number)
    except ValueError:
        return f"DT_{number}"


def _code_name(number: int) -> str:
    try:
        return protos.ErrorCode.Name(number)
    except ValueError:
        return str(number)


def classifications(response: Any) -> list[list[tuple[str, float]]]:
    """(label, score) pairs per example of a ClassificationResponse."""
    return [
        [(c.label, c.score) for c in classes.classes] for classes in response.result.classifications
    ]


def regressions(response: Any) -> list[float]:
    """The value per example of a RegressionResponse."""
    return [regression.value for regression in response.result.regressions]


def metadata_request(target: ModelTarget) -> Any:
    """A GetModelMetadataRequest for the target's signature_def metadata."""
    request = protos.GetModelMetadataRequest(metadata_field=["signature_def"])
    target.fill(request.model_spec, with_signature=False)
    return request


def signatures(response: Any) -> dict[str, Signature]:
    """The signatures in a GetModelMetadataResponse.

    Raises:
        ServerError: if the response carries no SignatureDefMap.
    """
    packed = response.metadata.get("signature_def")
    signature_map = protos.SignatureDefMap()
    if packed is None or not packed.Unpack(signature_map):
        raise ServerError("the model metadata holds no signature_def map")
    return signatures_from_proto(signature_map.signature_def, _dtype_name)


def metadata(name: str, response: Any) -> ModelMetadata:
    """A GetModelMetadataResponse as ModelMetadata (the version that answered, its signatures).

    Raises:
        ServerError: if the response carries no version or no SignatureDefMap.
    """
    if not response.model_spec.HasField("version"):
        raise ServerError("the model metadata holds no version")
    return ModelMetadata(name, response.model_spec.version.value, signatures(response))


def status_request(target: ModelTarget) -> Any:
    """A GetModelStatusRequest for the target (TF Serving ignores a label here)."""
    request = protos.GetModelStatusRequest()
    target.fill(request.model_spec, with_signature=False)
    return request


def version_statuses(response: Any) -> list[VersionStatus]:
    """The version statuses of a GetModelStatusResponse, with enum values as names."""
    return statuses_from_proto(response.model_version_status, _STATE_NAME, _code_name)


def reload_request(models: Sequence[ModelConfigSpec] | Any) -> Any:
    """A ReloadConfigRequest of ModelConfigSpecs, or of a ModelServerConfig as it is."""
    request = protos.ReloadConfigRequest()
    if isinstance(models, protos.ModelServerConfig):
        request.config.CopyFrom(models)
        return request
    config_list = request.config.model_config_list
    for spec in models:
        spec.fill(config_list.config.add())
    return request


def reload_status_error(response: Any) -> ServingClientError | None:
    """The error a ReloadConfigResponse reports in its status, if any."""
    status = response.status
    if status.error_code == 0:
        return None
    name = _code_name(status.error_code)  # TF's codes are gRPC's, by number and name
    code = grpc.StatusCode[name] if name in grpc.StatusCode.__members__ else name
    return error_for_grpc_status(code, status.error_message)
