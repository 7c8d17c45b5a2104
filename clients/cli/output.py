"""Results as text for people (aligned tables, long arrays shortened) or JSON for machines.

In both, string tensors show each element as text when it is UTF-8; other bytes are
{"b64": "..."} in JSON and <N bytes> in tables.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from clients.signatures import Signature, VersionStatus

__all__ = [
    "format_array",
    "format_classifications",
    "format_outputs",
    "format_regressions",
    "format_signatures",
    "format_statuses",
    "render_table",
]

MAX_ELEMENTS = 12  # arrays with more are summarised: their first and last few elements
EDGE_ELEMENTS = 3
MAX_CELL = 160


def _text(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _json_leaf(value: Any) -> Any:
    if isinstance(value, bytes):
        text = _text(value)
        return text if text is not None else {"b64": base64.b64encode(value).decode("ascii")}
    return value


def _table_leaf(value: Any) -> str:
    if isinstance(value, bytes):
        text = _text(value)
        return repr(text) if text is not None else f"<{len(value)} bytes>"
    return repr(value)


def _dtype_name(array: np.ndarray) -> str:
    return "string" if array.dtype.kind in "OSU" else array.dtype.name


def _json_value(array: np.ndarray) -> Any:
    if array.dtype.kind not in "OSU":
        return array.tolist()
    leaves = np.empty(array.size, dtype=object)
    leaves[:] = [_json_leaf(v) for v in array.ravel().tolist()]
    return leaves.reshape(array.shape).tolist()


def format_array(array: np.ndarray) -> str:
    """One line: all elements of a small array, the first and last few of a large one."""
    text = np.array2string(
        array,
        threshold=MAX_ELEMENTS,
        edgeitems=EDGE_ELEMENTS,
        separator=", ",
        precision=6,
        max_line_width=10**6,
        formatter={"all": _table_leaf} if array.dtype.kind in "OSU" else None,
    )
    text = re.sub(r"\s*\n\s*", " ", text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns under a header line; the last column is not padded."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    widths[-1] = 0
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def _dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False)  # one line: cheap for big tensors, jq-able


def format_outputs(outputs: Mapping[str, np.ndarray], as_json: bool) -> str:
    """Predict outputs: name, dtype, shape and values, by name."""
    named = sorted(outputs.items())
    if as_json:
        return _dumps(
            {
                "outputs": {
                    name: {
                        "dtype": _dtype_name(array),
                        "shape": list(array.shape),
                        "value": _json_value(array),
                    }
                    for name, array in named
                }
            }
        )
    rows = [
        (name, _dtype_name(array), list(array.shape), format_array(array)) for name, array in named
    ]
    return render_table(("output", "dtype", "shape", "values"), rows)


def format_classifications(results: Sequence[Sequence[tuple[str, float]]], as_json: bool) -> str:
    """Classify results: each example's (label, score) pairs, in the server's order."""
    if as_json:
        return _dumps(
            {
                "results": [
                    [{"label": label, "score": score} for label, score in pairs]
                    for pairs in results
                ]
            }
        )
    rows = [
        (index, label, f"{score:.6g}")
        for index, pairs in enumerate(results)
        for label, score in pairs
    ]
    return render_table(("example", "label", "score"), rows)


def format_regressions(results: Sequence[float], as_json: bool) -> str:
    """Regress results: one value per example."""
    if as_json:
        return _dumps({"results": list(results)})
    return render_table(("example", "value"), [(i, f"{v:.6g}") for i, v in enumerate(results)])


def _shape(shape: list[int] | None) -> str:
    return "unknown rank" if shape is None else str(shape)


def format_signatures(model: str, signatures: Mapping[str, Signature], as_json: bool) -> str:
    """Model metadata: each signature's method, inputs and outputs.

    The table leaves out TF's internal signatures (names starting with "__", such as
    __saved_model_init_op), which cannot be called; JSON keeps everything.
    """
    if as_json:
        return _dumps({"model": model, "signatures": signatures})
    rows = [
        (name, signature["method_name"], kind[:-1], tensor, info["dtype"], _shape(info["shape"]))
        for name, signature in signatures.items()
        if not name.startswith("__")
        for kind in ("inputs", "outputs")
        for tensor, info in sorted(signature[kind].items())
    ]
    return render_table(("signature", "method", "kind", "name", "dtype", "shape"), rows)


def format_statuses(model: str, statuses: Sequence[VersionStatus], as_json: bool) -> str:
    """Model status: each version's state, newest first."""
    if as_json:
        return _dumps({"model": model, "versions": [asdict(s) for s in statuses]})
    rows = [(s.version, s.state, s.error_code, s.error_message) for s in statuses]
    return render_table(("version", "state", "error_code", "error_message"), rows)
