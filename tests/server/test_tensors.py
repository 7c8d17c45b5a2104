"""server.tensors against TensorFlow's own encoders and decoders (Python and C++)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorflow.core.framework import tensor_pb2, types_pb2

from server.errors import Code, ServingError
from server.request_tensors import inputs_to_numpy
from server.tensors import dtype_name, numpy_dtype, tf_dtype, to_numpy, to_proto

DTYPES = [
    pytest.param(types_pb2.DT_FLOAT, np.dtype(np.float32), id="float"),
    pytest.param(types_pb2.DT_DOUBLE, np.dtype(np.float64), id="double"),
    pytest.param(types_pb2.DT_HALF, np.dtype(np.float16), id="half"),
    pytest.param(types_pb2.DT_BFLOAT16, np.dtype(ml_dtypes.bfloat16), id="bfloat16"),
    pytest.param(types_pb2.DT_INT8, np.dtype(np.int8), id="int8"),
    pytest.param(types_pb2.DT_INT16, np.dtype(np.int16), id="int16"),
    pytest.param(types_pb2.DT_INT32, np.dtype(np.int32), id="int32"),
    pytest.param(types_pb2.DT_INT64, np.dtype(np.int64), id="int64"),
    pytest.param(types_pb2.DT_UINT8, np.dtype(np.uint8), id="uint8"),
    pytest.param(types_pb2.DT_UINT16, np.dtype(np.uint16), id="uint16"),
    pytest.param(types_pb2.DT_UINT32, np.dtype(np.uint32), id="uint32"),
    pytest.param(types_pb2.DT_UINT64, np.dtype(np.uint64), id="uint64"),
    pytest.param(types_pb2.DT_BOOL, np.dtype(np.bool_), id="bool"),
    pytest.param(types_pb2.DT_STRING, np.dtype(object), id="string"),
    pytest.param(types_pb2.DT_COMPLEX64, np.dtype(np.complex64), id="complex64"),
    pytest.param(types_pb2.DT_COMPLEX128, np.dtype(np.complex128), id="complex128"),
]
NUMPY_DTYPES = [p.values[1] for p in DTYPES]
SHAPES = [(), (0,), (1,), (5,), (1, 16), (2, 3, 4), (0, 3), (3, 0, 2)]
ENCODINGS = [pytest.param(False, id="typed"), pytest.param(True, id="tensor_content")]


def sample(dtype: np.dtype, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values covering each dtype's edges: extremes, NaN, infinities, empty and non-UTF-8 bytes."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if dtype.kind == "O":
        pool = [b"", b"a", b"\x00\xff", "é".encode(), b"x" * 200]
        flat = np.empty(size, dtype=object)
        flat[:] = [pool[i] for i in rng.integers(0, len(pool), size)]
        return flat.reshape(shape)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        flat = rng.integers(info.min, info.max, size=size, dtype=dtype, endpoint=True)
        flat[:2] = [info.min, info.max][:size]
        return flat.reshape(shape)
    flat = rng.standard_normal(size) * 1000
    flat[:4] = [np.nan, np.inf, -np.inf, -0.0][:size]
    if dtype.kind == "c":
        flat = flat + 1j * rng.standard_normal(size)
    return flat.astype(dtype).reshape(shape)


def assert_identical(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, shape and bits (so NaN payloads and -0.0 count)."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if expected.dtype == object:
        assert actual.tolist() == expected.tolist()
    else:
        assert actual.tobytes() == expected.tobytes()


def assert_equal_values(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, shape and values, any NaN equal to any NaN (numpy misses bfloat16 NaNs)."""
    assert actual.dtype == expected.dtype
    if expected.dtype == ml_dtypes.bfloat16:
        actual, expected = actual.astype(np.float32), expected.astype(np.float32)
    np.testing.assert_array_equal(actual, expected, strict=True)


def make_proto(dt: int, shape: tuple[int, ...], **values: object) -> tensor_pb2.TensorProto:
    proto = tensor_pb2.TensorProto(dtype=dt)
    for size in shape:
        proto.tensor_shape.dim.add(size=size)
    for field, value in values.items():
        if field == "tensor_content":
            proto.tensor_content = value
        else:
            getattr(proto, field).extend(value)
    return proto


def parse_error(proto: tensor_pb2.TensorProto) -> ServingError:
    with pytest.raises(ServingError) as caught:
        to_numpy(proto)
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert caught.value.message.startswith("Unable to parse tensor proto: ")
    return caught.value


