"""TensorFlow's DataTypes without TensorFlow: the one table of numbers, names, numpy dtypes and
TensorProto fields, and the look-ups the codec (wire.tensors), the client and the server use.
"""

from __future__ import annotations

import functools
import sys
from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike


class DataTypeInfo(NamedTuple):
    """One TensorFlow DataType the codec converts."""

    number: int  # in tensorflow/core/framework/types.proto
    name: str  # the enum's name, "DT_FLOAT"
    numpy_name: str  # the numpy dtype's name; strings are object arrays holding bytes
    field: str  # the typed TensorProto field TF's ProtoHelper<T> (tensor.cc) fills
    # The numpy dtype an array is viewed as to fill `field`: half and bfloat16 travel as uint16
    # bit patterns, complex numbers as interleaved (real, imag) pairs.
    carrier: str

    @property
    def type_string(self) -> str:
        """TF's DataTypeString (types.cc), as its messages print the dtype: "float"."""
        return self.name[3:].lower()


DATA_TYPE_TABLE: tuple[DataTypeInfo, ...] = (
    DataTypeInfo(1, "DT_FLOAT", "float32", "float_val", "float32"),
    DataTypeInfo(2, "DT_DOUBLE", "float64", "double_val", "float64"),
    DataTypeInfo(3, "DT_INT32", "int32", "int_val", "int32"),
    DataTypeInfo(4, "DT_UINT8", "uint8", "int_val", "uint8"),
    DataTypeInfo(5, "DT_INT16", "int16", "int_val", "int16"),
    DataTypeInfo(6, "DT_INT8", "int8", "int_val", "int8"),
    DataTypeInfo(7, "DT_STRING", "object", "string_val", "object"),
    DataTypeInfo(8, "DT_COMPLEX64", "complex64", "scomplex_val", "float32"),
    DataTypeInfo(9, "DT_INT64", "int64", "int64_val", "int64"),
    DataTypeInfo(10, "DT_BOOL", "bool", "bool_val", "bool"),
    # numpy knows bfloat16 only once ml_dtypes is imported: see _register_bfloat16().
    DataTypeInfo(14, "DT_BFLOAT16", "bfloat16", "half_val", "uint16"),
    DataTypeInfo(17, "DT_UINT16", "uint16", "int_val", "uint16"),
    DataTypeInfo(18, "DT_COMPLEX128", "complex128", "dcomplex_val", "float64"),
    DataTypeInfo(19, "DT_HALF", "float16", "half_val", "uint16"),
    DataTypeInfo(22, "DT_UINT32", "uint32", "uint32_val", "uint32"),
    DataTypeInfo(23, "DT_UINT64", "uint64", "uint64_val", "uint64"),
)
DT_STRING = 7
DT_BFLOAT16 = 14

# TensorShape::MaxDimensions() and the int64 element count TF can index.
MAX_RANK = 254
MAX_ELEMENTS = 2**63 - 1

DATA_TYPE_NAMES: dict[int, str] = {row.number: row.name for row in DATA_TYPE_TABLE}
_NUMBERS_BY_NAME: dict[str, int] = {row.name: row.number for row in DATA_TYPE_TABLE}
_TYPE_STRINGS: dict[int, str] = {row.number: row.type_string for row in DATA_TYPE_TABLE}
_ROWS: dict[int, DataTypeInfo] = {row.number: row for row in DATA_TYPE_TABLE}

# Each typed field's number in tensor.proto and its elements as protobuf stores them.
_FIELD_NUMBERS: dict[str, int] = {
    "float_val": 5,
    "double_val": 6,
    "int_val": 7,
    "string_val": 8,
    "scomplex_val": 9,
    "int64_val": 10,
    "bool_val": 11,
    "dcomplex_val": 12,
    "half_val": 13,
    "uint32_val": 16,
    "uint64_val": 17,
}
_FIELD_DTYPES: dict[str, np.dtype] = {
    "float_val": np.dtype(np.float32),
    "double_val": np.dtype(np.float64),
    "int_val": np.dtype(np.int32),
    "string_val": np.dtype(object),
    "scomplex_val": np.dtype(np.float32),
    "int64_val": np.dtype(np.int64),
    "bool_val": np.dtype(np.bool_),
    "dcomplex_val": np.dtype(np.float64),
    "half_val": np.dtype(np.int32),
    "uint32_val": np.dtype(np.uint32),
    "uint64_val": np.dtype(np.uint64),
}
# Fields whose packed wire form is the array's own little-endian bytes (fixed 4/8-byte floats;
# a bool is a one-byte varint). Writing that form and letting upb parse it beats `extend`: for
# 150,528 float32 (1x224x224x3), extend(arr.ravel().tolist()) took 6.7 ms, extend(arr) 42 ms,
# this 0.07 ms; for 16 floats 3.1 us against 2.4 us. Integer fields stay on extend(tolist()):
# a numpy varint encoder measured no faster for mixed-sign or 64-bit values.
_PACKED_FIELDS = frozenset({"float_val", "double_val", "scomplex_val", "dcomplex_val", "bool_val"})

LITTLE_ENDIAN_HOST = sys.byteorder == "little"

