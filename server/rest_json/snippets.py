"""JSON values as TF Serving's error messages print them: rapidjson PrettyWriter layout, cut short."""

from __future__ import annotations

import contextlib
import decimal
import json
import math
from typing import Any

from server.rest_json.floats import format_float
from server.rest_json.values import as_double, is_json_integer

# Snippets longer than this many bytes are cut and end in "..." (the contract says "about
# 256 bytes"; where exactly TF Serving cuts is not specified, so the cut is ours).
SNIPPET_LIMIT = 256
_FLOAT_MAX = 3.4028234663852886e38
_INDENT = "    "


class _Full(Exception):
    """Raised inside the writer once the snippet is long enough to be cut."""


def json_type_name(value: object) -> str:
    """rapidjson's type names as TF Serving prints them: Null, False, True, Object, ..."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def _nested_double(value: float) -> str:
    """rapidjson Writer::Double: shortest digits laid out by its Prettify rules."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("-Infinity" if value < 0 else "Infinity")
    minus = "-" if math.copysign(1.0, value) < 0 else ""
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0")
    if not stripped:
        return minus + "0.0"
    k = int(exponent) + len(digits) - len(stripped)
    digits = stripped
    kk = len(digits) + k
    if k >= 0 and kk <= 21:
        body = digits + "0" * k + ".0"
    elif 0 < kk <= 21:
        body = digits[:kk] + "." + digits[kk:]
    elif -6 < kk <= 0:
        body = "0." + "0" * -kk + digits
    elif len(digits) == 1:
        body = f"{digits}e{kk - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return minus + body


def _scalar_text(value: object, top_level: bool) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if is_json_integer(value):
        return str(value)
    number = as_double(value)  # type: ignore[arg-type]
    if not top_level:
        return _nested_double(number)
    # JsonValueToString writes a top-level decimal through the float formatter: as a float
    # when it fits one (rapidjson's IsFloat), else as a double.
    in_float_range = -_FLOAT_MAX <= number <= _FLOAT_MAX
    return format_float(number, double=not in_float_range)


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > SNIPPET_LIMIT:
            raise _Full

    def value(self, value: object, depth: int) -> None:
        if isinstance(value, dict):
            self.container("{", "}", list(value.items()), depth, keyed=True)
        elif isinstance(value, list):
            self.container("[", "]", value, depth, keyed=False)
        else:
            self.put(_scalar_text(value, top_level=False))

    def container(self, open_: str, close: str, items: list[Any], depth: int, keyed: bool) -> None:
        self.put(open_)
        if not items:
            self.put(close)
            return
        inner = "\n" + _INDENT * (depth + 1)
        for index, item in enumerate(items):
            self.put(("," if index else "") + inner)
            if keyed:
                self.put(json.dumps(item[0], ensure_ascii=False) + ": ")
                item = item[1]
            self.value(item, depth + 1)
        self.put("\n" + _INDENT * depth + close)


def json_value_to_string(value: object) -> str:
    """Print a parsed JSON value for an error message, cut to about `SNIPPET_LIMIT` bytes."""
    if not isinstance(value, dict | list):
        text = _scalar_text(value, top_level=True)
    else:
        writer = _Writer()
        with contextlib.suppress(_Full):
            writer.value(value, 0)
        text = "".join(writer.parts)
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= SNIPPET_LIMIT:
        return text
    return raw[:SNIPPET_LIMIT].decode("utf-8", "ignore") + "..."