@pytest.mark.parametrize("use_tensor_content", ENCODINGS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dt, dtype", DTYPES)
def test_round_trip_is_bit_exact(dt, dtype, shape, use_tensor_content) -> None:
    array = sample(dtype, shape)
    proto = to_proto(array, use_tensor_content=use_tensor_content)
    assert proto.dtype == dt
    assert [dim.size for dim in proto.tensor_shape.dim] == list(shape)
    assert_identical(to_numpy(proto), array)


@pytest.mark.parametrize("use_tensor_content", ENCODINGS)
@pytest.mark.parametrize("dt, dtype", DTYPES)
def test_tensorflow_decodes_our_protos(dt, dtype, use_tensor_content) -> None:
    array = sample(dtype, (2, 3))
    proto = to_proto(array, use_tensor_content=use_tensor_content)
    assert_equal_values(tf.make_ndarray(proto), array)
    # The C++ Tensor::FromProto that TF Serving runs on every request.
    parsed = tf.io.parse_tensor(proto.SerializeToString(), tf.dtypes.as_dtype(dt)).numpy()
    assert_equal_values(parsed, array)


@pytest.mark.parametrize("shape", [(), (7,), (2, 3), (0, 2)], ids=str)
@pytest.mark.parametrize("dt, dtype", DTYPES)
def test_we_decode_tensorflow_protos(dt, dtype, shape) -> None:
    array = sample(dtype, shape, seed=1)
    python_made = tf.make_tensor_proto(array, dtype=tf.dtypes.as_dtype(dt))
    assert_identical(to_numpy(python_made), tf.make_ndarray(python_made))
    # C++ SerializeTensor (tensor_content for numbers, string_val for strings).
    cpp_made = tensor_pb2.TensorProto.FromString(tf.io.serialize_tensor(array).numpy())
    assert_identical(to_numpy(cpp_made), array)


# The field each dtype's values go to (TF's ProtoHelper<T>), written out independently here.
TYPED_FIELDS = {
    types_pb2.DT_FLOAT: "float_val",
    types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_HALF: "half_val",
    types_pb2.DT_BFLOAT16: "half_val",
    types_pb2.DT_INT8: "int_val",
    types_pb2.DT_INT16: "int_val",
    types_pb2.DT_INT32: "int_val",
    types_pb2.DT_INT64: "int64_val",
    types_pb2.DT_UINT8: "int_val",
    types_pb2.DT_UINT16: "int_val",
    types_pb2.DT_UINT32: "uint32_val",
    types_pb2.DT_UINT64: "uint64_val",
    types_pb2.DT_BOOL: "bool_val",
    types_pb2.DT_STRING: "string_val",
    types_pb2.DT_COMPLEX64: "scomplex_val",
    types_pb2.DT_COMPLEX128: "dcomplex_val",
}


@pytest.mark.parametrize("dt, dtype", DTYPES)
def test_typed_fields_equal_an_element_by_element_encoding(dt, dtype) -> None:
    array = sample(dtype, (2, 5))
    flat = array.ravel()
    if dtype in (np.float16, ml_dtypes.bfloat16):
        flat = flat.view(np.uint16)
    elif dtype.kind == "c":
        flat = flat.view(flat.real.dtype)
    expected = make_proto(dt, (2, 5), **{TYPED_FIELDS[dt]: flat.tolist()})
    assert to_proto(array) == expected


def test_half_travels_as_bit_patterns() -> None:
    proto = to_proto(np.array([1.0, -2.0], dtype=np.float16))
    assert list(proto.half_val) == [0x3C00, 0xC000]
    proto = to_proto(np.array([1.0], dtype=ml_dtypes.bfloat16))
    assert list(proto.half_val) == [0x3F80]


def test_float32_signalling_nan_keeps_its_bits() -> None:
    array = np.array([0x7F800001, 0xFFC00123], dtype=np.uint32).view(np.float32)
    for use_tensor_content in (False, True):
        assert_identical(to_numpy(to_proto(array, use_tensor_content)), array)


@pytest.mark.parametrize("dt, dtype", DTYPES)
def test_a_single_typed_value_is_broadcast(dt, dtype) -> None:
    one = sample(dtype, (1,), seed=2)
    proto = to_proto(one)
    proto.tensor_shape.Clear()
    for size in (2, 3):
        proto.tensor_shape.dim.add(size=size)
    got = to_numpy(proto)
    assert_identical(got, np.repeat(one, 6).reshape(2, 3))
    assert_identical(got, tf.make_ndarray(proto))


@pytest.mark.parametrize("dt, dtype", DTYPES)
def test_no_values_mean_zeros(dt, dtype) -> None:
    got = to_numpy(make_proto(dt, (2, 2)))
    expected = np.full((2, 2), b"" if dtype.kind == "O" else 0, dtype=dtype)
    assert_identical(got, expected)
    # TF's C++ agrees (its Python make_ndarray fills strings with str "" instead of bytes).
    proto = make_proto(dt, (2, 2)).SerializeToString()
    assert_identical(got, tf.io.parse_tensor(proto, tf.dtypes.as_dtype(dt)).numpy())


def test_tf_make_tensor_proto_broadcast_form() -> None:
    proto = tf.make_tensor_proto(2.5, tf.float32, shape=[2, 3])
    assert len(proto.float_val) == 1
    assert_identical(to_numpy(proto), np.full((2, 3), 2.5, dtype=np.float32))


@pytest.mark.parametrize(
    ("proto", "expected"),
    [
        pytest.param(
            make_proto(types_pb2.DT_FLOAT, (5,), float_val=[1, 2, 3]),
            [1, 2, 3, 3, 3],
            id="too-few-pads",
        ),
        pytest.param(
            make_proto(types_pb2.DT_INT64, (2,), int64_val=[1, 2, 3]), [1, 2], id="too-many-cut"
        ),
        pytest.param(
            make_proto(types_pb2.DT_STRING, (3,), string_val=[b"a", b"b"]),
            [b"a", b"b", b"b"],
            id="strings",
        ),
    ],
)
def test_value_counts_follow_tensorflow(proto, expected) -> None:
    """TF's FromProtoField pads a short list with its last value and ignores extra values."""
    assert to_numpy(proto).tolist() == expected
    if proto.dtype == types_pb2.DT_FLOAT:  # tf.make_ndarray pads the same way
        assert to_numpy(proto).tolist() == tf.make_ndarray(proto).tolist()


def test_narrow_ints_wrap_like_tensorflow() -> None:
    proto = make_proto(types_pb2.DT_INT8, (2,), int_val=[300, -200])
    expected = tf.io.parse_tensor(proto.SerializeToString(), tf.int8).numpy()
    assert_identical(to_numpy(proto), expected)


@pytest.mark.parametrize(
    "proto, detail",
    [
        pytest.param(
            make_proto(types_pb2.DT_COMPLEX64, (1,), scomplex_val=[1, 2, 3]),
            "scomplex_val has an odd number of values for complex64",
            id="half-a-complex",
        ),
        pytest.param(
            make_proto(types_pb2.DT_FLOAT, (2,), tensor_content=b"\0" * 7),
            "tensor_content has 7 bytes but shape [2] of float needs 8",
            id="content-size",
        ),
        pytest.param(
            make_proto(types_pb2.DT_STRING, (2,), tensor_content=b"\x01\x02abcX"),
            "tensor_content of 6 bytes does not hold 2 strings of 3 bytes",
            id="content-strings",
        ),
        pytest.param(
            make_proto(types_pb2.DT_STRING, (1,), tensor_content=b"\x85"),
            "truncated string length",
            id="content-varint",
        ),
        pytest.param(
            tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape={"unknown_rank": True}),
            "tensor_shape has unknown rank",
            id="unknown-rank",
        ),
        pytest.param(
            make_proto(types_pb2.DT_FLOAT, (2, -1), float_val=[1]),
            "tensor_shape [2, -1] has a negative dimension",
            id="negative-dim",
        ),
        pytest.param(
            make_proto(types_pb2.DT_FLOAT, (2**40, 2**40)),
            "has more than 2**63-1 elements",
            id="too-many-elements",
        ),
        pytest.param(
            make_proto(types_pb2.DT_HALF, (0, 2**63 - 1, 2**62, 0)),
            "is too large for a numpy array, though it has no elements",
            id="empty-but-too-large-for-numpy",
        ),
        pytest.param(
            make_proto(types_pb2.DT_FLOAT, (1,) * 255),
            "tensor_shape has 255 dimensions, more than 254",
            id="too-many-dims",
        ),
    ],
)
def test_malformed_protos_are_invalid_argument(proto, detail) -> None:
    assert detail in parse_error(proto).message


