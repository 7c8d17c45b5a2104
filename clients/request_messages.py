"""Predict, classify and regress messages built from plain values: no grpc, so REST uses them too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from clients.examples import make_example
from clients.spec import ModelTarget
from wire import protos
from wire.tensors import make_ndarray, make_tensor_proto

__all__ = ["examples_request", "predict_outputs", "predict_request"]


def predict_request(
    target: ModelTarget, inputs: Mapping[str, Any], output_filter: Sequence[str] | None
) -> Any:
    """A PredictRequest of named input values.

    Raises:
        ValueError: if a value has no TensorFlow dtype or is ragged.
    """
    request = protos.PredictRequest()
    target.fill(request.model_spec)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(make_tensor_proto(value, protos.TensorProto))
    if output_filter:
        request.output_filter.extend(output_filter)
    return request


def predict_outputs(response: Any) -> dict[str, np.ndarray]:
    """The output arrays of a PredictResponse."""
    return {name: make_ndarray(tensor) for name, tensor in response.outputs.items()}


def examples_request(
    request_class: type,
    target: ModelTarget,
    examples: Iterable[Mapping[str, Any]],
    context: Mapping[str, Any] | None,
) -> Any:
    """A ClassificationRequest or RegressionRequest of examples given as {feature: value} dicts.

    Raises:
        ValueError: for a feature value that is not a number, string or flat list of them.
    """
    request = request_class()
    target.fill(request.model_spec)
    if context is None:
        request.input.example_list.examples.extend([make_example(e) for e in examples])
    else:
        with_context = request.input.example_list_with_context
        with_context.context.CopyFrom(make_example(context))
        with_context.examples.extend([make_example(e) for e in examples])
    return request
