"""Named output tensors -> a predict response body (`predictions` or `outputs`), compact JSON."""

from __future__ import annotations

import base64
import json
import math

import numpy as np

from server.errors import invalid_argument
from server.rest_json.floats import format_float_array
from server.rest_json.input_spec import tf_name_of

_BYTES_SUFFIX = "_bytes"
# json.dumps(text, ensure_ascii=False) builds an encoder on every call; this one is reused.
_json_string = json.JSONEncoder(ensure_ascii=False).encode


def _string_token(item: object, as_b64: bool) -> str:
    if isinstance(item, str):
        raw, text = None, item
    elif isinstance(item, bytes | bytearray | np.bytes_):
        raw, text = bytes(item), None
    else:
        raise invalid_argument("Failed to write JSON value for tensor type: string")
    if as_b64:
        raw = raw if raw is not None else text.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
        return '{"b64":"' + base64.b64encode(raw).decode("ascii") + '"}'
    if text is None:
        # TF Serving writes the raw bytes, which is invalid JSON when they are not UTF-8;
        # we substitute U+FFFD instead so the body always parses.
        text = raw.decode("utf-8", "replace")  # type: ignore[union-attr]
    return _json_string(text)


def tensor_tokens(array: np.ndarray, name: str) -> list[str]:
    """Every element of `array` (C order) as a JSON token.

    Raises:
        ServingError: INVALID_ARGUMENT `Failed to write JSON value for tensor type: <t>` for
            dtypes JSON cannot carry (half, complex...), when there is an element to write.
    """
    if array.size == 0:
        return []
    kind = array.dtype.kind
    if array.dtype in (np.float32, np.float64):
        return format_float_array(array)
    if kind in "iu":
        return list(map(str, array.ravel().tolist()))
    if kind == "b":
        words: list[str] = np.where(array.ravel(), "true", "false").tolist()
        return words
    if kind in "OSU":
        as_b64 = name.endswith(_BYTES_SUFFIX)
        return [_string_token(item, as_b64) for item in array.ravel().tolist()]
    raise invalid_argument(f"Failed to write JSON value for tensor type: {tf_name_of(array.dtype)}")


def sub_tensor_texts(tokens: list[str], shape: tuple[int, ...]) -> list[str]:
    """JSON texts of the `shape[0]` sub-tensors along the first axis, from flat tokens."""
    items = tokens
    for axis in range(len(shape) - 1, 0, -1):
        dim = shape[axis]
        groups = math.prod(shape[:axis])
        if dim == 0:
            items = ["[]"] * groups
        else:
            items = ["[" + ",".join(items[i : i + dim]) + "]" for i in range(0, groups * dim, dim)]
    return items


def tensor_text(array: np.ndarray, name: str) -> str:
    """The whole tensor as JSON: a scalar for rank 0, nested lists otherwise."""
    tokens = tensor_tokens(array, name)
    if array.ndim == 0:
        return tokens[0]
    return "[" + ",".join(sub_tensor_texts(tokens, array.shape)) + "]"


def _key(name: str) -> str:
    return _json_string(name) + ":"


def _row_body(outputs: dict[str, np.ndarray]) -> str:
    batch = -1
    for name, array in outputs.items():
        if array.ndim == 0:
            raise invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch >= 0 and array.shape[0] != batch:
            raise invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} "
                f"expecting: {batch}"
            )
        batch = array.shape[0]
    if len(outputs) == 1:
        ((name, array),) = outputs.items()
        return '{"predictions":' + tensor_text(array, name) + "}"
    rows = {
        _key(name): sub_tensor_texts(tensor_tokens(array, name), array.shape)
        for name, array in outputs.items()
    }
    items = [
        "{" + ",".join(key + texts[i] for key, texts in rows.items()) + "}" for i in range(batch)
    ]
    return '{"predictions":[' + ",".join(items) + "]}"


def _columnar_body(outputs: dict[str, np.ndarray]) -> str:
    if len(outputs) == 1:
        ((name, array),) = outputs.items()
        return '{"outputs":' + tensor_text(array, name) + "}"
    fields = ",".join(_key(name) + tensor_text(array, name) for name, array in outputs.items())
    return '{"outputs":{' + fields + "}}"


def encode_predict_response(outputs: dict[str, np.ndarray], fmt: str) -> bytes:
    """Write output tensors as TF Serving's predict response for the request's format.

    `fmt` is `"row"` (`{"predictions": ...}`) or `"columnar"` (`{"outputs": ...}`); keys
    keep the order of `outputs`. String outputs whose name ends in `_bytes` are written as
    `{"b64": ...}`.

    Raises:
        ServingError: INVALID_ARGUMENT for an empty map, a row response with a rank-0 output
            or inconsistent batch sizes, an output dtype JSON cannot carry, or an unknown
            format.
    """
    if not outputs:
        raise invalid_argument("Cannot convert empty tensor map to JSON")
    arrays = {name: np.asarray(value) for name, value in outputs.items()}
    if fmt == "row":
        body = _row_body(arrays)
    elif fmt == "columnar":
        body = _columnar_body(arrays)
    else:
        raise invalid_argument("Invalid request format")
    return body.encode("utf-8", "replace")
