"""Predict request bodies (row `instances` and columnar `inputs`) -> named numpy tensors."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from server.errors import ServingError, invalid_argument
from server.rest_json.dense import (
    check_size,
    collect_leaves,
    dense_shape,
    dense_tensor,
    fast_array,
    leaves_to_array,
)
from server.rest_json.input_spec import InputSpec
from server.rest_json.parse import signature_name_of
from server.rest_json.snippets import json_value_to_string
from server.rest_json.values import is_b64_object, status_string

ROW = "row"
COLUMNAR = "columnar"


def _is_element_object(value: object) -> bool:
    return type(value) is dict and not is_b64_object(value)


def _shape_text(shape: list[int]) -> str:
    return "[" + ",".join(map(str, shape)) + "]"


class _InstanceColumn:
    """One input across all instances: the first instance fixes its shape and size."""

    def __init__(self, spec: InputSpec) -> None:
        self.spec = spec
        self.shape: list[int] | None = None
        self.leaves: list[object] = []

    def add(self, value: object) -> None:
        shape = dense_shape(value)
        leaves = collect_leaves(value, shape, self.spec)
        if self.shape is None:
            self.shape = shape
        elif len(leaves) != (size := _size(self.shape)):
            raise invalid_argument(f"Expecting tensor size: {size} but got: {len(leaves)}")
        elif shape != self.shape:
            raise invalid_argument(
                f"Expecting shape {_shape_text(self.shape)} but got: {_shape_text(shape)}"
            )
        self.leaves.extend(leaves)

    def array(self, count: int) -> np.ndarray:
        return leaves_to_array(self.leaves, [count, *(self.shape or [])], self.spec)


def _size(shape: list[int]) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def _wrap(index: int, error: ServingError, key: str | None = None) -> ServingError:
    where = f"{index}" if key is None else f"{index} key: {key}"
    return invalid_argument(
        f"Failed to process element: {where} of 'instances' list. Error: {status_string(error)}"
    )


def _rows_of_values(
    instances: list[Any], name: str, spec: InputSpec, max_bytes: int | None
) -> dict[str, np.ndarray]:
    check_size(name, [len(instances), *dense_shape(instances[0])], spec, max_bytes)
    array = fast_array(instances, spec)
    if array is not None:
        return {name: array}
    column = _InstanceColumn(spec)
    for index, instance in enumerate(instances):
        if _is_element_object(instance):
            raise invalid_argument(
                f"Expecting value/list but got object at item {index} of input list"
            )
        try:
            column.add(instance)
        except ServingError as err:
            raise _wrap(index, err) from err
    return {name: column.array(len(instances))}


def _scalar_float_columns(
    instances: list[Any], names: list[str], specs: dict[str, InputSpec]
) -> dict[str, np.ndarray] | None:
    """All float inputs at once when every value is a plain JSON number (one input per feature).

    One numpy conversion for the whole table instead of one per input; None when any value
    is not a plain number, so the per-input path decides (and words any error).
    """
    rows = [[item[name] for name in names] for item in instances]
    try:
        table = np.asarray(rows)
    except (ValueError, TypeError, OverflowError):
        return None
    if table.ndim != 2 or table.dtype.kind not in "fi":
        return None
    if bool in set(map(type, itertools.chain.from_iterable(rows))):
        return None  # numpy reads true/false as numbers; TF Serving rejects them
    if table.dtype.kind != "f":  # rapidjson turns integers into doubles first
        table = table.astype(np.float64)
    # One conversion per dtype (not one per input), of the transposed table: each input is
    # then a contiguous row of the result, as a column of its own would be.
    dtypes = {specs[name].dtype for name in names}
    with np.errstate(over="ignore"):
        if len(dtypes) == 1:
            converted = np.ascontiguousarray(table.T, dtype=dtypes.pop())
            return dict(zip(names, converted, strict=True))
        columns: dict[str, np.ndarray] = {}
        for dtype in dtypes:
            picked = [j for j, name in enumerate(names) if specs[name].dtype == dtype]
            converted = np.ascontiguousarray(table.T[picked], dtype=dtype)
            columns.update(zip([names[j] for j in picked], converted, strict=True))
    return {name: columns[name] for name in names}


def _rows_of_objects(
    instances: list[Any], specs: dict[str, InputSpec], max_bytes: int | None
) -> dict[str, np.ndarray]:
    names = set(specs)
    # Every instance must have the first one's shapes, so these bound the arrays to be built.
    for key, value in instances[0].items():
        if key in specs:
            check_size(key, [len(instances), *dense_shape(value)], specs[key], max_bytes)
    if all(_is_element_object(item) and item.keys() == names for item in instances):
        floats = [n for n in sorted(names) if specs[n].tf_dtype_name in ("float", "double")]
        columns = (
            _scalar_float_columns(instances, floats, specs) if len(floats) > 1 else None
        ) or {}
        for name in names - columns.keys():
            array = fast_array([item[name] for item in instances], specs[name])
            if array is None:
                break
            columns[name] = array
        else:
            return columns
    slow: dict[str, _InstanceColumn] = {}
    for index, instance in enumerate(instances):
        if not _is_element_object(instance):
            raise invalid_argument(f"Expecting object but got list at item {index} of input list")
        for key, value in instance.items():
            try:
                if key not in specs:
                    raise invalid_argument(f"JSON object: does not have named input: {key}")
                slow.setdefault(key, _InstanceColumn(specs[key])).add(value)
            except ServingError as err:
                raise _wrap(index, err, key) from err
        if instance.keys() != names:
            raise invalid_argument(
                f"Failed to process element: {index} of 'instances' list. JSON object: "
                f"{json_value_to_string(instance)} keys must be equal to: {','.join(sorted(names))}"
            )
    return {name: column.array(len(instances)) for name, column in slow.items()}


def _decode_rows(
    doc: dict[str, Any], specs: dict[str, InputSpec], max_bytes: int | None
) -> dict[str, np.ndarray]:
    instances = doc["instances"]
    if type(instances) is not list:
        raise invalid_argument(
            f"JSON Value: {json_value_to_string(doc)} Expecting 'instances' to be an list/array"
        )
    if not instances:
        raise invalid_argument(
            f"JSON Value: {json_value_to_string(doc)} No values in 'instances' array"
        )
    if type(instances[0]) is not dict and len(specs) > 1:
        raise invalid_argument(
            "instances is a plain list, but expecting list of objects as multiple input "
            "tensors required as per tensorinfo_map"
        )
    if _is_element_object(instances[0]):
        return _rows_of_objects(instances, specs, max_bytes)
    name = min(specs)  # a b64 first element with several inputs lands here, as in TF Serving
    return _rows_of_values(instances, name, specs[name], max_bytes)


def _decode_columns(
    value: object, specs: dict[str, InputSpec], max_bytes: int | None
) -> dict[str, np.ndarray]:
    if type(value) is not dict or is_b64_object(value):
        if len(specs) > 1:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map"
            )
        ((name, spec),) = specs.items()
        return {name: dense_tensor(value, spec, name, max_bytes)}
    tensors = {}
    for name in sorted(specs):
        if name not in value:
            raise invalid_argument(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = dense_tensor(value[name], specs[name], name, max_bytes)
    return tensors


def decode_predict_request(
    doc: dict[str, Any], input_specs: dict[str, InputSpec], max_tensor_bytes: int | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Turn a parsed predict body into input tensors, as TF Serving's REST handler does.

    Returns the tensors by input name and the request format, `"row"` for `instances` or
    `"columnar"` for `inputs` (the response is written in the same format). With
    max_tensor_bytes, an input whose shape needs more bytes is refused before it is built.

    Raises:
        ServingError: INVALID_ARGUMENT with TF Serving's message for a malformed body, or
            UNIMPLEMENTED for a columnar value of a dtype JSON cannot express (half...), or
            INVALID_ARGUMENT naming an input that needs more than max_tensor_bytes.
    """
    signature_name_of(doc)
    if not input_specs:
        raise invalid_argument(
            f"Failed to get input map for signature: {doc.get('signature_name') or 'DEFAULT'}"
        )
    if "instances" in doc:
        if "inputs" in doc:
            raise invalid_argument(
                f"JSON Value: {json_value_to_string(doc)} Not formatted correctly expecting "
                "only one of 'inputs' or 'instances' keys to exist "
            )
        return _decode_rows(doc, input_specs, max_tensor_bytes), ROW
    if "inputs" in doc:
        return _decode_columns(doc["inputs"], input_specs, max_tensor_bytes), COLUMNAR
    raise invalid_argument("Missing 'inputs' or 'instances' key")
