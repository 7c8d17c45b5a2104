"""Convert between numpy arrays and TensorProto messages without TensorFlow."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

# TF's types.proto number, numpy dtype and the typed TensorProto field TF's ProtoHelper<T>
# (tensorflow/core/framework/tensor.cc) fills for each supported DataType.
_TABLE: tuple[tuple[str, int, Any, str], ...] = (
    ("DT_FLOAT", 1, np.float32, "float_val"),
    ("DT_DOUBLE", 2, np.float64, "double_val"),
    ("DT_INT32", 3, np.int32, "int_val"),
    ("DT_UINT8", 4, np.uint8, "int_val"),
    ("DT_INT16", 5, np.int16, "int_val"),
    ("DT_INT8", 6, np.int8, "int_val"),
    ("DT_STRING", 7, np.object_, "string_val"),
    ("DT_COMPLEX64", 8, np.complex64, "scomplex_val"),
    ("DT_INT64", 9, np.int64, "int64_val"),
    ("DT_BOOL", 10, np.bool_, "bool_val"),
    ("DT_BFLOAT16", 14, None, "half_val"),  # numpy type registered by _register_bfloat16()
    ("DT_UINT16", 17, np.uint16, "int_val"),
    ("DT_COMPLEX128", 18, np.complex128, "dcomplex_val"),
    ("DT_HALF", 19, np.float16, "half_val"),
    ("DT_UINT32", 22, np.uint32, "uint32_val"),
    ("DT_UINT64", 23, np.uint64, "uint64_val"),
)
DT_STRING = 7
DT_BFLOAT16 = 14

DATA_TYPES: dict[np.dtype, int] = {np.dtype(t): dt for _, dt, t, _ in _TABLE if t is not None}
NUMPY_DTYPES: dict[int, np.dtype] = {dt: dtype for dtype, dt in DATA_TYPES.items()}
DATA_TYPE_NAMES: dict[int, str] = {dt: name for name, dt, _, _ in _TABLE}
_NUMBERS_BY_NAME: dict[str, int] = {name: dt for dt, name in DATA_TYPE_NAMES.items()}
_FIELDS: dict[int, str] = {dt: field for _, dt, _, field in _TABLE}
# tensor_content is little-endian whatever the host's byte order.
_LITTLE_ENDIAN: dict[int, np.dtype] = {dt: t.newbyteorder("<") for dt, t in NUMPY_DTYPES.items()}

# How protobuf stores each typed field's elements; half_val holds uint16 bit patterns in
# int32s and the complex fields hold interleaved (real, imag) pairs.
_FIELD_DTYPES: dict[str, np.dtype] = {
    "float_val": np.dtype(np.float32),
    "double_val": np.dtype(np.float64),
    "int_val": np.dtype(np.int32),
    "int64_val": np.dtype(np.int64),
    "uint32_val": np.dtype(np.uint32),
    "uint64_val": np.dtype(np.uint64),
    "bool_val": np.dtype(np.bool_),
    "half_val": np.dtype(np.int32),
    "scomplex_val": np.dtype(np.float32),
    "dcomplex_val": np.dtype(np.float64),
}


def _register_bfloat16() -> bool:
    """Add bfloat16 to the dtype maps if the optional ml_dtypes package is installed.

    Done on first need, not at import: ml_dtypes costs ~15 ms to import, and a caller holding a
    bfloat16 array has imported it already.
    """
    if DT_BFLOAT16 in NUMPY_DTYPES:
        return True
    try:
        from ml_dtypes import bfloat16
    except ImportError:
        return False
    dtype = np.dtype(bfloat16)
    DATA_TYPES[dtype] = DT_BFLOAT16
    NUMPY_DTYPES[DT_BFLOAT16] = dtype
    _LITTLE_ENDIAN[DT_BFLOAT16] = dtype.newbyteorder("<")
    return True


def _unsupported(dt: Any) -> ValueError:
    if dt == DT_BFLOAT16:
        return ValueError("DT_BFLOAT16 tensors need the optional ml_dtypes package")
    name = DATA_TYPE_NAMES.get(dt, dt)
    if isinstance(name, int):
        try:  # only to name the DataType in the message (DT_RESOURCE, DT_VARIANT...)
            from wire.protos import DataType

            name = DataType.Name(dt)
        except (ImportError, ValueError):
            pass
    return ValueError(f"unsupported TensorProto dtype {name}")


def numpy_dtype(dt: int | str) -> np.dtype:
    """The numpy dtype for a DataType number or name such as 7 or "DT_FLOAT" (object for strings).

    Raises:
        ValueError: if the DataType is unknown or has no numpy counterpart here.
    """
    number = _NUMBERS_BY_NAME.get(dt, dt) if isinstance(dt, str) else dt
    if number not in NUMPY_DTYPES and not (number == DT_BFLOAT16 and _register_bfloat16()):
        raise _unsupported(number)
    return NUMPY_DTYPES[number]


def data_type(dtype: DTypeLike) -> int:
    """The DataType number for a numpy dtype; bytes, str and object dtypes are DT_STRING.

    Raises:
        ValueError: if TensorFlow has no counterpart for the dtype.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise ValueError(f"not a numpy dtype: {dtype!r}") from err
    if dtype.kind in "OSU":
        return DT_STRING
    number = DATA_TYPES.get(dtype) or DATA_TYPES.get(dtype.newbyteorder("="))
    if number is None and dtype.name == "bfloat16" and _register_bfloat16():
        number = DATA_TYPES.get(dtype.newbyteorder("="))
    if number is None:
        raise ValueError(f"numpy dtype {dtype} has no TensorFlow DataType")
    return number


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


