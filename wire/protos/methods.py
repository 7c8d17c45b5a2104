"""TF Serving's unary gRPC methods: the path each is served under and its message classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wire.protos import messages

if TYPE_CHECKING:
    import grpc
    from google.protobuf.message import Message

__all__ = ["METHODS", "MODEL_SERVICE", "PREDICTION_SERVICE", "RpcMethod"]

PREDICTION_SERVICE = "tensorflow.serving.PredictionService"
MODEL_SERVICE = "tensorflow.serving.ModelService"


@dataclass(frozen=True)
class RpcMethod:
    """One unary RPC: `/<service>/<name>`, taking `request` and answering `response`."""

    service: str
    name: str
    request: type[Message]
    response: type[Message]

    @property
    def path(self) -> str:
        """The HTTP/2 path gRPC sends, e.g. "/tensorflow.serving.PredictionService/Predict"."""
        return f"/{self.service}/{self.name}"

    def bind(self, channel: grpc.Channel) -> grpc.UnaryUnaryMultiCallable[Any, Any]:
        """Return a callable that sends `request` messages over channel and parses the reply.

        Its requests and replies are typed Any, as the message classes' fields are.
        """
        return channel.unary_unary(
            self.path,
            request_serializer=self.request.SerializeToString,
            response_deserializer=self.response.FromString,
        )


_ALL = [
    RpcMethod(
        PREDICTION_SERVICE,
        "Classify",
        messages.ClassificationRequest,
        messages.ClassificationResponse,
    ),
    RpcMethod(
        PREDICTION_SERVICE, "Regress", messages.RegressionRequest, messages.RegressionResponse
    ),
    RpcMethod(PREDICTION_SERVICE, "Predict", messages.PredictRequest, messages.PredictResponse),
    RpcMethod(
        PREDICTION_SERVICE,
        "MultiInference",
        messages.MultiInferenceRequest,
        messages.MultiInferenceResponse,
    ),
    RpcMethod(
        PREDICTION_SERVICE,
        "GetModelMetadata",
        messages.GetModelMetadataRequest,
        messages.GetModelMetadataResponse,
    ),
    RpcMethod(
        MODEL_SERVICE,
        "GetModelStatus",
        messages.GetModelStatusRequest,
        messages.GetModelStatusResponse,
    ),
    RpcMethod(
        MODEL_SERVICE,
        "HandleReloadConfigRequest",
        messages.ReloadConfigRequest,
        messages.ReloadConfigResponse,
    ),
]

# Keyed by RPC name, which is unique across the two services.
METHODS: dict[str, RpcMethod] = {method.name: method for method in _ALL}
