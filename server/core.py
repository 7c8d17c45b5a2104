"""The transport-neutral core: TF Serving's Predict, Classify, Regress, metadata and reload.

Every request is processed here, at the numpy level: the model is acquired, the request's
inputs decoded by the edge's decoder (which may need the signature: REST's JSON does), the
signature run within the call's deadline, the outcome counted in the metrics and a sampled
successful call handed to the request log. The REST and gRPC edges only decode requests and
encode answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
)
from tensorflow_serving.config import model_server_config_pb2

from server import inference
from server.calls import Answer, Call, DecodeExamples, DecodeInputs, SpecChoice, T
from server.config_rules import validate_config
from server.errors import Code, ServingError, invalid_argument
from server.metrics import ServingMetrics
from server.repository import ModelRepository
from server.request_logging import RequestLoggers, without_logging_configs
from server.servable import DEFAULT_SIGNATURE, Servable

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


def metadata_signature_map(
    signatures: dict[str, meta_graph_pb2.SignatureDef],
) -> get_model_metadata_pb2.SignatureDefMap:
    result = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in signatures.items():
        result.signature_def[key].CopyFrom(signature)
    return result


UNKNOWN_MODEL_LABEL = "<unknown>"  # request_count's model_name for names not served


class ServingCore:
    """Requests in, answers out; the REST and gRPC edges only decode, call this and encode."""

    def __init__(
        self,
        repository: ModelRepository,
        metrics: ServingMetrics,
        request_logs: RequestLoggers | None = None,
    ) -> None:
        self.repository = repository
        self.metrics = metrics
        self.request_logs = request_logs  # None unless the request logging extension is on

    # --- every request ------------------------------------------------------------------------

    def serve(self, call: Call, work: Callable[[], T]) -> T:
        """Do a request's work, counting its outcome (and, on success, its latency) in the
        metrics under call.model, call.api and call.entrypoint.

        Raises:
            ServingError: as work does, counted first.
        """
        try:
            result = work()
        except ServingError as err:
            self._record(call, err.code)
            raise
        self._record(call, Code.OK)
        return result

    def _record(self, call: Call, code: Code) -> None:
        # A name the config does not list is counted under one label value: labelled by the
        # URL's name, as TF Serving does, any client could grow the metrics page without bound.
        model = call.model if self.repository.serves(call.model) else UNKNOWN_MODEL_LABEL
        self.metrics.request(model, code.name)
        if code == Code.OK:
            latency = time.perf_counter() - call.started
            self.metrics.request_latency(call.model, call.api, call.entrypoint, latency)

    def _run(self, servable: Servable, call: Call) -> inference.Run:
        """The servable's run function within the call's time, recording runtime latency."""

        def run(
            signature: str, inputs: dict[str, np.ndarray], outputs: Sequence[str] = ()
        ) -> dict[str, np.ndarray]:
            timeout = call.run_timeout()
            started = time.perf_counter()
            answer = servable.run(signature, inputs, outputs, timeout)
            self.metrics.runtime_latency(servable.name, call.api, time.perf_counter() - started)
            return answer

        return run

    def _log(self, call: Call, kind: str, decoded: Any, answer: Answer[Any]) -> None:
        if self.request_logs is None or call.log_messages is None:
            return
        encode = call.log_messages
        self.request_logs.log(
            answer.model,
            kind,
            lambda: encode(decoded, answer),
            call.request_id,
            call.entrypoint.lower(),
            call.started,
        )

    # --- PredictionService -------------------------------------------------------------------

    def predict(
        self,
        call: Call,
        choice: SpecChoice,
        signature: str,
        decode: DecodeInputs,
        output_filter: Sequence[str] = (),
    ) -> Answer[dict[str, np.ndarray]]:
        """Run a predict signature on the inputs decode gives for it.

        Raises:
            ServingError: the model, version or signature is unknown; the inputs or the output
                filter are refused; the run failed or outlived the call's time.
        """
        resolved = signature or DEFAULT_SIGNATURE
        with self.repository.acquire(*choice) as servable:
            inputs = decode(servable.signature_defs.get(resolved))
            outputs = inference.predict(
                servable.signature_defs,
                self._run(servable, call),
                signature,
                inputs,
                output_filter,
                servable.input_dtypes,
            )
            answer = Answer(servable.name, servable.version, resolved, outputs)
        self._log(call, "predict", inputs, answer)
        return answer

    def classify(
        self, call: Call, choice: SpecChoice, signature: str, decode: DecodeExamples
    ) -> Answer[inference.ClassifyResult]:
        """Run a classify signature on the examples decode gives, once the model is found."""
        return self._on_examples(call, choice, signature, decode, "classify", inference.classify)

    def regress(
        self, call: Call, choice: SpecChoice, signature: str, decode: DecodeExamples
    ) -> Answer[list[float]]:
        """Run a regress signature on the examples decode gives, once the model is found."""
        return self._on_examples(call, choice, signature, decode, "regress", inference.regress)

    def _on_examples(
        self,
        call: Call,
        choice: SpecChoice,
        signature: str,
        decode: DecodeExamples,
        kind: str,
        method: Callable[..., T],
    ) -> Answer[T]:
        with self.repository.acquire(*choice) as servable:
            examples = decode()
            result = method(servable.signature_defs, self._run(servable, call), signature, examples)
            answer = Answer(servable.name, servable.version, signature or DEFAULT_SIGNATURE, result)
        self._log(call, kind, examples, answer)
        return answer

    def multi_inference(
        self,
        call: Call,
        choice: SpecChoice,
        tasks: Sequence[tuple[str, str]],
        decode: DecodeExamples,
    ) -> Answer[list[tuple[str, str, Any]]]:
        """Run each (signature, method name) task (at least one) on the same examples; the
        value lists (signature, method name, classify rows or regress values) in task order.

        Raises:
            ServingError: INVALID_ARGUMENT for a signature asked twice or not in the model;
                errors as predict; UNIMPLEMENTED for a method that is neither.
        """
        signatures = [signature or DEFAULT_SIGNATURE for signature, _ in tasks]
        for index, name in enumerate(signatures):
            if name in signatures[:index]:
                raise invalid_argument(f"Duplicate evaluation of signature: {name}")
        with self.repository.acquire(*choice) as servable:
            examples = decode()
            run = self._run(servable, call)
            results: list[tuple[str, str, Any]] = []
            for signature, (_, method) in zip(signatures, tasks, strict=True):
                if signature not in servable.signature_defs:
                    raise invalid_argument(
                        f"Requested signature not found in model graph: {signature}"
                    )
                if method == CLASSIFY_METHOD:
                    value: Any = inference.classify(
                        servable.signature_defs, run, signature, examples
                    )
                elif method == REGRESS_METHOD:
                    value = inference.regress(servable.signature_defs, run, signature, examples)
                else:
                    raise ServingError(
                        Code.UNIMPLEMENTED, f"Unsupported signature method_name: {method}"
                    )
                results.append((signature, method, value))
            self.metrics.example_count(servable.name, len(examples))
            return Answer(servable.name, servable.version, "", results)

    def metadata(self, choice: SpecChoice) -> Answer[dict[str, meta_graph_pb2.SignatureDef]]:
        """The version a request's model spec resolves to, and its signature defs."""
        with self.repository.acquire(*choice) as servable:
            return Answer(servable.name, servable.version, "", servable.signature_defs)

    # --- ModelService ----------------------------------------------------------------------

    def status(self, name: str, version: int | None) -> get_model_status_pb2.GetModelStatusResponse:
        """GetModelStatus's answer, the same message for both edges (REST sends its JSON)."""
        response = get_model_status_pb2.GetModelStatusResponse()
        for state in self.repository.status(name, version):
            item = response.model_version_status.add(version=state.version)
            item.state = get_model_status_pb2.ModelVersionStatus.State.Value(state.state)
            code, message = state.status
            item.status.error_code = int(code)
            if message:
                item.status.error_message = message
        return response

    def reload(self, config: model_server_config_pb2.ModelServerConfig) -> None:
        """HandleReloadConfigRequest: serve config, answering once the models it adds have
        loaded or failed (after their retries) and the ones it drops have unloaded. A model
        it keeps is never waited for, even while a version of it retries.

        Raises:
            ServingError: INVALID_ARGUMENT for a config that is not a model_config_list;
                as ModelRepository.apply_config.
        """
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
        validate_config(config, request_logging=True, log_dir=self.request_logs.folder)
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
