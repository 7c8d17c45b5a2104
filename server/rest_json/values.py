"""Predicates and conversions on parsed JSON values shared by the predict and classify codecs."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TypeGuard

from server.errors import ServingError, invalid_argument

INT32_RANGE = (-(2**31), 2**31)
INT64_RANGE = (-(2**63), 2**63)
UINT32_RANGE = (0, 2**32)
UINT64_RANGE = (0, 2**64)

# rapidjson keeps integers in [-2**63, 2**64) as integers and turns longer ones into doubles.
_RAPIDJSON_INT_RANGE = (-(2**63), 2**64)

B64_KEY = "b64"

# absl::Base64Unescape: standard alphabet, ASCII whitespace skipped, '=' padding optional but
# only at the end and, when present, completing a multiple of four.
_B64_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_B64_SHAPE = re.compile(r"([A-Za-z0-9+/]*)(=*)")


def is_json_integer(value: object) -> bool:
    """True when rapidjson would hold `value` as an integer (a bool is not a number)."""
    return type(value) is int and _RAPIDJSON_INT_RANGE[0] <= value < _RAPIDJSON_INT_RANGE[1]


def is_json_number(value: object) -> TypeGuard[int | float]:
    """True for any JSON number: integers, decimals and the NaN/Infinity tokens."""
    return type(value) is int or type(value) is float


def in_range(value: object, bounds: tuple[int, int]) -> TypeGuard[int]:
    """True when `value` is a JSON integer inside the half-open `bounds`."""
    return type(value) is int and bounds[0] <= value < bounds[1]


def as_double(value: int | float) -> float:
    """The double rapidjson would store for a JSON number (huge integers overflow to inf)."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def is_b64_object(value: object) -> TypeGuard[dict[str, str]]:
    """True for `{"b64": "<string>"}`: exactly one key, `b64`, holding a string."""
    return type(value) is dict and len(value) == 1 and type(value.get(B64_KEY)) is str


def to_bytes(text: str) -> bytes:
    """The bytes rapidjson would hand over for a parsed JSON string.

    Bodies are decoded with 'surrogateescape', so invalid UTF-8 comes back byte for byte;
    lone surrogates from `\\uXXXX` escapes are written as rapidjson does (3-byte sequences).
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "surrogatepass")


def decode_b64_text(text: str) -> bytes:
    """Decode base64 the way absl::Base64Unescape accepts it.

    Raises:
        ServingError: INVALID_ARGUMENT `Unable to base64 decode`.
    """
    match = _B64_SHAPE.fullmatch(_B64_WHITESPACE.sub("", text))
    if match is None:
        raise invalid_argument("Unable to base64 decode")
    data, padding = match.groups()
    if len(data) % 4 == 1 or (padding and (len(data) + len(padding)) % 4 != 0):
        raise invalid_argument("Unable to base64 decode")
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError) as err:
        raise invalid_argument("Unable to base64 decode") from err


def status_string(error: ServingError) -> str:
    """absl::Status::ToString(): the code name, a colon, then the message."""
    return f"{error.code.name}: {error.message}"
