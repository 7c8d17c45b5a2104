"""The gRPC edge: TF Serving's PredictionService and ModelService over the transport-neutral core."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import grpc
from google.protobuf import any_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from server import inference
from server.calls import Answer, Call, spec_choice
from server.core import (
    CLASSIFY_METHOD,
    ServingCore,
    fill_classifications,
    metadata_signature_map,
)
from server.errors import ServingError, internal_error, invalid_argument
from server.request_logging import REQUEST_ID_KEY
from server.request_tensors import inputs_to_numpy
from server.tensors import to_proto

# ToGRPCStatus keeps the code and truncates long messages.
MAX_MESSAGE = 1024
GRPC_CODES = {code.value[0]: code for code in grpc.StatusCode}


def grpc_message(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "...TRUNCATED"


def _abort(context: grpc.ServicerContext, err: ServingError) -> None:
    context.abort(GRPC_CODES[int(err.code)], grpc_message(err.message))


def _request_id(context: grpc.ServicerContext) -> Callable[[], str | None]:
    # gRPC gives str values for metadata keys without the "-bin" suffix, such as this one.
    return lambda: cast("str | None", dict(context.invocation_metadata() or ()).get(REQUEST_ID_KEY))


def _fill_spec(target: Any, answer: Answer[Any], signature: str | None = None) -> None:
    target.name = answer.model
    target.version.value = answer.version
    target.signature_name = answer.signature if signature is None else signature


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):  # type: ignore[misc, unused-ignore]  # untyped base; misc only under strict
    """Requests arrive as TF Serving messages: decode their tensors or examples, let the core
    do the work, encode its answer as the response message."""

    def __init__(
        self, core: ServingCore, tensor_content: bool = False, max_tensor_bytes: int | None = None
    ) -> None:
        self._core = core
        self._tensor_content = tensor_content
        self._max_tensor_bytes = max_tensor_bytes

    def _serve(
        self,
        api: str,
        request: Any,
        context: grpc.ServicerContext,
        work: Callable[[Call, Any], Any],
    ) -> Any:
        if api == "MultiInference":
            has_spec, name = True, request.tasks[0].model_spec.name if request.tasks else ""
        else:
            has_spec = request.HasField("model_spec")
            name = request.model_spec.name if has_spec else ""
        remaining = context.time_remaining()
        call = Call(
            api,
            "GRPC",
            name,
            deadline=None if remaining is None else time.monotonic() + remaining,
            request_id=_request_id(context),
        )

        def checked() -> Any:
            if not has_spec:
                raise invalid_argument("Missing ModelSpec")
            try:
                return work(call, request)
            except ServingError:
                raise
            except Exception as err:
                raise internal_error(f"gRPC {api} for model {name!r}") from err

        try:
            return self._core.serve(call, checked)
        except ServingError as err:
            _abort(context, err)

    def _predict_response(self, answer: Answer[Any]) -> predict_pb2.PredictResponse:
        response = predict_pb2.PredictResponse()
        for alias, array in answer.value.items():
            response.outputs[alias].CopyFrom(to_proto(array, self._tensor_content))
        _fill_spec(response.model_spec, answer)
        return response

    def _predict(self, call: Call, request: Any) -> predict_pb2.PredictResponse:
        call.log_messages = lambda _, answer: (request, self._predict_response(answer))
        answer = self._core.predict(
            call,
            spec_choice(request.model_spec),
            request.model_spec.signature_name,
            lambda _signature: inputs_to_numpy(request.inputs, self._max_tensor_bytes),
            request.output_filter,
        )
        return self._predict_response(answer)

    @staticmethod
    def _classify_response(answer: Answer[Any]) -> classification_pb2.ClassificationResponse:
        response = classification_pb2.ClassificationResponse()
        fill_classifications(response.result, answer.value)
        _fill_spec(response.model_spec, answer)
        return response

    @staticmethod
    def _regress_response(answer: Answer[Any]) -> regression_pb2.RegressionResponse:
        response = regression_pb2.RegressionResponse()
        for value in answer.value:
            response.result.regressions.add(value=value)
        _fill_spec(response.model_spec, answer)
        return response

    def _classify(self, call: Call, request: Any) -> classification_pb2.ClassificationResponse:
        return self._on_examples(call, request, self._core.classify, self._classify_response)

    def _regress(self, call: Call, request: Any) -> regression_pb2.RegressionResponse:
        return self._on_examples(call, request, self._core.regress, self._regress_response)

    @staticmethod
    def _on_examples(
        call: Call,
        request: Any,
        run: Callable[..., Answer[Any]],
        respond: Callable[[Answer[Any]], Any],
    ) -> Any:
        """Classify or Regress: the request's examples to the core (run), its answer back as
        the response message (respond), which the request log gets too."""
        call.log_messages = lambda _, answer: (request, respond(answer))
        answer = run(
            call,
            spec_choice(request.model_spec),
            request.model_spec.signature_name,
            lambda: inference.serialized_examples(request.input),
        )
        return respond(answer)

    def _multi_inference(self, call: Call, request: Any) -> inference_pb2.MultiInferenceResponse:
        if not request.tasks:
            raise invalid_argument("Inference tasks are empty.")
        if len({task.model_spec.name for task in request.tasks}) != 1:
            raise invalid_argument(
                "All ModelSpecs in a MultiInferenceRequest must access the same model name."
            )
        tasks = [(task.model_spec.signature_name, task.method_name) for task in request.tasks]
        answer = self._core.multi_inference(
            call,
            spec_choice(request.tasks[0].model_spec),
            tasks,
            lambda: inference.serialized_examples(request.input),
        )
        response = inference_pb2.MultiInferenceResponse()
        for signature, method, value in answer.value:
            result = response.results.add()
            _fill_spec(result.model_spec, answer, signature)
            if method == CLASSIFY_METHOD:
                fill_classifications(result.classification_result, value)
            else:
                for number in value:
                    result.regression_result.regressions.add(value=number)
        return response

    def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext
    ) -> predict_pb2.PredictResponse:
        return self._serve("Predict", request, context, self._predict)

    def Classify(
        self, request: classification_pb2.ClassificationRequest, context: grpc.ServicerContext
    ) -> classification_pb2.ClassificationResponse:
        return self._serve("Classify", request, context, self._classify)

    def Regress(
        self, request: regression_pb2.RegressionRequest, context: grpc.ServicerContext
    ) -> regression_pb2.RegressionResponse:
        return self._serve("Regress", request, context, self._regress)

    def MultiInference(
        self, request: inference_pb2.MultiInferenceRequest, context: grpc.ServicerContext
    ) -> inference_pb2.MultiInferenceResponse:
        return self._serve("MultiInference", request, context, self._multi_inference)

    def GetModelMetadata(
        self,
        request: get_model_metadata_pb2.GetModelMetadataRequest,
        context: grpc.ServicerContext,
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
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
            answer = self._core.metadata(spec_choice(request.model_spec))
        except ServingError as err:
            _abort(context, err)
        except Exception:
            _abort(context, internal_error("gRPC GetModelMetadata"))
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = answer.version
        packed = any_pb2.Any()
        packed.Pack(metadata_signature_map(answer.value))
        response.metadata["signature_def"].CopyFrom(packed)
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):  # type: ignore[misc, unused-ignore]  # untyped base; misc only under strict
    def __init__(self, core: ServingCore) -> None:
        self._core = core

    def GetModelStatus(
        self,
        request: get_model_status_pb2.GetModelStatusRequest,
        context: grpc.ServicerContext,
    ) -> get_model_status_pb2.GetModelStatusResponse:
        try:
            if not request.HasField("model_spec"):
                raise invalid_argument("Missing ModelSpec")
            spec = request.model_spec
            version = spec.version.value if spec.HasField("version") else None
            return self._core.status(spec.name, version)
        except ServingError as err:
            _abort(context, err)
        except Exception:
            _abort(context, internal_error("gRPC GetModelStatus"))

    def HandleReloadConfigRequest(
        self, request: model_management_pb2.ReloadConfigRequest, context: grpc.ServicerContext
    ) -> model_management_pb2.ReloadConfigResponse:
        response = model_management_pb2.ReloadConfigResponse()
        try:
            self._core.reload(request.config)
        except ServingError as err:
            response.status.error_code = int(err.code)
            response.status.error_message = err.message
            _abort(context, err)
        except Exception:
            _abort(context, internal_error("gRPC HandleReloadConfigRequest"))
        return response
