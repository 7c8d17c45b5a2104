"""A token-at-a-time JSON parser mirroring rapidjson's iterative parser, used off the fast path.

TF Serving parses with kParseIterativeFlag | kParseNanAndInfFlag | kParseStopWhenDoneFlag.
This parser accepts what that accepts (NaN/Inf tokens, any nesting depth, trailing garbage)
and fails where it fails, with rapidjson's reason text and position.
"""

from __future__ import annotations

import json.decoder
import math
import re
from typing import Any

INVALID_VALUE = "Invalid value."
_EMPTY = "The document is empty."
_MISS_NAME = "Missing a name for object member."
_MISS_COLON = "Missing a colon after a name of object member."
_MISS_COMMA_CURLY = "Missing a comma or '}' after an object member."
_MISS_COMMA_SQUARE = "Missing a comma or ']' after an array element."
_BAD_HEX = "Incorrect hex digit after \\u escape in string."
_BAD_SURROGATE = "The surrogate pair in string is invalid."
_BAD_ESCAPE = "Invalid escape character in string."
_MISS_QUOTE = "Missing a closing quotation mark in string."
_BAD_ENCODING = "Invalid encoding in string."
_TOO_BIG = "Number too big to be stored in double."
_MISS_FRACTION = "Miss fraction part in number."
_MISS_EXPONENT = "Miss exponent in number."

# Parser states, named after rapidjson's IterativeParsingState.
_START, _OBJECT_INITIAL, _MEMBER_KEY, _KEY_VALUE_DELIMITER, _MEMBER_VALUE = range(5)
_MEMBER_DELIMITER, _ARRAY_INITIAL, _ELEMENT, _ELEMENT_DELIMITER = range(5, 9)
# What rapidjson's HandleError reports for an unexpected token in each state.
_STATE_ERRORS = {
    _START: _EMPTY,
    _OBJECT_INITIAL: _MISS_NAME,
    _MEMBER_DELIMITER: _MISS_NAME,
    _MEMBER_KEY: _MISS_COLON,
    _MEMBER_VALUE: _MISS_COMMA_CURLY,
    _KEY_VALUE_DELIMITER: INVALID_VALUE,
    _ARRAY_INITIAL: INVALID_VALUE,
    _ELEMENT_DELIMITER: INVALID_VALUE,
    _ELEMENT: _MISS_COMMA_SQUARE,
}
_EXPECTS_VALUE = (_START, _ARRAY_INITIAL, _ELEMENT_DELIMITER, _KEY_VALUE_DELIMITER)

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_PLAIN_CHARS = re.compile(r'[^"\\\x00-\x1f]*')
_NUMBER_TAIL = re.compile(r"(?:0|[1-9][0-9]*)(\.[0-9]*)?([eE][-+]?[0-9]*)?")
_ESCAPES = frozenset('"\\/bfnrt')
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}