def make_tensor_proto(
    values: ArrayLike, message_class: Any = None, *, dtype: DTypeLike | None = None
) -> Any:
    """A TensorProto of the values: numbers in little-endian tensor_content, strings in string_val.

    numpy arrays and scalars keep their dtype; Python lists and scalars follow
    tf.make_tensor_proto (floats become float32, ints int32 unless that loses values).
    message_class defaults to wire.protos.TensorProto.

    Raises:
        ValueError: if the dtype has no TensorFlow counterpart, the nesting is ragged, or a
            string tensor holds something other than bytes or str.
    """
    array = _as_array(values, dtype)
    number = data_type(array.dtype)
    if message_class is None:
        from wire.protos import TensorProto  # lazily: any class with these fields will do

        message_class = TensorProto
    if number == DT_STRING:
        proto = message_class(
            dtype=number, string_val=[_to_bytes(v) for v in array.ravel().tolist()]
        )
    else:
        content = array.astype(_LITTLE_ENDIAN[number], copy=False).tobytes()
        proto = message_class(dtype=number, tensor_content=content)
    dims = proto.tensor_shape.dim
    for size in array.shape:
        dims.add(size=size)
    return proto


def _shape(shape_proto: Any) -> tuple[int, ...]:
    if getattr(shape_proto, "unknown_rank", False):
        raise ValueError("TensorProto has a shape of unknown rank")
    shape = tuple([dim.size for dim in shape_proto.dim])
    if shape and min(shape) < 0:
        raise ValueError(f"TensorProto shape {list(shape)} has a negative dimension")
    return shape


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 35:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("tensor_content holds a truncated string length")


def _strings_from_content(content: bytes, count: int) -> np.ndarray:
    # TF's EncodeStringList (TF Serving's --enable_serialization_as_tensor_content): all
    # lengths as varints, then the strings back to back.
    lengths, pos = [], 0
    for _ in range(count):
        length, pos = _read_varint(content, pos)
        lengths.append(length)
    if pos + sum(lengths) != len(content):
        raise ValueError(f"tensor_content of {len(content)} bytes does not hold {count} strings")
    out = np.empty(count, dtype=object)
    for i, length in enumerate(lengths):
        out[i] = content[pos : pos + length]
        pos += length
    return out


_SHORT_FIELD = 32  # values: below this, list conversion beats the block copy


def _from_field(proto: Any, number: int, dtype: np.dtype, count: int) -> np.ndarray:
    name = _FIELDS[number]
    field = getattr(proto, name)
    if number == DT_STRING:
        values = np.empty(len(field), dtype=object)
        values[:] = list(field)
    else:
        # A upb repeated field converts with one block copy, but that path has a fixed cost
        # of ~7 us; a few values go faster through a list. astype narrows int_val and
        # half_val the way TF's C++ copy does.
        raw = np.array(field[:] if len(field) <= _SHORT_FIELD else field, _FIELD_DTYPES[name])
        if dtype.kind == "c" and raw.size % 2:
            raise ValueError(f"{name} holds an odd number of values for a complex tensor")
        if name == "half_val":
            raw = raw.astype(np.uint16)
        elif dtype.kind != "c":
            raw = raw.astype(dtype, copy=False)
        values = raw.view(dtype)
    # TF's count rule: no values mean zeros, a short list repeats its last value, extras go.
    if values.size == 0:
        return np.full(count, b"" if number == DT_STRING else 0, dtype=dtype)
    if values.size >= count:
        return values[:count]
    return np.concatenate([values, np.repeat(values[-1:], count - values.size)])


def make_ndarray(proto: Any) -> np.ndarray:
    """A writable array of a TensorProto's values, from tensor_content or else its typed field.

    As in TensorFlow, a typed field with no values gives zeros, fewer values than the shape
    needs are padded with the last one and extra values are ignored. Strings come back as an
    object array of bytes.

    Raises:
        ValueError: for an unsupported dtype, an unknown-rank or negative shape, or
            tensor_content whose size does not match the shape.
    """
    number = proto.dtype
    dtype = numpy_dtype(number)
    shape = _shape(proto.tensor_shape)
    count = math.prod(shape)
    content = proto.tensor_content
    if not content:
        return _from_field(proto, number, dtype, count).reshape(shape)
    if number == DT_STRING:
        return _strings_from_content(content, count).reshape(shape)
    if len(content) != count * dtype.itemsize:
        raise ValueError(
            f"tensor_content has {len(content)} bytes but shape {list(shape)} of "
            f"{DATA_TYPE_NAMES[number]} needs {count * dtype.itemsize}"
        )
    # astype copies (the bytes object is read-only) and swaps bytes on big-endian hosts.
    return np.frombuffer(content, _LITTLE_ENDIAN[number]).astype(dtype).reshape(shape)
