"""One JSON value -> one dense tensor, with TF Serving's level, size and type checks.

The exact path walks every leaf as FillTensorProto does and produces TF Serving's first
error. The fast path lets numpy build numeric arrays and only accepts results the exact
path would have produced too; anything doubtful goes down the exact path.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from server.errors import Code, ServingError, invalid_argument, tensor_too_large
from server.rest_json.input_spec import InputSpec
from server.rest_json.snippets import json_type_name, json_value_to_string
from server.rest_json.values import (
    INT32_RANGE,
    INT64_RANGE,
    UINT32_RANGE,
    UINT64_RANGE,
    as_double,
    decode_b64_text,
    in_range,
    is_b64_object,
    is_json_number,
    to_bytes,
)

# numpy cannot hold more dimensions than this; TF's limit (254) is never reached.
_MAX_RANK = 32


def _type_error(value: object, spec: InputSpec) -> ServingError:
    return invalid_argument(
        f"JSON Value: {json_value_to_string(value)} Type: {json_type_name(value)} "
        f"is not of expected type: {spec.tf_dtype_name}"
    )


def _numbers(value: object, spec: InputSpec) -> float | int:
    if not is_json_number(value):
        raise _type_error(value, spec)
    return value if type(value) is float or in_range(value, INT64_RANGE) else as_double(value)


def _integers(bounds: tuple[int, int]) -> Callable[[object, InputSpec], int]:
    def convert(value: object, spec: InputSpec) -> int:
        if not in_range(value, bounds):
            raise _type_error(value, spec)
        return value

    return convert


def _bools(value: object, spec: InputSpec) -> bool:
    if type(value) is not bool:
        raise _type_error(value, spec)
    return value


def _strings(value: object, spec: InputSpec) -> bytes:
    if type(value) is not str:
        raise _type_error(value, spec)
    return to_bytes(value)


# tf_dtype_name -> (leaf converter, numpy dtype the converted leaves are collected in).
_CONVERTERS: dict[str, tuple[Callable[[object, InputSpec], object], DTypeLike]] = {
    "float": (_numbers, np.float64),
    "double": (_numbers, np.float64),
    "int32": (_integers(INT32_RANGE), np.int64),
    "int16": (_integers(INT32_RANGE), np.int64),
    "int8": (_integers(INT32_RANGE), np.int64),
    "uint8": (_integers(INT32_RANGE), np.int64),
    "int64": (_integers(INT64_RANGE), np.int64),
    "uint32": (_integers(UINT32_RANGE), np.int64),
    "uint64": (_integers(UINT64_RANGE), np.uint64),
    "bool": (_bools, np.bool_),
    "string": (_strings, object),
}
# Integer targets the fast path may take from numpy's int64/uint64 inference: value bounds.
_FAST_INT_BOUNDS = {
    "int32": INT32_RANGE,
    "int16": INT32_RANGE,
    "int8": INT32_RANGE,
    "uint8": INT32_RANGE,
    "int64": INT64_RANGE,
    "uint32": UINT32_RANGE,
    "uint64": UINT64_RANGE,
}


def dense_shape(value: object) -> list[int]:
    """The shape TF Serving infers: each level's length, following first elements."""
    shape = []
    while type(value) is list:
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def check_size(name: str, shape: Sequence[int], spec: InputSpec, max_bytes: int | None) -> None:
    """Refuse a tensor of `shape` whose element count times its item size passes max_bytes.

    Called with the shape inferred from the JSON (dense_shape) before any array is built.

    Raises:
        ServingError: INVALID_ARGUMENT naming the input, its shape and both sizes.
    """
    if max_bytes is None:
        return
    needed = math.prod(shape) * spec.dtype.itemsize
    if needed > max_bytes:
        raise tensor_too_large(name, shape, spec.tf_dtype_name, needed, max_bytes)


def decode_b64_object(value: object) -> bytes:
    """Bytes of a `{"b64": ...}` leaf.

    Raises:
        ServingError: INVALID_ARGUMENT when the object is not exactly `{"b64": <string>}`
            or the text is not base64.
    """
    if not is_b64_object(value):
        raise invalid_argument(
            f"JSON Value: {json_value_to_string(value)} not formatted correctly for base64 data"
        )
    return decode_b64_text(value["b64"])


