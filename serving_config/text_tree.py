"""Line numbers for the fields of a text proto, which protobuf's parser does not expose."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from google.protobuf import text_encoding

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<word>[A-Za-z0-9_.+\-]+)
    | (?P<punct>[{}<>:\[\],;/])
    """,
    re.VERBOSE,
)
_OPEN = {"{": "}", "<": ">"}

# What a check reports: (1-based line, message); check.py turns these into Problems.
Finding = tuple[int, str]


@dataclass(frozen=True)
class _Token:
    text: str
    line: int
    kind: str


@dataclass
class TextNode:
    """One field occurrence in a text proto: its name, 1-based line, scalar value or children."""

    name: str
    line: int
    value: str | None = None
    children: list[TextNode] = field(default_factory=list)

    def all(self, name: str) -> list[TextNode]:
        """Return the child occurrences of field `name`, in file order."""
        return [child for child in self.children if child.name == name]

    def first(self, name: str) -> TextNode | None:
        """Return the first child occurrence of field `name`, or None."""
        return next((child for child in self.children if child.name == name), None)

    def value_of(self, name: str) -> str | None:
        """Return the scalar value of child field `name`, or None."""
        child = self.first(name)
        return None if child is None else child.value


def line_of(node: TextNode | None, *path: str) -> int:
    """Return the line of the deepest field along `path` below node that the text contains.

    Falls back to node's own line, or 1 when there is no node.
    """
    line = node.line if node is not None else 1
    for name in path:
        node = node.first(name) if node is not None else None
        if node is None:
            break
        line = node.line
    return line


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    line = 1
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # Unknown character: skip it; the real parser has judged the text.
            pos += 1
            continue
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            tokens.append(_Token(match.group(), line, kind))
        line += match.group().count("\n")
        pos = match.end()
    return tokens


def _decode(token: _Token) -> str:
    if token.kind != "string":
        return token.text
    inner = token.text[1:-1]
    if "\\" not in inner:
        return inner
    return text_encoding.CUnescape(inner).decode("utf-8", errors="replace")


class _TreeReader:
    """Recursive-descent reader over the tokens of a text proto that already parsed."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> _Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _next(self) -> _Token:
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def fields(self, closer: str | None) -> list[TextNode]:
        nodes: list[TextNode] = []
        while (token := self._peek()) is not None:
            if token.text == closer:
                self._pos += 1
                break
            if token.text in (",", ";"):
                self._pos += 1
                continue
            nodes.extend(self._field())
        return nodes

    def _field(self) -> list[TextNode]:
        start = self._next()
        name = start.text
        if name == "[":  # Extension or Any type URL: [type.googleapis.com/pkg.Msg]
            parts = []
            while (part := self._next()).text != "]":
                parts.append(part.text)
            name = "[" + "".join(parts) + "]"
        token = self._peek()
        if token is not None and token.text == ":":
            self._pos += 1
        token = self._peek()
        if token is None:
            return [TextNode(name, start.line)]
        if token.text == "[":
            self._pos += 1
            return self._list(name)
        return [self._value(name, start.line)]

    def _list(self, name: str) -> list[TextNode]:
        nodes: list[TextNode] = []
        while (token := self._peek()) is not None and token.text != "]":
            if token.text == ",":
                self._pos += 1
                continue
            nodes.append(self._value(name, token.line))
        self._pos += 1
        return nodes

    def _value(self, name: str, line: int) -> TextNode:
        token = self._next()
        if token.text in _OPEN:
            return TextNode(name, line, children=self.fields(_OPEN[token.text]))
        value = _decode(token)
        # Adjacent string literals concatenate, as in C.
        while token.kind == "string" and (nxt := self._peek()) is not None and nxt.kind == "string":
            value += _decode(self._next())
        return TextNode(name, line, value=value)


def read_text_tree(text: str) -> TextNode:
    """Return the field tree of a text proto; the root node is named "" and sits on line 1.

    The text should already have parsed with text_format; on malformed input the tree is
    best-effort rather than an error.
    """
    reader = _TreeReader(_tokenize(text))
    try:
        children = reader.fields(None)
    except IndexError:  # Truncated input: keep what was read.
        children = []
    return TextNode("", 1, children=children)
