"""The dtypes, shapes and sample arrays the wire.tensors tests share."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2

from wire.protos import TensorProto as OurTensorProto

TfTensorProto = tensor_pb2.TensorProto
MESSAGE_CLASSES = [
    pytest.param(TfTensorProto, id="tf-proto"),
    pytest.param(OurTensorProto, id="our-proto"),
]

# numpy dtype, DataType number as TensorFlow's types.proto gives it.
DTYPES = [
    pytest.param(np.dtype(np.float16), tf.float16.as_datatype_enum, id="float16"),
    pytest.param(np.dtype(np.float32), tf.float32.as_datatype_enum, id="float32"),
    pytest.param(np.dtype(np.float64), tf.float64.as_datatype_enum, id="float64"),
    pytest.param(np.dtype(ml_dtypes.bfloat16), tf.bfloat16.as_datatype_enum, id="bfloat16"),
    pytest.param(np.dtype(np.int8), tf.int8.as_datatype_enum, id="int8"),
    pytest.param(np.dtype(np.int16), tf.int16.as_datatype_enum, id="int16"),
    pytest.param(np.dtype(np.int32), tf.int32.as_datatype_enum, id="int32"),
    pytest.param(np.dtype(np.int64), tf.int64.as_datatype_enum, id="int64"),
    pytest.param(np.dtype(np.uint8), tf.uint8.as_datatype_enum, id="uint8"),
    pytest.param(np.dtype(np.uint16), tf.uint16.as_datatype_enum, id="uint16"),
    pytest.param(np.dtype(np.uint32), tf.uint32.as_datatype_enum, id="uint32"),
    pytest.param(np.dtype(np.uint64), tf.uint64.as_datatype_enum, id="uint64"),
    pytest.param(np.dtype(np.bool_), tf.bool.as_datatype_enum, id="bool"),
    pytest.param(np.dtype(np.complex64), tf.complex64.as_datatype_enum, id="complex64"),
    pytest.param(np.dtype(np.complex128), tf.complex128.as_datatype_enum, id="complex128"),
    pytest.param(np.dtype(object), tf.string.as_datatype_enum, id="string"),
]
SHAPES = [
    pytest.param((), id="scalar"),
    pytest.param((0,), id="empty"),
    pytest.param((5,), id="vector"),
    pytest.param((2, 3), id="matrix"),
    pytest.param((2, 0, 4), id="empty-inner"),
    pytest.param((1, 2, 3, 2), id="rank4"),
]


def sample(dtype: np.dtype, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values spread over the dtype's range, with NaN and infinities for floats."""
    rng = np.random.default_rng(seed)
    count = math.prod(shape)
    if dtype.kind == "O":
        flat = np.empty(count, dtype=object)
        flat[:] = [
            bytes(rng.integers(0, 256, size=i % 4)) + b"\x00" * (i % 2) for i in range(count)
        ]
        return flat.reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    values = rng.normal(scale=1e3, size=shape)
    if dtype.kind == "c":
        values = values + 1j * rng.normal(size=shape)
    array = np.asarray(values).astype(dtype)
    if dtype.kind != "c" and array.size >= 3:
        array.flat[:3] = [np.nan, np.inf, -np.inf]
    return array


def assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if expected.dtype.kind in "fcV":  # V: bfloat16
        np.testing.assert_array_equal(actual.astype(np.complex128), expected.astype(np.complex128))
    else:
        assert actual.tolist() == expected.tolist()


def typed(dtype: tf.DType, shape: list[int], **fields) -> tensor_pb2.TensorProto:
    proto = TfTensorProto(dtype=dtype.as_datatype_enum, **fields)
    for size in shape:
        proto.tensor_shape.dim.add(size=size)
    return proto
