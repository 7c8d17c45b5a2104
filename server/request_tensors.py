"""A request's input tensors as numpy arrays, with a fast path for one float per input."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from tensorflow.core.framework import types_pb2
from tensorflow.core.framework.tensor_pb2 import TensorProto

from server.tensors import to_numpy


def inputs_to_numpy(
    inputs: Mapping[str, TensorProto], max_bytes: int | None = None
) -> dict[str, np.ndarray]:
    """Every input of a request; one float per input (a feature per input) is read in one pass.

    Raises:
        ServingError: as to_numpy does, naming the input; an input whose shape needs more
            than max_bytes bytes is refused before it is built.
    """
    scalars = _single_floats(inputs)
    if scalars is not None:
        return scalars
    return {alias: to_numpy(proto, alias, max_bytes) for alias, proto in inputs.items()}


def _single_floats(inputs: Mapping[str, TensorProto]) -> dict[str, np.ndarray] | None:
    # Models with one input per feature send dozens of one-value tensors; converting each
    # on its own costs more than the model call, so gather them into one array instead.
    if len(inputs) < 2:
        return None
    names, values = [], []
    for alias, proto in inputs.items():
        # Each protobuf field access costs; read each field once.
        floats = proto.float_val
        if proto.dtype != types_pb2.DT_FLOAT or len(floats) != 1 or proto.tensor_content:
            return None
        dims = proto.tensor_shape.dim
        if len(dims) != 1 or dims[0].size != 1:
            return None
        names.append(alias)
        values.append(floats[0])
    table = np.array(values, dtype=np.float32).reshape(-1, 1)
    return {alias: table[i] for i, alias in enumerate(names)}