@pytest.mark.parametrize(
    "dt, name",
    [
        pytest.param(
            types_pb2.DT_RESOURCE, "unsupported dtype resource (DT_RESOURCE)", id="resource"
        ),
        pytest.param(types_pb2.DT_VARIANT, "unsupported dtype variant (DT_VARIANT)", id="variant"),
        pytest.param(types_pb2.DT_INVALID, "unsupported dtype INVALID (DT_INVALID)", id="invalid"),
        pytest.param(types_pb2.DT_QINT8, "unsupported dtype qint8 (DT_QINT8)", id="qint8"),
        pytest.param(999, "unsupported dtype unknown dtype enum (999)", id="unknown-enum"),
    ],
)
def test_unsupported_dtypes_are_named(dt, name) -> None:
    assert name in parse_error(make_proto(dt, (1,))).message
    with pytest.raises(ServingError) as caught:
        numpy_dtype(dt)
    assert caught.value.code == Code.INVALID_ARGUMENT


def test_string_tensor_content_is_length_prefixed_like_tensorflow() -> None:
    # EncodeStringList: varint lengths (1, 0, 129), then the bytes back to back.
    content = b"\x01\x00\x81\x01" + b"a" + b"x" * 129
    proto = make_proto(types_pb2.DT_STRING, (3,), tensor_content=content)
    expected = tf.io.parse_tensor(proto.SerializeToString(), tf.string).numpy()
    assert_identical(to_numpy(proto), expected)
    assert to_numpy(proto).tolist() == [b"a", b"", b"x" * 129]


