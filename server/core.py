"""The transport-neutral core: TF Serving's Predict, Classify, Regress, metadata and reload."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)
from tensorflow_serving.config import model_server_config_pb2

from runtime.bundle import RunTimeout
from server import inference
from server.config_rules import validate_config
from server.errors import Code, ServingError, invalid_argument
from server.metrics import ServingMetrics
from server.repository import ModelRepository
from server.request_logging import RequestLoggers, without_logging_configs
from server.request_tensors import inputs_to_numpy
from server.servable import DEFAULT_SIGNATURE, Servable
from server.tensors import to_proto

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


def spec_choice(spec: model_pb2.ModelSpec) -> tuple[str, int | None, str | None]:
    """(name, version, label) of a ModelSpec; version and label are a oneof."""
    version = spec.version.value if spec.HasField("version") else None
    return spec.name, version, spec.version_label or None


def metadata_signature_map(signatures: dict) -> get_model_metadata_pb2.SignatureDefMap:
    result = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in signatures.items():
        result.signature_def[key].CopyFrom(signature)
    return result


class ServingCore:
    """Requests in, responses out; the REST and gRPC edges only decode, call this and encode."""

    def __init__(
        self,
        repository: ModelRepository,
        metrics: ServingMetrics,
        tensor_content: bool = False,
        request_logs: RequestLoggers | None = None,
    ) -> None:
        self.repository = repository
        self.metrics = metrics
        self._tensor_content = tensor_content
        self.request_logs = request_logs  # None unless the request logging extension is on

    # --- shared plumbing -------------------------------------------------------------------

    def record(self, model: str, api: str, entrypoint: str, code: Code, started: float) -> None:
        self.metrics.request(model, code.name)
        if code == Code.OK:
            self.metrics.request_latency(model, api, entrypoint, time.perf_counter() - started)

    def timed_run(
        self,
        servable: Servable,
        api: str,
        deadline: float | None = None,
        fixed_timeout_ms: int | None = None,
    ):
        """The servable's run function, recording runtime latency.

        The time left before `deadline` (a gRPC client's) or `fixed_timeout_ms` (REST's
        --rest_api_timeout_in_ms) becomes the Session run's RunOptions.timeout_in_ms, as in
        TF Serving: TensorFlow cancels a run that outlives it, with DEADLINE_EXCEEDED.
        """

        def run(
            signature: str, inputs: dict[str, np.ndarray], outputs: Sequence[str] = ()
        ) -> dict[str, np.ndarray]:
            timeout = None
            if fixed_timeout_ms is not None and fixed_timeout_ms > 0:
                timeout = RunTimeout(fixed_timeout_ms)
            elif deadline is not None:
                left = int((deadline - time.monotonic()) * 1000)
                if left <= 0:
                    raise ServingError(Code.DEADLINE_EXCEEDED, "Deadline Exceeded")
                timeout = RunTimeout(left)
            started = time.perf_counter()
            answer = servable.run(signature, inputs, outputs, timeout)
            self.metrics.runtime_latency(servable.name, api, time.perf_counter() - started)
            return answer

        return run

    @staticmethod
    def deadline(time_remaining: float | None) -> float | None:
        return None if time_remaining is None else time.monotonic() + time_remaining

    @staticmethod
    def _fill_spec(target: model_pb2.ModelSpec, servable: Servable, signature: str) -> None:
        target.name = servable.name
        target.version.value = servable.version
        target.signature_name = signature or DEFAULT_SIGNATURE

    # --- PredictionService -------------------------------------------------------------------

    def predict_proto(
        self, request: predict_pb2.PredictRequest, time_remaining: float | None = None
    ):
        with self.repository.acquire(*spec_choice(request.model_spec)) as servable:
            inputs = inputs_to_numpy(request.inputs)
            run = self.timed_run(servable, "Predict", self.deadline(time_remaining))
            signature = request.model_spec.signature_name
            outputs = inference.predict(
                servable.signature_defs, run, signature, inputs, request.output_filter
            )
            response = predict_pb2.PredictResponse()
            for alias, array in outputs.items():
                response.outputs[alias].CopyFrom(
                    to_proto(array, use_tensor_content=self._tensor_content)
                )
            self._fill_spec(response.model_spec, servable, signature)
            return response

    def classify_proto(
        self, request: classification_pb2.ClassificationRequest, time_remaining: float | None = None
    ):
        with self.repository.acquire(*spec_choice(request.model_spec)) as servable:
            examples = inference.serialized_examples(request.input)
            run = self.timed_run(servable, "Classify", self.deadline(time_remaining))
            signature = request.model_spec.signature_name
            response = classification_pb2.ClassificationResponse()
            fill_classifications(
                response.result,
                inference.classify(servable.signature_defs, run, signature, examples),
            )
            self._fill_spec(response.model_spec, servable, signature)
            return response

    def regress_proto(
        self, request: regression_pb2.RegressionRequest, time_remaining: float | None = None
    ):
        with self.repository.acquire(*spec_choice(request.model_spec)) as servable:
            examples = inference.serialized_examples(request.input)
            run = self.timed_run(servable, "Regress", self.deadline(time_remaining))
            signature = request.model_spec.signature_name
            response = regression_pb2.RegressionResponse()
            for value in inference.regress(servable.signature_defs, run, signature, examples):
                response.result.regressions.add(value=value)
            self._fill_spec(response.model_spec, servable, signature)
            return response

    def multi_inference_proto(
        self, request: inference_pb2.MultiInferenceRequest, time_remaining: float | None = None
    ):
        if not request.tasks:
            raise invalid_argument("Inference tasks are empty.")
        names = {task.model_spec.name for task in request.tasks}
        if len(names) != 1:
            raise invalid_argument(
                "All ModelSpecs in a MultiInferenceRequest must access the same model name."
            )
        signatures = [task.model_spec.signature_name or DEFAULT_SIGNATURE for task in request.tasks]
        for index, name in enumerate(signatures):
            if name in signatures[:index]:
                raise invalid_argument(f"Duplicate evaluation of signature: {name}")
        with self.repository.acquire(*spec_choice(request.tasks[0].model_spec)) as servable:
            examples = inference.serialized_examples(request.input)
            run = self.timed_run(servable, "MultiInference", self.deadline(time_remaining))
            response = inference_pb2.MultiInferenceResponse()
            for task, signature in zip(request.tasks, signatures, strict=True):
                if signature not in servable.signature_defs:
                    raise invalid_argument(
                        f"Requested signature not found in model graph: {signature}"
                    )
                result = response.results.add()
                self._fill_spec(result.model_spec, servable, signature)
                if task.method_name == CLASSIFY_METHOD:
                    fill_classifications(
                        result.classification_result,
                        inference.classify(servable.signature_defs, run, signature, examples),
                    )
                elif task.method_name == REGRESS_METHOD:
                    for value in inference.regress(
                        servable.signature_defs, run, signature, examples
                    ):
                        result.regression_result.regressions.add(value=value)
                else:
                    raise ServingError(
                        Code.UNIMPLEMENTED, f"Unsupported signature method_name: {task.method_name}"
                    )
            self.metrics.example_count(servable.name, len(examples))
            return response

    def metadata(self, spec: model_pb2.ModelSpec) -> tuple[int, dict]:
        """(resolved version, signature defs) for GetModelMetadata."""
        with self.repository.acquire(*spec_choice(spec)) as servable:
            return servable.version, servable.signature_defs

    # --- ModelService ----------------------------------------------------------------------

    def reload(self, config: model_server_config_pb2.ModelServerConfig) -> None:
        if config.WhichOneof("config") != "model_config_list":
            raise invalid_argument(
                "ServerModelConfig type not supported by HandleReloadConfigRequest. "
                "Only ModelConfigList is currently supported"
            )
        self.apply_config(config)

    def apply_config(
        self, config: model_server_config_pb2.ModelServerConfig, wait_forever: bool = False
    ) -> None:
        """Serve config; with request logging on, the repository gets it without logging_configs
        and the models that keep the config log their requests.

        Raises:
            ServingError: as ModelRepository.apply_config.
        """
        if self.request_logs is None:
            self.repository.apply_config(config, wait_forever)
            return
        validate_config(config, request_logging=True)
        served = without_logging_configs(config)
        try:
            self.repository.apply_config(served, wait_forever)
        finally:
            if self.repository.config is served:  # accepted, even if a model failed to load
                self.request_logs.apply(config)


def fill_classifications(
    result: classification_pb2.ClassificationResult, rows: inference.ClassifyResult
) -> None:
    for row in rows:
        classifications = result.classifications.add()
        for label, score in row:
            classifications.classes.add(label=label.decode("utf-8", "replace"), score=score)
