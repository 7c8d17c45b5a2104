"""Encode TF Serving REST request bodies and decode its JSON responses, without TensorFlow."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from clients.examples import feature_values, make_example
from wire.tensors import numpy_dtype

# The key for a single output whose name a response leaves out (TF Serving omits it when a
# signature has one output) and the caller did not say.
__all__ = [
    "DEFAULT_OUTPUT_NAME",
    "decode_classify_response",
    "decode_error",
    "decode_predict_response",
    "decode_regress_response",
    "encode_examples",
    "encode_predict_request",
    "make_example",
]
DEFAULT_OUTPUT_NAME = "outputs"

# The numeric dtypes TF Serving's JSON parser converts (AddValueToTensor); it answers
# UNIMPLEMENTED for the rest: half, bfloat16, uint16, complex.
_JSON_DTYPES = frozenset(
    np.dtype(t)
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64)
    + (np.uint8, np.uint32, np.uint64, np.float32, np.float64)
)

# The Feature list each JSON-able Python value lands in (TF Serving's AddValueToFeature).


def _b64(value: bytes) -> dict[str, str]:
    return {"b64": base64.b64encode(value).decode("ascii")}


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _string_leaf(value: Any) -> Any:
    if isinstance(value, bytes):
        return _b64(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"a string tensor holds bytes or str, not {type(value).__name__}")


def _tensor_json(value: ArrayLike) -> Any:
    """One tensor as nested lists of JSON-ready leaves (a bare leaf for a scalar)."""
    if isinstance(value, bytes | str):
        return _string_leaf(value)
    array = np.asarray(value)
    if array.dtype.kind in "SU" and not isinstance(value, np.ndarray):
        array = np.array(value, dtype=object)  # fixed-width strings would drop trailing NULs
    if array.dtype.kind in "OSU":
        leaves = np.empty(array.size, dtype=object)
        leaves[:] = [_string_leaf(v) for v in array.ravel().tolist()]
        return leaves.reshape(array.shape).tolist()
    if array.dtype.newbyteorder("=") not in _JSON_DTYPES:
        raise ValueError(
            f"TF Serving's REST API cannot carry {array.dtype} tensors "
            "(it answers 501 UNIMPLEMENTED); send them over gRPC"
        )
    # float32 goes out as its exact double value; the server rounds it back unchanged.
    return array.tolist()


def _dumps(body: dict[str, Any]) -> bytes:
    # allow_nan writes NaN, Infinity and -Infinity, the tokens TF Serving's parser accepts.
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _rows(name: str, value: ArrayLike) -> list[Any]:
    rows = _tensor_json(value)
    if not isinstance(rows, list):
        raise ValueError(f"the row format needs a batch dimension, but {name} is a scalar")
    return rows


def _instances(inputs: Mapping[str, ArrayLike] | ArrayLike) -> list[Any]:
    if not isinstance(inputs, Mapping):
        return _rows("the input", inputs)
    columns = {name: _rows(f"input {name!r}", value) for name, value in inputs.items()}
    sizes = {name: len(rows) for name, rows in columns.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"the row format needs inputs sharing dimension 0, got sizes {sizes}")
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def encode_predict_request(
    inputs: Mapping[str, ArrayLike] | ArrayLike,
    signature_name: str | None = None,
    format: Literal["columnar", "row"] = "columnar",
) -> bytes:
    """A predict body, columnar {"inputs": ...} or row {"instances": [...]}.

    inputs maps input names to arrays (one object per instance in the row format), or is one
    unnamed array written as the bare value. Bytes become {"b64": ...}, str stays a JSON
    string, NaN and infinities become the bare tokens NaN, Infinity and -Infinity.

    Raises:
        ValueError: for an unknown format, a dtype the REST API cannot carry (float16,
            bfloat16, uint16, complex), a string tensor holding non-strings, or row-format
            inputs that are scalars or differ in dimension 0.
    """
    body: dict[str, Any] = {} if signature_name is None else {"signature_name": signature_name}
    if format == "row":
        body["instances"] = _instances(inputs)
    elif format == "columnar":
        body["inputs"] = (
            {name: _tensor_json(value) for name, value in inputs.items()}
            if isinstance(inputs, Mapping)
            else _tensor_json(inputs)
        )
    else:
        raise ValueError(f"format must be 'columnar' or 'row', not {format!r}")
    return _dumps(body)


def _document(body: bytes | str) -> dict[str, Any]:
    """A JSON response body as a dict; raw (non-UTF-8) strings survive as surrogate escapes.

    Raises:
        ValueError: if the body is not a JSON object.
    """
    text = body.decode("utf-8", "surrogateescape") if isinstance(body, bytes) else body
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"response body is not JSON: {err}") from err
    if not isinstance(document, dict):
        raise ValueError(f"response body is not a JSON object: {text[:100]!r}")
    return document


def _field(document: dict[str, Any], key: str) -> Any:
    if key in document:
        return document[key]
    if "error" in document:
        raise ValueError(f"response is an error: {document['error']}")
    raise ValueError(f"response has no {key!r} key: {str(document)[:100]}")


def _bytes_leaf(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if _is_b64(value):
        try:
            return base64.b64decode(value["b64"], validate=True)
        except binascii.Error as err:
            raise ValueError(f"invalid base64 in {value!r}: {err}") from err
    raise ValueError(f"expected a string or a b64 object in a string tensor, got {value!r}")


def _collect(value: Any, shape: list[int], depth: int, out: list[bytes]) -> None:
    if depth == len(shape):
        out.append(_bytes_leaf(value))
        return
    if not isinstance(value, list) or len(value) != shape[depth]:
        raise ValueError(
            f"JSON tensor is not dense: expected {shape[depth]} items at depth {depth}"
        )
    for item in value:
        _collect(item, shape, depth + 1, out)


def _first_leaf(value: Any) -> tuple[Any, list[int]]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            return None, shape
        value = value[0]
    return value, shape


def _array(value: Any, dtype: np.dtype | None) -> np.ndarray:
    """One JSON tensor as an array of dtype, or inferred: bool, int64, float32 or bytes."""
    leaf, shape = _first_leaf(value)
    if (dtype is None and isinstance(leaf, str | dict)) or (dtype and dtype.kind in "OSU"):
        leaves: list[bytes] = []
        _collect(value, shape, 0, leaves)
        array = np.empty(len(leaves), dtype=object)
        array[:] = leaves
        return array.reshape(shape)
    try:
        array = np.array(value, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"cannot read a {dtype or 'numeric'} tensor from JSON: {err}") from err
    if dtype is not None or array.dtype.kind in "biu":
        return array
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    raise ValueError(f"JSON tensor mixes value kinds: {str(value)[:100]}")


def _dtype_hint(dtype: DTypeLike | str) -> np.dtype:
    if isinstance(dtype, str) and dtype.startswith("DT_"):  # as model metadata names them
        return numpy_dtype(dtype)
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise ValueError(f"not a dtype: {dtype!r}") from err


def decode_predict_response(
    body: bytes | str,
    output_dtypes: Mapping[str, DTypeLike] | None = None,
    output_names: Iterable[str] | None = None,
) -> dict[str, np.ndarray]:
    """The output arrays of a {"predictions": ...} (row) or {"outputs": ...} (columnar) body.

    JSON loses dtypes: each output takes its dtype from output_dtypes (numpy dtypes or
    metadata names such as "DT_FLOAT"), else ints become int64,
    decimals float32 (hint float64 to keep doubles), booleans bool and strings (raw or b64)
    object arrays of bytes. A single unnamed output is keyed by the one name in output_names
    (or output_dtypes) when exactly one is known, else DEFAULT_OUTPUT_NAME. Row predictions
    are stacked along dimension 0; an empty batch gives empty float32 (or hinted) arrays.

    Raises:
        ValueError: if the body is not such a JSON object (an {"error": ...} body included),
            a dtype hint is unknown, or a tensor in the body is ragged, mixes kinds of
            values or does not convert to its hinted dtype.
    """
    hints = {name: _dtype_hint(dtype) for name, dtype in (output_dtypes or {}).items()}
    names = list(hints if output_names is None else output_names)
    single = names[0] if len(names) == 1 else DEFAULT_OUTPUT_NAME
    document = _document(body)
    if "predictions" not in document:
        outputs = _field(document, "outputs")
        if isinstance(outputs, dict) and not _is_b64(outputs):
            return {name: _array(value, hints.get(name)) for name, value in outputs.items()}
        return {single: _array(outputs, hints.get(single))}
    rows = document["predictions"]
    if not isinstance(rows, list):
        raise ValueError(f"'predictions' is not a list: {str(rows)[:100]}")
    if not rows:
        return {name: np.empty(0, hints.get(name, np.float32)) for name in names or [single]}
    if not isinstance(rows[0], dict) or _is_b64(rows[0]):
        return {single: _array(rows, hints.get(single))}
    try:
        return {name: _array([row[name] for row in rows], hints.get(name)) for name in rows[0]}
    except (KeyError, TypeError) as err:
        raise ValueError(f"prediction rows do not all hold the same outputs: {err!r}") from err


def decode_classify_response(body: bytes | str) -> list[list[tuple[str, float]]]:
    """The (label, score) pairs per example of a classify body {"results": [[[l, s], ...], ...]}.

    Raises:
        ValueError: if the body is not JSON with a well-formed "results" list.
    """
    results = _field(_document(body), "results")
    try:
        pairs = [[(label, float(score)) for label, score in classes] for classes in results]
    except (TypeError, ValueError) as err:
        raise ValueError(f"malformed classify results: {err}") from err
    if not all(isinstance(label, str) for classes in pairs for label, _ in classes):
        raise ValueError(f"classify labels must be strings: {str(results)[:100]}")
    return pairs


def decode_regress_response(body: bytes | str) -> list[float]:
    """The value per example of a regress body {"results": [v1, v2, ...]}.

    Raises:
        ValueError: if the body is not JSON with a "results" list of numbers.
    """
    try:
        return [float(value) for value in _field(_document(body), "results")]
    except (TypeError, ValueError) as err:
        raise ValueError(f"malformed regress results: {err}") from err


def decode_error(body: bytes | str) -> str | None:
    """The message of an {"error": "..."} body, or None for any other body."""
    try:
        error = _document(body).get("error")
    except ValueError:
        return None
    return error if isinstance(error, str) else None


def _features_json(features: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in features.items():
        kind, values = feature_values(name, value)
        if kind == "bytes_list":
            values = [_string_leaf(v) for v in values]
        scalar = not isinstance(value, list | tuple | np.ndarray)
        out[name] = values[0] if scalar else values
    return out


def encode_examples(
    examples: Iterable[Mapping[str, Any]],
    context: Mapping[str, Any] | None = None,
    signature_name: str | None = None,
) -> bytes:
    """A classify or regress body {"examples": [...]} (with "context" when given).

    Feature values are scalars or flat lists: bytes become {"b64": ...}, str a JSON string,
    ints and bools JSON integers and booleans (int64_list), floats JSON decimals (float_list);
    ints in a list that also holds floats are written as floats.

    Raises:
        ValueError: for a value that is not a number or string, a nested list, an int
            outside int64, or a feature that mixes strings and numbers.
    """
    body: dict[str, Any] = {} if signature_name is None else {"signature_name": signature_name}
    if context is not None:
        body["context"] = _features_json(context)
    body["examples"] = [_features_json(example) for example in examples]
    return _dumps(body)
