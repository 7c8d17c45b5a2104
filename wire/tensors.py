"""Convert between numpy arrays and TensorProto messages without TensorFlow.

The one TensorProto codec (the DataType table it reads is wire.dtypes, whose names it also
offers): the client library, the request logs and the tools use it as it is, the server's gRPC
edge (server.tensors) through its own errors.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from wire.dtypes import (
    DATA_TYPE_NAMES,
    DATA_TYPE_OF,
    DATA_TYPE_TABLE,
    DATA_TYPES,
    DT_BFLOAT16,
    DT_STRING,
    ENCODINGS,
    LITTLE_ENDIAN_HOST,
    MAX_ELEMENTS,
    MAX_RANK,
    NUMPY_DTYPES,
    DataTypeInfo,
    Encoding,
    data_type,
    dtype_name,
    encoding_of,
    numpy_dtype,
    unsupported,
    varint,
)

__all__ = [
    "DATA_TYPES",
    "DATA_TYPE_NAMES",
    "DATA_TYPE_TABLE",
    "DT_BFLOAT16",
    "DT_STRING",
    "MAX_ELEMENTS",
    "MAX_RANK",
    "NUMPY_DTYPES",
    "DataTypeInfo",
    "TensorProtoError",
    "TensorTooLargeError",
    "data_type",
    "dtype_name",
    "make_ndarray",
    "make_tensor_proto",
    "numpy_dtype",
]


class TensorProtoError(ValueError):
    """A TensorProto that holds no tensor this codec reads; `detail` says why.

    The server answers with "Unable to parse tensor proto: <detail>".
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TensorTooLargeError(TensorProtoError):
    """A TensorProto whose shape needs more bytes than the reader allows.

    Raised before any array is built: a few bytes of TensorProto (a huge shape with one value,
    which TensorFlow repeats) could otherwise ask for terabytes.
    """

    def __init__(self, shape: tuple[int, ...], type_string: str, needed: int, limit: int) -> None:
        super().__init__(
            f"tensor_shape {list(shape)} of {type_string} needs {needed} bytes, more than "
            f"the limit of {limit} bytes"
        )
        self.shape = shape
        self.type_string = type_string
        self.needed = needed
        self.limit = limit


def _as_array(values: Any, dtype: DTypeLike | None) -> np.ndarray:
    if dtype is not None:
        dtype = np.dtype(dtype)
        return np.array(values, dtype=object) if dtype.kind in "OSU" else np.asarray(values, dtype)
    if isinstance(values, np.ndarray | np.generic):
        return np.asarray(values)
    array = np.asarray(values)
    if array.dtype.kind in "SU":  # numpy's fixed-width strings would drop trailing NULs
        return np.array(values, dtype=object)
    # Like tf.make_tensor_proto, Python floats become float32 and ints int32 when lossless.
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if (
        array.dtype == np.int64
        and array.size
        and np.array_equal(narrow := array.astype(np.int32), array)
    ):
        return narrow
    return array


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise ValueError(f"a string tensor holds bytes or str, not {type(value).__name__}")


@functools.cache
def _default_message_class() -> Any:
    from wire.protos import TensorProto  # lazily: any class with TensorProto's fields will do

    return TensorProto


def make_tensor_proto(
    values: ArrayLike,
    message_class: Any = None,
    *,
    dtype: DTypeLike | None = None,
    typed_fields: bool = False,
) -> Any:
    """A TensorProto of the values: numbers in little-endian tensor_content, strings in string_val.

    With typed_fields, numbers go to the typed field TF's own C++ fills (float_val, int_val,
    half_val as bit patterns...), which is how TF Serving answers.

    numpy arrays and scalars keep their dtype; Python lists and scalars follow
    tf.make_tensor_proto (floats become float32, ints int32 unless that loses values).
    message_class defaults to wire.protos.TensorProto.

    Raises:
        ValueError: if the dtype has no TensorFlow counterpart, the nesting is ragged, or a
            string tensor holds something other than bytes or str.
    """
    # The server's answers are arrays of known dtypes: skip the conversions and look-ups.
    array = values if dtype is None and type(values) is np.ndarray else _as_array(values, dtype)
    number = DATA_TYPE_OF.get(array.dtype) or data_type(array.dtype)
    if message_class is None:
        message_class = _default_message_class()
    if number == DT_STRING:
        proto = message_class(
            dtype=number, string_val=[_to_bytes(v) for v in array.ravel().tolist()]
        )
    elif not typed_fields:
        content = array.astype(ENCODINGS[number].little, copy=False).tobytes()
        proto = message_class(dtype=number, tensor_content=content)
    else:
        proto = message_class(dtype=number)
        if array.size:
            encoding = ENCODINGS[number]
            flat = np.ascontiguousarray(array, dtype=encoding.numpy).reshape(-1)
            carried = flat.view(encoding.carrier)
            if encoding.packed is None:
                getattr(proto, encoding.field).extend(carried.tolist())
            else:
                payload = carried.astype(encoding.packed, copy=False).tobytes()
                proto.MergeFromString(encoding.packed_tag + varint(len(payload)) + payload)
    dims = proto.tensor_shape.dim
    for size in array.shape:
        dims.add(size=size)
    return proto


# NPY_MAXDIMS: the most dimensions a numpy array can have (numpy 2).
_NUMPY_MAX_RANK = 64


