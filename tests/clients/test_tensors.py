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
from tensorflow.core.framework import tensor_pb2, types_pb2

from wire import tensors
from wire.protos import TensorProto as OurTensorProto
from wire.tensors import TensorProtoError, make_ndarray, make_tensor_proto

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


def typed(dtype: tf.DType, shape: list[int], **fields) -> tensor_pb2.TensorProto:
    proto = TfTensorProto(dtype=dtype.as_datatype_enum, **fields)
    for size in shape:
        proto.tensor_shape.dim.add(size=size)
    return proto


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
    for name, number in tensors._NUMBERS_BY_NAME.items():
        assert tf.dtypes.as_dtype(number).as_datatype_enum == number, name
    with pytest.raises(ValueError, match="DT_RESOURCE"):
        tensors.numpy_dtype("DT_RESOURCE")


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


def test_default_message_class_is_ours():
    if OurTensorProto is None:
        pytest.skip("wire.protos not ready")
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
