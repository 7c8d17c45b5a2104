"""The gRPC messages a REST call stands for, rebuilt from its values for its log record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clients.request_messages import examples_request, predict_request
from clients.spec import ModelTarget
from wire import protos
from wire.tensors import make_tensor_proto

__all__ = ["classify_messages", "predict_messages", "regress_messages"]

Features = Mapping[str, Any]


def predict_messages(
    target: ModelTarget,
    inputs: Mapping[str, Any],
    output_filter: Sequence[str] | None,
    outputs: Mapping[str, Any],
) -> tuple[Any, Any]:
    """(PredictRequest, PredictResponse) of a REST predict: the inputs as sent (typed as the
    signature's inputs, like gRPC sends them), the outputs as the client returned them.

    Raises:
        ValueError: a value has no TensorFlow dtype or is ragged.
    """
    request = predict_request(target, inputs, output_filter)
    response = protos.PredictResponse()
    for name, value in outputs.items():
        response.outputs[name].CopyFrom(make_tensor_proto(value))
    return request, response


def classify_messages(
    target: ModelTarget,
    examples: Sequence[Features],
    context: Features | None,
    results: Sequence[Sequence[tuple[str, float]]],
) -> tuple[Any, Any]:
    """(ClassificationRequest, ClassificationResponse) of a REST classify.

    Raises:
        ValueError: a feature value is not a number, string or flat list of them.
    """
    request = examples_request(protos.ClassificationRequest, target, examples, context)
    response = protos.ClassificationResponse()
    for pairs in results:
        classes = response.result.classifications.add()
        for label, score in pairs:
            classes.classes.add(label=label, score=score)
    return request, response


def regress_messages(
    target: ModelTarget,
    examples: Sequence[Features],
    context: Features | None,
    values: Sequence[float],
) -> tuple[Any, Any]:
    """(RegressionRequest, RegressionResponse) of a REST regress.

    Raises:
        ValueError: a feature value is not a number, string or flat list of them.
    """
    request = examples_request(protos.RegressionRequest, target, examples, context)
    response = protos.RegressionResponse()
    for value in values:
        response.result.regressions.add(value=value)
    return request, response