def _shape(shape_proto: Any) -> tuple[tuple[int, ...], int]:
    """The shape and its element count, checked as TensorShape's constructor checks them."""
    if shape_proto.unknown_rank:
        raise TensorProtoError("tensor_shape has unknown rank")
    shape = tuple([dim.size for dim in shape_proto.dim])
    if len(shape) > 1:
        return shape, _element_count(shape)
    # A scalar or a vector has neither too many dimensions nor too many elements.
    count = shape[0] if shape else 1
    if count < 0:
        raise TensorProtoError(f"tensor_shape {list(shape)} has a negative dimension")
    return shape, count


def _element_count(shape: tuple[int, ...]) -> int:
    if len(shape) > MAX_RANK:
        raise TensorProtoError(f"tensor_shape has {len(shape)} dimensions, more than {MAX_RANK}")
    if min(shape) < 0:
        raise TensorProtoError(f"tensor_shape {list(shape)} has a negative dimension")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise TensorProtoError(f"tensor_shape {list(shape)} has more than 2**63-1 elements")
    if len(shape) > _NUMPY_MAX_RANK:
        # TensorFlow would take it; a numpy array cannot hold it, so it is refused here.
        raise TensorProtoError(
            f"tensor_shape has {len(shape)} dimensions; numpy arrays hold at most {_NUMPY_MAX_RANK}"
        )
    return count


def _readvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 35:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7
    raise TensorProtoError("tensor_content holds a truncated string length")


def _strings_from_content(content: bytes, count: int) -> np.ndarray:
    # TF's EncodeStringList (TF Serving's --enable_serialization_as_tensor_content): every
    # length as a varint32, then the strings back to back.
    lengths, pos = [], 0
    for _ in range(count):
        length, pos = _readvarint(content, pos)
        lengths.append(length)
    if pos + sum(lengths) != len(content):
        raise TensorProtoError(
            f"tensor_content of {len(content)} bytes does not hold {count} strings "
            f"of {sum(lengths)} bytes"
        )
    out = np.empty(count, dtype=object)
    for i, length in enumerate(lengths):
        out[i] = content[pos : pos + length]
        pos += length
    return out


def _from_field(proto: Any, number: int, encoding: Encoding, count: int) -> np.ndarray:
    field = getattr(proto, encoding.field)
    given, odd = divmod(len(field), encoding.per_value)
    if odd:
        raise TensorProtoError(
            f"{encoding.field} has an odd number of values for {encoding.type_string}"
        )
    if given == 0:
        return np.full(count, b"" if number == DT_STRING else 0, dtype=encoding.numpy)
    if number == DT_STRING:
        values = np.empty(given, dtype=object)
        values[:] = list(field)
    else:
        # The narrowing astype wraps out-of-range int_val like TF's C++ copy.
        values = np.array(field[:] if len(field) <= encoding.short else field, encoding.stored)
        if encoding.stored != encoding.numpy:
            values = values.astype(encoding.carrier, copy=False).view(encoding.numpy)
    # TF's FromProtoField: extra values are ignored, missing ones repeat the last value.
    if given == count:
        return values
    if given > count:
        return values[:count]
    return np.concatenate([values, np.repeat(values[-1:], count - given)])


def make_ndarray(proto: Any, *, writable: bool = True, max_bytes: int | None = None) -> np.ndarray:
    """The array a TensorProto holds, from tensor_content when set, else its typed field.

    As in TensorFlow, a typed field with no values gives zeros, fewer values than the shape
    needs are padded with the last one and extra values are ignored. Strings come back as an
    object array of bytes. With writable=False, numbers read from tensor_content are a
    read-only view of the message's bytes instead of a copy. With max_bytes, a shape whose
    element count times the dtype's item size (8, a reference, per string) passes it is
    refused before anything is allocated.

    Raises:
        TensorProtoError: for an unsupported dtype, a shape of unknown rank, negative sizes,
            more than 254 dimensions or 2**63-1 elements, or values whose count or byte size
            does not match the shape.
            A shape of 65 to 254 dimensions (TensorFlow's limit) is refused too: numpy holds 64.
        TensorTooLargeError: the shape needs more than max_bytes bytes.
    """
    number = proto.dtype
    encoding = ENCODINGS.get(number) or encoding_of(number)
    if encoding is None:
        raise TensorProtoError(unsupported(number))
    shape, count = _shape(proto.tensor_shape)
    itemsize = encoding.numpy.itemsize
    if max_bytes is not None and (needed := count * itemsize) > max_bytes:
        raise TensorTooLargeError(shape, encoding.type_string, needed, max_bytes)
    if not count and math.prod([size for size in shape if size]) * itemsize > MAX_ELEMENTS:
        # numpy sizes even an empty array by its non-zero dimensions; TensorFlow takes it.
        raise TensorProtoError(
            f"tensor_shape {list(shape)} is too large for a numpy array, though it has no elements"
        )
    content = proto.tensor_content
    if not content:
        flat = _from_field(proto, number, encoding, count)
    elif number == DT_STRING:
        flat = _strings_from_content(content, count)
    else:
        size = count * encoding.numpy.itemsize
        if len(content) != size:
            raise TensorProtoError(
                f"tensor_content has {len(content)} bytes but shape {list(shape)} of "
                f"{encoding.type_string} needs {size}"
            )
        # A read-only view of the bytes object protobuf handed out; astype copies (and swaps
        # the bytes on a big-endian host).
        flat = np.frombuffer(content, dtype=encoding.little)
        if writable or not LITTLE_ENDIAN_HOST:
            flat = flat.astype(encoding.numpy)
    return flat.reshape(shape)
