"""wire.tensors' options beyond the round trip: typed fields as TensorFlow fills them, read-only
views of tensor_content, the errors' details and the limits, the DataType table."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from tests.clients.tensor_cases import (
    DTYPES,
    MESSAGE_CLASSES,
    TfTensorProto,
    assert_same,
    sample,
    typed,
)
from wire import tensors
from wire.protos import TensorProto as OurTensorProto
from wire.tensors import TensorProtoError, make_ndarray, make_tensor_proto


def set_fields(proto) -> dict[str, object]:
    """Every field TensorFlow set but the shape (TF marks a scalar's empty shape as present)."""
    return {
        field.name: value if field.name in ("dtype", "tensor_content") else list(value)
        for field, value in proto.ListFields()
        if field.name != "tensor_shape"
    }


@pytest.mark.parametrize("message_class", MESSAGE_CLASSES)
@pytest.mark.parametrize(("dtype", "number"), DTYPES)
def test_typed_fields_are_the_fields_tensorflow_fills(message_class, dtype, number):
    # tf.make_tensor_proto writes one value in the typed field TF's C++ ProtoHelper<T> uses.
    one = sample(dtype, (1,), seed=3)
    theirs = tf.make_tensor_proto(one)
    (field,) = set(set_fields(theirs)) - {"dtype"}
    assert field != "tensor_content"
    ours = make_tensor_proto(one, message_class, typed_fields=True)
    assert TfTensorProto.FromString(ours.SerializeToString()) == theirs
    for shape in [(), (2, 3), (0, 4)]:
        array = sample(dtype, shape, seed=4)
        ours = make_tensor_proto(array, message_class, typed_fields=True)
        assert set(set_fields(ours)) == ({"dtype", field} if array.size else {"dtype"})
        assert [dim.size for dim in ours.tensor_shape.dim] == list(shape)
        assert_same(make_ndarray(ours), array)
        theirs = tf.make_tensor_proto(array)
        assert_same(tf.make_ndarray(TfTensorProto.FromString(ours.SerializeToString())), array)
        if not theirs.tensor_content and dtype.kind not in "fV":  # no NaN != NaN to compare
            assert set_fields(ours) == set_fields(theirs)  # bool, complex, uint16, strings


def test_typed_fields_keep_bit_patterns_and_take_any_layout():
    halves = np.array([1.0, -2.0], np.float16)
    assert list(make_tensor_proto(halves, typed_fields=True).half_val) == [0x3C00, 0xC000]
    nans = np.array([0x7F800001, 0xFFC00123], np.uint32).view(np.float32)  # signalling first
    back = make_ndarray(make_tensor_proto(nans, typed_fields=True))
    assert back.tobytes() == nans.tobytes()
    base = np.arange(24, dtype=">f8").reshape(4, 6)
    for array in (base[:, ::2], base.T):
        assert make_ndarray(make_tensor_proto(array, typed_fields=True)).tolist() == array.tolist()


@pytest.mark.parametrize(("dtype", "number"), [p for p in DTYPES if p.id != "string"])
def test_writable_false_reads_tensor_content_as_a_read_only_view(dtype, number):
    array = sample(dtype, (2, 3), seed=5)
    proto = make_tensor_proto(array)
    view = make_ndarray(proto, writable=False)
    assert_same(view, array)
    assert not view.flags.writeable
    assert isinstance(view.base.base, bytes)  # reshaped from np.frombuffer of the message's bytes
    copy = make_ndarray(proto)
    assert copy.flags.writeable
    copy[...] = 0
    assert_same(make_ndarray(proto, writable=False), array)


def test_writable_false_still_copies_what_it_cannot_view():
    typed = make_tensor_proto(np.arange(3, dtype=np.int32), typed_fields=True)
    strings = make_tensor_proto(np.array([b"a", b"b"], object))
    listed = OurTensorProto(dtype=tensors.DT_STRING, tensor_content=b"\x01\x00a")
    listed.tensor_shape.dim.add(size=2)
    for proto in (typed, strings, listed):
        assert make_ndarray(proto, writable=False).flags.writeable


@pytest.mark.parametrize(
    ("proto", "detail"),
    [
        pytest.param(
            typed(tf.resource, [1]), "unsupported dtype resource (DT_RESOURCE)", id="resource"
        ),
        pytest.param(
            TfTensorProto(dtype=0), "unsupported dtype INVALID (DT_INVALID)", id="invalid"
        ),
        pytest.param(
            TfTensorProto(dtype=999), "unsupported dtype unknown dtype enum (999)", id="unknown"
        ),
        pytest.param(
            typed(tf.float32, [2], tensor_content=b"\x00" * 7),
            "tensor_content has 7 bytes but shape [2] of float needs 8",
            id="content-size",
        ),
        pytest.param(
            typed(tf.string, [2], tensor_content=b"\x01\x02abcX"),
            "tensor_content of 6 bytes does not hold 2 strings of 3 bytes",
            id="content-strings",
        ),
        pytest.param(
            typed(tf.string, [1], tensor_content=b"\x85"),
            "tensor_content holds a truncated string length",
            id="content-varint",
        ),
        pytest.param(
            typed(tf.complex64, [1], scomplex_val=[1, 2, 3]),
            "scomplex_val has an odd number of values for complex64",
            id="odd-complex",
        ),
        pytest.param(
            TfTensorProto(dtype=1, tensor_shape={"unknown_rank": True}),
            "tensor_shape has unknown rank",
            id="unknown-rank",
        ),
        pytest.param(
            typed(tf.float32, [-1]), "tensor_shape [-1] has a negative dimension", id="negative"
        ),
        pytest.param(
            typed(tf.float32, [2, -1], float_val=[1]),
            "tensor_shape [2, -1] has a negative dimension",
            id="negative-inner",
        ),
        pytest.param(
            typed(tf.float32, [2**40, 2**40]),
            "tensor_shape [1099511627776, 1099511627776] has more than 2**63-1 elements",
            id="too-many-elements",
        ),
        pytest.param(
            typed(tf.float32, [1] * 255),
            "tensor_shape has 255 dimensions, more than 254",
            id="too-many-dims",
        ),
    ],
)
def test_tensor_proto_error_carries_the_detail(proto, detail):
    with pytest.raises(TensorProtoError) as caught:
        make_ndarray(proto)
    assert isinstance(caught.value, ValueError)
    assert caught.value.detail == str(caught.value) == detail


def test_shapes_within_the_limits_are_read():
    # TF allows 254 dimensions, numpy holds 64: beyond that, a TensorProtoError that says so.
    assert make_ndarray(typed(tf.float32, [1] * 64, float_val=[2])).shape == (1,) * 64
    with pytest.raises(TensorProtoError) as caught:
        make_ndarray(typed(tf.float32, [1] * 65))
    assert caught.value.detail == "tensor_shape has 65 dimensions; numpy arrays hold at most 64"
    assert make_ndarray(typed(tf.float32, [0, 2**31, 4])).shape == (0, 2**31, 4)


def test_the_dtype_table_agrees_with_tensorflow():
    for row in tensors.DATA_TYPE_TABLE:
        assert types_pb2.DataType.Name(row.number) == row.name
        assert tensors.numpy_dtype(row.number) == tf.dtypes.as_dtype(row.number).as_numpy_dtype
        assert tensors.numpy_dtype(row.number).name == row.numpy_name
        assert tensors.dtype_name(row.number) == row.type_string
        assert tensors.data_type(tensors.numpy_dtype(row.number)) == row.number
    # DataTypeString: the enum's name without DT_, lower-cased, for every DataType.
    for name, number in types_pb2.DataType.items():
        expected = "INVALID" if number == 0 else name[3:].lower()
        assert tensors.dtype_name(number) == expected
    assert tensors.dtype_name(types_pb2.DT_HALF) == "half"
    assert tensors.dtype_name(types_pb2.DT_BFLOAT16_REF) == "bfloat16_ref"
    assert tensors.dtype_name(1000) == "unknown dtype enum (1000)"