def test_tensor_content_wins_over_typed_values() -> None:
    proto = make_proto(
        types_pb2.DT_INT32, (2,), tensor_content=np.array([7, 8], np.int32).tobytes(), int_val=[1]
    )
    assert_identical(to_numpy(proto), np.array([7, 8], dtype=np.int32))


@pytest.mark.parametrize("dt, dtype", DTYPES)
def test_dtype_maps_are_inverse(dt, dtype) -> None:
    assert numpy_dtype(dt) == dtype
    assert tf_dtype(dtype) == dt
    assert tf_dtype(dtype.newbyteorder(">")) == dt


def test_tf_dtype_of_text_and_foreign_dtypes() -> None:
    assert tf_dtype(np.dtype("S3")) == tf_dtype(np.dtype("<U2")) == types_pb2.DT_STRING
    assert tf_dtype("float32") == types_pb2.DT_FLOAT
    for foreign in (np.dtype("datetime64[s]"), np.dtype([("a", np.int8)]), "no-such-dtype"):
        with pytest.raises(ServingError) as caught:
            tf_dtype(foreign)
        assert caught.value.code == Code.INVALID_ARGUMENT


def test_to_proto_strings_accept_bytes_and_str() -> None:
    proto = to_proto(np.array([b"\xff", "é", np.str_("x")], dtype=object), use_tensor_content=True)
    assert proto.tensor_content == b""
    assert list(proto.string_val) == [b"\xff", "é".encode(), b"x"]
    assert list(to_proto(np.array(["ab", "c"])).string_val) == [b"ab", b"c"]
    with pytest.raises(ServingError, match="not int"):
        to_proto(np.array([b"a", 3], dtype=object))


def test_to_proto_takes_views_scalars_and_other_byte_orders() -> None:
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    for array in (base[:, ::2], base.T, base.astype(">f8"), base[1, 1]):
        for use_tensor_content in (False, True):
            got = to_numpy(to_proto(array, use_tensor_content))
            assert_identical(got, np.asarray(array, dtype=np.float64))
    assert_identical(to_numpy(to_proto(3)), np.array(3))