def collect_leaves(value: object, shape: list[int], spec: InputSpec) -> list[object]:
    """Check `value` against `shape` leaf by leaf and return the converted leaves in order.

    Raises:
        ServingError: the first error TF Serving's FillTensorProto would report.
    """
    rank = len(shape)
    converter = _CONVERTERS.get(spec.tf_dtype_name)
    leaves: list[object] = []
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if type(item) is list:
            if level >= rank:
                raise invalid_argument(
                    f"Encountered list at unexpected level: {level} expected < {rank}"
                )
            if len(item) != shape[level]:
                raise invalid_argument(
                    f"Encountered list at unexpected size: {len(item)} at level: {level} "
                    f"expected size: {shape[level]}"
                )
            stack.extend((child, level + 1) for child in reversed(item))
            continue
        if level != rank:
            raise invalid_argument(
                f"JSON Value: {json_value_to_string(item)} found at incorrect level: "
                f"{level + 1} in the JSON DOM. Expected at level: {rank}"
            )
        if type(item) is dict:
            if spec.tf_dtype_name != "string":
                raise _type_error(item, spec)
            leaves.append(decode_b64_object(item))
        elif converter is None:
            raise ServingError(
                Code.UNIMPLEMENTED,
                f"Conversion of JSON Value: {json_value_to_string(item)} "
                f"to type: {spec.tf_dtype_name}",
            )
        else:
            leaves.append(converter[0](item, spec))
    return leaves


def leaves_to_array(leaves: list[object], shape: list[int], spec: InputSpec) -> np.ndarray:
    """Assemble converted leaves into an array of `spec.dtype` and `shape`.

    Raises:
        ServingError: INVALID_ARGUMENT when the rank exceeds what numpy can hold.
    """
    if len(shape) > _MAX_RANK:
        raise invalid_argument(
            f"Tensor rank {len(shape)} exceeds the supported maximum of {_MAX_RANK}"
        )
    converter = _CONVERTERS.get(spec.tf_dtype_name)
    if spec.dtype == np.dtype(object) or converter is None:
        array = np.empty(len(leaves), dtype=spec.dtype)
        array[:] = leaves
    else:
        with np.errstate(over="ignore"):
            array = np.array(leaves, dtype=converter[1]).astype(spec.dtype, copy=False)
    return array.reshape(shape)


def fast_array(value: object, spec: InputSpec) -> np.ndarray | None:
    """Let numpy build a numeric tensor; None when the exact path must decide."""
    name = spec.tf_dtype_name
    if type(value) is not list or (
        name not in _FAST_INT_BOUNDS and name not in ("float", "double", "bool")
    ):
        return None
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        return None  # ragged, too deep, or out of numpy's integer range
    kind = array.dtype.kind
    if name == "bool":
        return array if kind == "b" else None
    if array.size == 0:
        return np.zeros(array.shape, dtype=spec.dtype) if kind in "fiu" else None
    if kind not in "fiu" or _holds_bool(value, array.ndim):
        return None
    if name in ("float", "double"):
        with np.errstate(over="ignore"):
            if kind != "f":  # rapidjson turns integers into doubles first, then floats
                array = array.astype(np.float64)
            return array.astype(spec.dtype, copy=False)
    low, high = _FAST_INT_BOUNDS[name]
    if kind == "f" or int(array.min()) < low or int(array.max()) >= high:
        return None
    return array.astype(spec.dtype, copy=False)


def _holds_bool(value: list[Any], rank: int) -> bool:
    """numpy silently reads true/false as 1/0 next to numbers; TF Serving rejects them."""
    # Nested lists: numpy found `rank` levels, so every item above the last is a list.
    flat: Iterable[Any] = value
    for _ in range(rank - 1):
        flat = itertools.chain.from_iterable(flat)
    return bool in set(map(type, flat))


def dense_tensor(
    value: object, spec: InputSpec, name: str = "", max_bytes: int | None = None
) -> np.ndarray:
    """Convert one JSON value (scalar, nested lists or b64 object) to a tensor.

    Raises:
        ServingError: TF Serving's message for the first bad level, size or leaf, or
            INVALID_ARGUMENT naming input `name` when its shape needs more than max_bytes.
    """
    shape = dense_shape(value)
    check_size(name, shape, spec, max_bytes)
    array = fast_array(value, spec)
    if array is not None:
        return array
    return leaves_to_array(collect_leaves(value, shape, spec), shape, spec)
