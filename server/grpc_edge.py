"""The gRPC edge: TF Serving's PredictionService and ModelService over the transport-neutral core."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
from google.protobuf import any_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    prediction_service_pb2_grpc,
)

from server.core import ServingCore, metadata_signature_map
from server.errors import Code, ServingError, invalid_argument

# ToGRPCStatus keeps the code and truncates long messages.
MAX_MESSAGE = 1024
GRPC_CODES = {code.value[0]: code for code in grpc.StatusCode}


def grpc_message(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "...TRUNCATED"


def _abort(context: grpc.ServicerContext, err: ServingError) -> None:
    context.abort(GRPC_CODES[int(err.code)], grpc_message(err.message))


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Decode nothing by hand: requests are already TF Serving messages; the core does the work."""

    def __init__(self, core: ServingCore) -> None:
        self._core = core

    def _serve(self, api: str, request, context, call: Callable) -> object:
        started = time.perf_counter()
        if api == "MultiInference":
            has_spec, name = True, request.tasks[0].model_spec.name if request.tasks else ""
        else:
            has_spec = request.HasField("model_spec")
            name = request.model_spec.name if has_spec else ""
        try:
            if not has_spec:
                raise invalid_argument("Missing ModelSpec")
            response = call(request, context.time_remaining())
        except ServingError as err:
            self._core.record(name, api, "GRPC", err.code, started)
            _abort(context, err)
        self._core.record(name, api, "GRPC", Code.OK, started)
        if self._core.request_logs is not None:
            logs = self._core.request_logs
            logs.log_grpc(api, name, request, response, context.invocation_metadata, started)
        return response

    def Predict(self, request, context):
        return self._serve("Predict", request, context, self._core.predict_proto)

    def Classify(self, request, context):
        return self._serve("Classify", request, context, self._core.classify_proto)

    def Regress(self, request, context):
        return self._serve("Regress", request, context, self._core.regress_proto)

    def MultiInference(self, request, context):
        return self._serve("MultiInference", request, context, self._core.multi_inference_proto)

    def GetModelMetadata(self, request, context):
        try:
            if not request.HasField("model_spec"):
                raise invalid_argument("Missing ModelSpec")
            if not request.metadata_field:
                raise invalid_argument(
                    "GetModelMetadataRequest must specify at least one metadata_field"
                )
            for field in request.metadata_field:
                if field != "signature_def":
                    raise invalid_argument(f"Metadata field {field} is not supported")
            version, signatures = self._core.metadata(request.model_spec)
        except ServingError as err:
            _abort(context, err)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        packed = any_pb2.Any()
        packed.Pack(metadata_signature_map(signatures))
        response.metadata["signature_def"].CopyFrom(packed)
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, core: ServingCore) -> None:
        self._core = core

    def GetModelStatus(self, request, context):
        try:
            if not request.HasField("model_spec"):
                raise invalid_argument("Missing ModelSpec")
            spec = request.model_spec
            version = spec.version.value if spec.HasField("version") else None
            states = self._core.repository.status(spec.name, version)
        except ServingError as err:
            _abort(context, err)
        response = get_model_status_pb2.GetModelStatusResponse()
        for state in states:
            item = response.model_version_status.add(version=state.version)
            item.state = get_model_status_pb2.ModelVersionStatus.State.Value(state.state)
            code, message = state.status
            item.status.error_code = int(code)
            if message:
                item.status.error_message = message
        return response

    def HandleReloadConfigRequest(self, request, context):
        response = model_management_pb2.ReloadConfigResponse()
        try:
            self._core.reload(request.config)
        except ServingError as err:
            response.status.error_code = int(err.code)
            response.status.error_message = err.message
            _abort(context, err)
        return response