# A upb repeated field converts to an array with one block copy (150,528 floats in 0.02 ms), but
# that path has a fixed cost of ~2 us: up to this many values go faster through a list (0.4 to
# 1.5 us). Not float_val or scomplex_val: a float32 becomes a Python float on the way, which
# quiets a signalling NaN.
_SHORT_FIELD = 32


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class Encoding(NamedTuple):
    """A DataType's row resolved to numpy dtypes, as the converters use it on every call."""

    numpy: np.dtype  # native byte order
    little: np.dtype  # the same, little-endian: tensor_content's byte order on any host
    field: str
    carrier: np.dtype
    stored: np.dtype  # the field's elements as protobuf stores them
    per_value: int  # field elements per tensor element: 2 for complex numbers
    short: int  # up to this many field elements are read through a list (see _SHORT_FIELD)
    type_string: str
    packed: np.dtype | None  # little-endian element type, if the packed form is the bytes
    packed_tag: bytes  # the field's length-delimited tag, if packed


ENCODINGS: dict[int, Encoding] = {}
DATA_TYPES: dict[np.dtype, int] = {}
NUMPY_DTYPES: dict[int, np.dtype] = {}


def _add(row: DataTypeInfo, dtype: np.dtype) -> None:
    stored = _FIELD_DTYPES[row.field]
    packed = row.field in _PACKED_FIELDS
    ENCODINGS[row.number] = Encoding(
        numpy=dtype,
        little=dtype if LITTLE_ENDIAN_HOST else dtype.newbyteorder("<"),
        field=row.field,
        carrier=np.dtype(row.carrier),
        stored=stored,
        per_value=2 if dtype.kind == "c" else 1,
        short=0 if stored == np.float32 else _SHORT_FIELD,
        type_string=row.type_string,
        packed=stored.newbyteorder("<") if packed else None,
        packed_tag=varint(_FIELD_NUMBERS[row.field] << 3 | 2) if packed else b"",
    )
    DATA_TYPES[dtype] = row.number
    NUMPY_DTYPES[row.number] = dtype


for _row in DATA_TYPE_TABLE:
    if _row.number != DT_BFLOAT16:
        _add(_row, np.dtype(_row.numpy_name))


def _register_bfloat16() -> bool:
    """Add bfloat16 to the dtype maps if the optional ml_dtypes package is installed.

    Done on first need, not at import: ml_dtypes costs ~15 ms to import, and a caller holding a
    bfloat16 array has imported it already.
    """
    if DT_BFLOAT16 in ENCODINGS:
        return True
    try:
        from ml_dtypes import bfloat16
    except ImportError:
        return False
    _add(_ROWS[DT_BFLOAT16], np.dtype(bfloat16))
    return True


@functools.cache
def _enum_names() -> dict[int, str]:
    # Every DataType TF defines (references, quantized, resource...), named only for messages.
    from wire.protos import DataType

    return {number: name for name, number in DataType.items()}


def dtype_name(dt: int) -> str:
    """TF's DataTypeString for a DataType number: "float", "bfloat16", "float_ref", "INVALID"."""
    name = _TYPE_STRINGS.get(dt)
    if name is not None:
        return name
    enum = _enum_names().get(dt)
    if enum is None:
        return f"unknown dtype enum ({dt})"
    return "INVALID" if dt == 0 else enum[3:].lower()


def unsupported(dt: int) -> str:
    enum = _enum_names().get(dt)
    named = f"{dtype_name(dt)} ({enum})" if enum is not None else dtype_name(dt)
    if dt == DT_BFLOAT16:
        return f"unsupported dtype {named}: it needs the optional ml_dtypes package"
    return f"unsupported dtype {named}"


def encoding_of(dt: int) -> Encoding | None:
    encoding = ENCODINGS.get(dt)
    if encoding is None and dt == DT_BFLOAT16 and _register_bfloat16():
        return ENCODINGS[dt]
    return encoding


def numpy_dtype(dt: int | str) -> np.dtype:
    """The numpy dtype for a DataType number or name such as 1 or "DT_FLOAT" (object for strings).

    Raises:
        ValueError: if the DataType is unknown or has no numpy counterpart here.
    """
    if isinstance(dt, str):
        number = _NUMBERS_BY_NAME.get(dt)
        if number is None:
            number = next((n for n, name in _enum_names().items() if name == dt), None)
            if number is None:
                raise ValueError(f"unknown DataType name {dt!r}")
        dt = number
    encoding = encoding_of(dt)
    if encoding is None:
        raise ValueError(unsupported(dt))
    return encoding.numpy


# Asked for every input of every request: the answer is remembered per numpy dtype.
DATA_TYPE_OF: dict[np.dtype, int] = {}


def data_type(dtype: DTypeLike) -> int:
    """The DataType number for a numpy dtype; bytes, str and object dtypes are DT_STRING.

    Raises:
        ValueError: if TensorFlow has no counterpart for the dtype.
    """
    known = DATA_TYPE_OF.get(dtype) if isinstance(dtype, np.dtype) else None
    if known is not None:
        return known
    try:
        resolved = np.dtype(dtype)
    except TypeError as err:
        raise ValueError(f"not a numpy dtype: {dtype!r}") from err
    native = resolved if resolved.isnative else resolved.newbyteorder("=")
    number = DT_STRING if resolved.kind in "OSU" else DATA_TYPES.get(native)
    if number is None and native.name == "bfloat16" and _register_bfloat16():
        number = DATA_TYPES.get(native)
    if number is None:
        raise ValueError(f"numpy dtype {resolved} has no TensorFlow counterpart")
    DATA_TYPE_OF[resolved] = number
    return number
