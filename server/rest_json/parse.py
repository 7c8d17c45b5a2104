"""Parse a REST body with TF Serving's JSON rules, and read its `signature_name`."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from server.errors import invalid_argument
from server.rest_json.iterative_parser import JsonSyntaxError, parse_document
from server.rest_json.snippets import json_value_to_string

logger = logging.getLogger(__name__)

DEFAULT_SIGNATURE = "serving_default"

_DECODER = json.JSONDecoder()
_LEADING = re.compile(r"\ufeff?[ \t\n\r]*")
# Bodies the stdlib would read differently from rapidjson go straight to the careful parser:
# three-digit exponents (rapidjson rejects numbers that overflow a double, the stdlib makes
# them infinite) and high-surrogate escapes (rapidjson rejects unpaired ones). Each pattern
# starts with a literal so that re can skip ahead quickly. Whatever the stdlib rejects falls
# back to the careful parser too.
_NEEDS_CAREFUL_PARSER = (
    re.compile(rb"e\+?[0-9]{3}"),
    re.compile(rb"E\+?[0-9]{3}"),
    re.compile(rb"\\u[dD][89abAB]"),
)


def _needs_careful_parser(body: bytes) -> bool:
    return any(pattern.search(body) for pattern in _NEEDS_CAREFUL_PARSER)


def _byte_offset(text: str, position: int) -> int:
    return len(text[:position].encode("utf-8", "surrogatepass"))


def parse_body(body: bytes) -> dict[str, Any]:
    """Parse a request body as TF Serving does and return its root object.

    Accepts NaN, Infinity, -Infinity, Inf and -Inf outside strings, ignores anything after
    the root value and keeps integers (`1`) apart from decimals (`1.0`). Invalid UTF-8 is
    not an error (rapidjson does not validate it); such bytes survive into strings.

    Raises:
        ServingError: INVALID_ARGUMENT `JSON Parse error: ...` or `JSON Value: ... Is not
            object`.
    """
    body = bytes(body)
    if not body:
        raise invalid_argument("JSON Parse error: The document is empty")
    text = body.decode("utf-8", "surrogateescape")
    leading = _LEADING.match(text)
    assert leading is not None  # the pattern matches the empty string
    start = leading.end()
    root: object = None
    parsed = False
    if not _needs_careful_parser(body):
        try:
            root = _DECODER.raw_decode(text, start)[0]
            parsed = True
        except (ValueError, RecursionError):
            # Syntax errors, NaN/Inf spellings the stdlib lacks, very deep nesting.
            logger.debug("body needs the careful JSON parser")
    if not parsed:
        try:
            root = parse_document(text, start)
        except JsonSyntaxError as err:
            offset = _byte_offset(text, err.position)
            raise invalid_argument(f"JSON Parse error: {err.reason} at offset: {offset}") from err
    if type(root) is not dict:
        raise invalid_argument(f"JSON Value: {json_value_to_string(root)} Is not object")
    return root


def signature_name_of(doc: dict[str, Any]) -> str:
    """The request's `signature_name`, `serving_default` when absent or empty.

    Raises:
        ServingError: INVALID_ARGUMENT when `signature_name` is not a string.
    """
    name = doc.get("signature_name")
    if name is None and "signature_name" not in doc:
        return DEFAULT_SIGNATURE
    if type(name) is not str:
        raise invalid_argument(
            f"JSON Value: {json_value_to_string(doc)} not formatted correctly. "
            "'signature_name' key must be a string value."
        )
    return name or DEFAULT_SIGNATURE