def test_dtype_names_match_tensorflow_data_type_string() -> None:
    # TF prints DataTypeString for both sides of a ParseTensor type mismatch.
    for name, dt in types_pb2.DataType.items():
        if dt in (types_pb2.DT_INVALID, types_pb2.DT_FLOAT) or name.endswith("_REF"):
            continue
        proto = make_proto(dt, (0,)).SerializeToString()
        with pytest.raises(tf.errors.InvalidArgumentError) as caught:
            tf.io.parse_tensor(proto, tf.float32)
        assert f"parsed tensor ({dtype_name(dt)}) and dtype (float)" in str(caught.value)
    assert dtype_name(types_pb2.DT_FLOAT_REF) == "float_ref"
    assert dtype_name(types_pb2.DT_INVALID) == "INVALID"
    assert dtype_name(1000) == "unknown dtype enum (1000)"


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from(NUMPY_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    if dtype.kind == "O":
        size = int(np.prod(shape))
        flat = np.empty(size, dtype=object)
        flat[:] = draw(st.lists(st.binary(max_size=6), min_size=size, max_size=size))
        return flat.reshape(shape)
    if dtype == ml_dtypes.bfloat16:
        return draw(hnp.arrays(np.uint16, shape)).view(dtype)
    return draw(hnp.arrays(dtype, shape))


@settings(max_examples=150, deadline=None)
@given(array=arrays(), use_tensor_content=st.booleans())
def test_property_round_trip_and_tensorflow_agree(array, use_tensor_content) -> None:
    proto = to_proto(array, use_tensor_content=use_tensor_content)
    assert_identical(to_numpy(proto), array)
    # make_ndarray reads float_val through Python floats, which may quiet a NaN: compare values.
    assert_equal_values(tf.make_ndarray(proto), array)


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(
            {f"f{i}": make_proto(types_pb2.DT_FLOAT, (1,), float_val=[i / 3]) for i in range(30)},
            id="scalar-floats",
        ),
        pytest.param(
            {
                "a": make_proto(types_pb2.DT_FLOAT, (1,), float_val=[1.5]),
                "b": make_proto(types_pb2.DT_FLOAT, (2,), float_val=[1, 2]),
            },
            id="mixed-shapes",
        ),
        pytest.param(
            {
                "a": make_proto(types_pb2.DT_FLOAT, (1,), float_val=[1.5]),
                "b": make_proto(types_pb2.DT_INT32, (1,), int_val=[3]),
            },
            id="mixed-dtypes",
        ),
    ],
)
def test_inputs_to_numpy_equals_one_by_one(inputs) -> None:
    together = inputs_to_numpy(inputs)
    assert together.keys() == inputs.keys()
    for alias, proto in inputs.items():
        assert_identical(together[alias], to_numpy(proto))


def test_more_dimensions_than_numpy_holds_is_a_client_error() -> None:
    """TensorFlow allows 254 dimensions; the server cannot hold more than numpy's 64 and says
    so as INVALID_ARGUMENT, not as an internal error."""
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.0])
    for _ in range(65):
        proto.tensor_shape.dim.add(size=1)
    error = parse_error(proto)
    assert error.message.endswith("tensor_shape has 65 dimensions; numpy arrays hold at most 64")


@pytest.mark.parametrize(
    "proto, needed",
    [
        pytest.param(
            make_proto(types_pb2.DT_FLOAT, (2**27,), float_val=[1.0]), 2**29, id="one-value-2^27"
        ),
        pytest.param(make_proto(types_pb2.DT_FLOAT, (2**40,), float_val=[1.0]), 2**42, id="2^40"),
        pytest.param(make_proto(types_pb2.DT_INT64, (2**20, 2**20)), 2**43, id="no-values"),
        pytest.param(
            make_proto(types_pb2.DT_STRING, (2**30,), string_val=[b"x"]), 2**33, id="strings"
        ),
    ],
)
def test_a_shape_over_the_byte_limit_is_refused_before_it_is_built(proto, needed) -> None:
    """A few bytes of TensorProto asking for gigabytes (TensorFlow repeats the last value over
    the shape) are INVALID_ARGUMENT naming the input and the sizes, not an allocation."""
    limit = 64 * 2**20
    with pytest.raises(ServingError) as caught:
        inputs_to_numpy({"x": proto}, max_bytes=limit)
    assert caught.value.code == Code.INVALID_ARGUMENT
    message = caught.value.message
    assert message.startswith("Input tensor 'x' of shape [")
    assert f"needs {needed} bytes, more than the limit of {limit} bytes" in message


def test_a_shape_at_the_byte_limit_is_built() -> None:
    proto = make_proto(types_pb2.DT_FLOAT, (4, 4), float_val=[2.5])
    assert to_numpy(proto, "x", max_bytes=64).tolist() == [[2.5] * 4] * 4
    with pytest.raises(ServingError, match="needs 68 bytes, more than the limit of 64"):
        to_numpy(make_proto(types_pb2.DT_FLOAT, (17,), float_val=[2.5]), "x", max_bytes=64)


def test_parse_errors_name_the_input() -> None:
    proto = make_proto(types_pb2.DT_FLOAT, (2,), tensor_content=b"\0" * 7)
    with pytest.raises(ServingError) as caught:
        inputs_to_numpy({"pixels": proto})
    assert caught.value.message.startswith("Unable to parse tensor proto of input 'pixels': ")
