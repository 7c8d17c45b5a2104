"""wire.tensors: numpy <-> TensorProto without TensorFlow, checked against TensorFlow's own."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.clients.tensor_cases import (
    DTYPES,
    MESSAGE_CLASSES,
    SHAPES,
    OurTensorProto,
    TfTensorProto,
    assert_same,
    sample,
    typed,
)
from wire import tensors
from wire.tensors import make_ndarray, make_tensor_proto


@pytest.mark.parametrize("message_class", MESSAGE_CLASSES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("dtype", "number"), DTYPES)
def test_round_trip_keeps_dtype_shape_and_values(message_class, dtype, number, shape):
    array = sample(dtype, shape)
    proto = make_tensor_proto(array, message_class)
    assert proto.dtype == number
    assert [dim.size for dim in proto.tensor_shape.dim] == list(shape)
    if dtype.kind == "O":
        assert list(proto.string_val) == array.ravel().tolist()
    else:
        assert proto.tensor_content == array.astype(dtype.newbyteorder("<")).tobytes()
    back = make_ndarray(proto)
    assert_same(back, array)
    assert back.flags.writeable


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("dtype", "number"), DTYPES)
def test_tensorflow_reads_ours_and_we_read_tensorflows(dtype, number, shape):
    array = sample(dtype, shape, seed=1)
    # TF puts scalars, bools and complex numbers in typed fields, so this also reads those.
    assert_same(make_ndarray(tf.make_tensor_proto(array)), array)
    theirs = tf.make_ndarray(make_tensor_proto(array, TfTensorProto))
    if dtype.kind == "O":
        theirs = theirs.astype(object)
    assert_same(theirs, array)


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([1.5, 2.0], id="floats"),
        pytest.param([[1, 2], [3, 4]], id="small-ints"),
        pytest.param([2**40, 1], id="big-ints"),
        pytest.param([True, False], id="bools"),
        pytest.param([1 + 2j], id="complex"),
        pytest.param([b"a\x00", "é"], id="strings"),
        pytest.param(3.25, id="float-scalar"),
        pytest.param(b"raw", id="bytes-scalar"),
        pytest.param([], id="empty-list"),
    ],
)
def test_python_values_get_tensorflows_dtype(values):
    ours = make_tensor_proto(values, TfTensorProto)
    theirs = tf.make_tensor_proto(values)
    assert ours.dtype == theirs.dtype
    assert ours.tensor_shape == theirs.tensor_shape
    assert make_ndarray(ours).tolist() == tf.make_ndarray(theirs).tolist()


def test_explicit_dtype_casts_python_values():
    proto = make_tensor_proto([[1, 2]], TfTensorProto, dtype=np.float64)
    assert proto.dtype == tf.float64.as_datatype_enum
    assert make_ndarray(proto).tolist() == [[1.0, 2.0]]
    assert make_ndarray(make_tensor_proto(["x"], TfTensorProto, dtype=bytes)).tolist() == [b"x"]


def test_non_native_byte_order_is_written_little_endian():
    array = np.arange(6, dtype=">i4").reshape(2, 3)
    proto = make_tensor_proto(array, TfTensorProto)
    assert proto.dtype == tf.int32.as_datatype_enum
    assert proto.tensor_content == np.arange(6, dtype="<i4").tobytes()
    assert make_ndarray(proto).tolist() == array.tolist()


@pytest.mark.parametrize(
    ("proto", "expected"),
    [
        pytest.param(typed(tf.float32, [2, 2]), np.zeros((2, 2), np.float32), id="no-values"),
        pytest.param(typed(tf.float32, [4], float_val=[1, 2]), np.float32([1, 2, 2, 2]), id="pad"),
        pytest.param(typed(tf.float32, [2], float_val=[1, 2, 3]), np.float32([1, 2]), id="extra"),
        pytest.param(typed(tf.float32, [], float_val=[7]), np.float32(7), id="scalar"),
        pytest.param(typed(tf.double, [3], double_val=[0.1]), np.float64([0.1] * 3), id="double"),
        pytest.param(
            typed(tf.int8, [3], int_val=[-1, 300]), np.int8([-1, 44, 44]), id="int8-wraps"
        ),
        pytest.param(typed(tf.uint16, [2], int_val=[65535]), np.uint16([65535] * 2), id="uint16"),
        pytest.param(
            typed(tf.int64, [2], int64_val=[-(2**62)]), np.int64([-(2**62)] * 2), id="int64"
        ),
        pytest.param(
            typed(tf.uint64, [1], uint64_val=[2**64 - 1]), np.uint64([2**64 - 1]), id="uint64"
        ),
        pytest.param(
            typed(tf.uint32, [1], uint32_val=[2**32 - 1]), np.uint32([2**32 - 1]), id="uint32"
        ),
        pytest.param(
            typed(tf.bool, [3], bool_val=[True, False]), np.array([1, 0, 0], bool), id="bool"
        ),
        pytest.param(
            typed(tf.float16, [3], half_val=[0x3C00, 0x7C00]),
            np.float16([1, np.inf, np.inf]),
            id="half-bits",
        ),
        pytest.param(
            typed(tf.bfloat16, [2], half_val=[0x3F80]),
            np.array([1, 1], ml_dtypes.bfloat16),
            id="bfloat16-bits",
        ),
        pytest.param(
            typed(tf.complex64, [3], scomplex_val=[1, 2, 3, 4]),
            np.complex64([1 + 2j, 3 + 4j, 3 + 4j]),
            id="complex64-interleaved",
        ),
        pytest.param(
            typed(tf.complex128, [1], dcomplex_val=[0.5, -1]),
            np.complex128([0.5 - 1j]),
            id="complex128",
        ),
        pytest.param(
            typed(tf.string, [2, 2], string_val=[b"a", b"b"]),
            np.array([[b"a", b"b"], [b"b", b"b"]], object),
            id="string-pad",
        ),
        pytest.param(typed(tf.string, [2]), np.array([b"", b""], object), id="string-none"),
    ],
)
def test_typed_fields_follow_tensorflows_count_rule(proto, expected):
    assert_same(make_ndarray(proto), np.asarray(expected))


@pytest.mark.parametrize("message_class", MESSAGE_CLASSES)
def test_string_tensor_content_is_decoded(message_class):
    # EncodeStringList, as TF Serving writes strings with --enable_serialization_as_tensor_content.
    long = b"x" * 200
    proto = message_class(dtype=tensors.DT_STRING, tensor_content=b"\x01\xc8\x01\x00a" + long + b"")
    proto.tensor_shape.dim.add(size=3)
    assert make_ndarray(proto).tolist() == [b"a", long, b""]


@pytest.mark.parametrize(
    ("proto", "message"),
    [
        pytest.param(typed(tf.resource, [1]), "DT_RESOURCE", id="resource"),
        pytest.param(typed(tf.variant, [1]), "DT_VARIANT", id="variant"),
        pytest.param(TfTensorProto(dtype=0), "DT_INVALID", id="invalid"),
        pytest.param(typed(tf.float32, [2], tensor_content=b"\x00" * 6), "6 bytes", id="short"),
        pytest.param(typed(tf.int64, [1], tensor_content=b"\x00" * 9), "needs 8", id="long"),
        pytest.param(typed(tf.float32, [-1]), "negative", id="negative-dim"),
        pytest.param(
            TfTensorProto(dtype=1, tensor_shape={"unknown_rank": True}), "unknown rank", id="rank"
        ),
        pytest.param(typed(tf.complex64, [1], scomplex_val=[1]), "odd", id="odd-complex"),
        pytest.param(
            typed(tf.string, [2], tensor_content=b"\x05ab"), "does not hold", id="string-short"
        ),
        pytest.param(typed(tf.string, [1], tensor_content=b"\x80"), "truncated", id="varint"),
    ],
)
def test_bad_protos_raise_value_error_naming_the_problem(proto, message):
    with pytest.raises(ValueError, match=message):
        make_ndarray(proto)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            np.array(["2020-01-01"], "datetime64[D]"), "no TensorFlow counterpart", id="date"
        ),
        pytest.param(np.array([1, "a"], object), "not int", id="object-int"),
        pytest.param([[1, 2], [3]], "inhomogeneous", id="ragged"),
    ],
)
def test_unconvertible_values_raise_value_error(values, message):
    with pytest.raises(ValueError, match=message):
        make_tensor_proto(values, TfTensorProto)


def test_dtype_tables_are_inverse_and_accept_metadata_names():
    assert {tensors.NUMPY_DTYPES[dt]: dt for dt in tensors.NUMPY_DTYPES} == tensors.DATA_TYPES
    assert tensors.numpy_dtype("DT_FLOAT") == np.float32
    assert tensors.numpy_dtype(tf.bfloat16.as_datatype_enum) == ml_dtypes.bfloat16
    assert tensors.data_type(np.str_) == tf.string.as_datatype_enum
    for number, name in tensors.DATA_TYPE_NAMES.items():
        assert tf.dtypes.as_dtype(number).as_datatype_enum == number, name
    with pytest.raises(ValueError, match="DT_RESOURCE"):
        tensors.numpy_dtype("DT_RESOURCE")


def test_default_message_class_is_ours():
    proto = make_tensor_proto(np.ones((2, 2), np.float32))
    assert isinstance(proto, OurTensorProto)
    assert TfTensorProto.FromString(proto.SerializeToString()) == tf.make_tensor_proto(
        np.ones((2, 2), np.float32)
    )


def numeric_arrays(dtype: np.dtype) -> st.SearchStrategy[np.ndarray]:
    shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0)
    if dtype == ml_dtypes.bfloat16:  # hypothesis has no bfloat16 elements; narrow float32s
        return hnp.arrays(np.float32, shapes).map(lambda array: array.astype(dtype))
    return hnp.arrays(dtype, shapes)


@settings(max_examples=100, deadline=None)
@given(
    array=st.sampled_from([p.values[0] for p in DTYPES if p.values[0].kind != "O"]).flatmap(
        numeric_arrays
    )
)
def test_any_numeric_array_round_trips(array):
    assert_same(make_ndarray(make_tensor_proto(array, TfTensorProto)), array)
    assert_same(tf.make_ndarray(make_tensor_proto(array, TfTensorProto)), array)


@settings(max_examples=100, deadline=None)
@given(
    array=hnp.arrays(
        object, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0), elements=st.binary()
    )
)
def test_any_bytes_array_round_trips(array):
    assert_same(make_ndarray(make_tensor_proto(array, TfTensorProto)), array)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.integers(-(2**31), 2**31 - 1), max_size=8),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
def test_count_rule_for_any_value_count(values, shape):
    count = math.prod(shape)
    expected = (values + values[-1:] * count)[:count] if values else [0] * count
    result = make_ndarray(typed(tf.int32, list(shape), int_val=values))
    assert result.shape == shape
    assert result.ravel().tolist() == expected