class JsonSyntaxError(Exception):
    """A rapidjson parse error: its English reason and the character position in the text."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at position {position}")
        self.reason = reason
        self.position = position


def parse_document(text: str, pos: int = 0) -> object:
    """Parse the first JSON value in `text` from `pos`, ignoring anything after it.

    Raises:
        JsonSyntaxError: where and why rapidjson's iterative parser would stop.
    """
    size = len(text)
    stack: list[Any] = []  # open containers; a dict's pending key sits in `keys`
    keys: list[str | None] = []
    state = _START
    while True:
        spaces = _WHITESPACE.match(text, pos)
        assert spaces is not None  # the pattern matches the empty string
        pos = spaces.end()
        char = text[pos] if pos < size else "\0"
        if char == "\0":
            raise JsonSyntaxError(_STATE_ERRORS[state], pos)
        if state in _EXPECTS_VALUE:
            if char == "]" and state == _ARRAY_INITIAL:
                value, pos = stack.pop(), pos + 1
                keys.pop()
            elif char in "[{":
                container: list[object] | dict[str, object] = [] if char == "[" else {}
                stack.append(container)
                keys.append(None)
                state = _ARRAY_INITIAL if char == "[" else _OBJECT_INITIAL
                pos += 1
                continue
            elif char in ",:]}":
                raise JsonSyntaxError(_STATE_ERRORS[state], pos)
            else:
                value, pos = _scalar(text, pos)
        elif state in (_OBJECT_INITIAL, _MEMBER_DELIMITER):
            if char == '"':
                keys[-1], pos = _string(text, pos)
                state = _MEMBER_KEY
                continue
            if char != "}" or state != _OBJECT_INITIAL:
                raise JsonSyntaxError(_STATE_ERRORS[state], pos)
            value, pos = stack.pop(), pos + 1
            keys.pop()
        elif state == _MEMBER_KEY:
            if char != ":":
                raise JsonSyntaxError(_MISS_COLON, pos)
            state, pos = _KEY_VALUE_DELIMITER, pos + 1
            continue
        else:  # _MEMBER_VALUE or _ELEMENT
            closer = "}" if state == _MEMBER_VALUE else "]"
            if char == ",":
                state = _MEMBER_DELIMITER if state == _MEMBER_VALUE else _ELEMENT_DELIMITER
                pos += 1
                continue
            if char != closer:
                raise JsonSyntaxError(_STATE_ERRORS[state], pos)
            value, pos = stack.pop(), pos + 1
            keys.pop()
        # A value is complete: hand it to the enclosing container, or finish.
        if not stack:
            return value
        parent = stack[-1]
        if type(parent) is list:
            parent.append(value)
            state = _ELEMENT
        else:
            parent[keys[-1]] = value
            state = _MEMBER_VALUE


def _scalar(text: str, pos: int) -> tuple[object, int]:
    char = text[pos]
    if char == '"':
        return _string(text, pos)
    if char in _LITERALS:
        word, value = _LITERALS[char]
        return value, _expect_word(text, pos, word)
    return _number(text, pos)


def _expect_word(text: str, pos: int, word: str) -> int:
    """Consume `word` at `pos`; rapidjson reports the first character that differs."""
    end = pos + len(word)
    if text.startswith(word, pos):
        return end
    matched = 0
    while (
        pos + matched < len(text) and matched < len(word) and text[pos + matched] == word[matched]
    ):
        matched += 1
    raise JsonSyntaxError(INVALID_VALUE, pos + matched)


def _number(text: str, start: int) -> tuple[object, int]:
    pos = start + 1 if text[start] == "-" else start
    char = text[pos] if pos < len(text) else "\0"
    if char == "N":
        return math.nan, _expect_word(text, pos, "NaN")
    if char == "I":
        pos = _expect_word(text, pos, "Inf")
        if text.startswith("i", pos):
            pos = _expect_word(text, pos - 3, "Infinity")
        return (-math.inf if text[start] == "-" else math.inf), pos
    match = _NUMBER_TAIL.match(text, pos)
    if match is None:
        raise JsonSyntaxError(INVALID_VALUE, pos)
    fraction, exponent = match.groups()
    if fraction == ".":
        raise JsonSyntaxError(_MISS_FRACTION, match.end(1))
    if exponent is not None and not exponent[-1].isdigit():
        raise JsonSyntaxError(_MISS_EXPONENT, match.end(2))
    token = text[start : match.end()]
    if fraction is None and exponent is None and len(token) <= 21:
        integer = int(token)
        if -(2**63) <= integer < 2**64:
            return integer, match.end()
    value = float(token)
    if math.isinf(value):
        raise JsonSyntaxError(_TOO_BIG, start)
    return value, match.end()


def _string(text: str, start: int) -> tuple[str, int]:
    """Validate a string the way rapidjson's ParseString does, then decode it."""
    size = len(text)
    pos = start + 1
    escaped = False
    while True:
        plain = _PLAIN_CHARS.match(text, pos)
        assert plain is not None  # the pattern matches the empty string
        pos = plain.end()
        char = text[pos] if pos < size else "\0"
        if char == '"':
            break
        if char != "\\":
            raise JsonSyntaxError(_MISS_QUOTE if char == "\0" else _BAD_ENCODING, pos)
        escaped = True
        kind = text[pos + 1] if pos + 1 < size else "\0"
        if kind in _ESCAPES:
            pos += 2
        elif kind == "u":
            pos = _unicode_escape(text, pos)
        else:
            raise JsonSyntaxError(_BAD_ESCAPE, pos)
    if not escaped:
        return text[start + 1 : pos], pos + 1
    return json.decoder.scanstring(text, start + 1, True)[0], pos + 1  # type: ignore[attr-defined]  # undocumented: not in typeshed


def _unicode_escape(text: str, backslash: int) -> int:
    """Check one `\\uXXXX` escape (and its low surrogate); return the position after it."""
    if not _HEX4.match(text, backslash + 2):
        raise JsonSyntaxError(_BAD_HEX, backslash)
    code = int(text[backslash + 2 : backslash + 6], 16)
    pos = backslash + 6
    if not 0xD800 <= code <= 0xDBFF:
        return pos
    if not text.startswith("\\u", pos):
        raise JsonSyntaxError(_BAD_SURROGATE, backslash)
    if not _HEX4.match(text, pos + 2):
        raise JsonSyntaxError(_BAD_HEX, backslash)
    if not 0xDC00 <= int(text[pos + 2 : pos + 6], 16) <= 0xDFFF:
        raise JsonSyntaxError(_BAD_SURROGATE, backslash)
    return pos + 6
