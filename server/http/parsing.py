"""HTTP/1.1 request heads: request line, target and headers, and how the body is framed."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# TF Serving lets libevent accept only these (evhttp_server.cc, evhttp_set_allowed_methods);
# libevent answers anything else with 501.
ALLOWED_METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})

# What libevent's evhttp_uri_parse accepts in a path, query and fragment; TF Serving answers a
# target it cannot parse with a plain 400 (evhttp_server.cc DispatchEvRequest).
_URI_CHARS = r"A-Za-z0-9\-._~!$&'()*+,;=:@/%"
_TARGET = re.compile(rf"[{_URI_CHARS}]*(?:\?[{_URI_CHARS}?]*)?(?:#[{_URI_CHARS}?]*)?")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class HttpError(Exception):
    """A request refused before any handler sees it; the connection closes after the reply.

    With a message the reply is a JSON error body, otherwise libevent's HTML error page.
    """

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.message = message


def body_too_large(size: int, limit: int, at_least: bool = False) -> HttpError:
    """The 413 for a request body over max_body_bytes."""
    qualifier = "at least " if at_least else ""
    return HttpError(
        413, f"Request body of {qualifier}{size} bytes exceeds the limit of {limit} bytes"
    )


class RequestHead:
    """The request line and headers of one request, plus how its body is framed.

    Raises:
        HttpError: 400 for an unparseable Content-Length, 501 for a transfer coding other
            than chunked.
    """

    __slots__ = (
        "method",
        "target",
        "http10",
        "headers",
        "keep_alive",
        "content_length",
        "chunked",
        "expect_continue",
    )

    def __init__(self, method: str, target: str, http10: bool, headers: dict[str, str]) -> None:
        self.method = method
        self.target = target
        self.http10 = http10
        self.headers = headers
        connection = headers.get("connection")
        if connection is None:
            self.keep_alive = not http10
        else:
            value = connection.lower()
            if value == "keep-alive":
                self.keep_alive = True
            elif value == "close":
                self.keep_alive = False
            else:
                tokens = {token.strip() for token in value.split(",")}
                self.keep_alive = "close" not in tokens and (not http10 or "keep-alive" in tokens)
        expect = headers.get("expect")
        self.expect_continue = (
            not http10 and expect is not None and expect.lower() == "100-continue"
        )
        self.chunked = False
        self.content_length = 0
        encoding = headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise HttpError(501)
            self.chunked = True
        else:
            length = headers.get("content-length")
            if length is not None:
                self.content_length = _parse_content_length(length)


def _parse_content_length(text: str) -> int:
    # Latin-1 text: isdecimal() is true only for ASCII digits here.
    if text.isdecimal():
        return int(text)
    values = {value.strip() for value in text.split(",")}
    if len(values) == 1:
        value = values.pop()
        if value.isdecimal():
            return int(value)
    raise HttpError(400)


def normalize_target(target: str) -> str:
    """The path, query and fragment TF Serving's handlers see for a request-target.

    Raises:
        HttpError: 400 when libevent could not parse the target.
    """
    if target[:1] != "/" or target[1:2] == "/":
        # Absolute-form ("http://host/v1/...") or an authority ("//host/..."): keep what
        # libevent calls the path, query and fragment.
        try:
            parts = urlsplit(target)
        except ValueError as err:
            raise HttpError(400) from err
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        if parts.fragment:
            target += "#" + parts.fragment
    if _TARGET.fullmatch(target) is None or ("%" in target and _BAD_PERCENT.search(target)):
        raise HttpError(400)
    return target


def parse_head(data: bytes | bytearray) -> RequestHead:
    """Parse a request line and header lines (the block before the blank line).

    Raises:
        HttpError: 400 for a malformed line, version or target; 501 for a method libevent
            refuses or a transfer coding other than chunked.
    """
    request_line, _, block = data.decode("latin-1").partition("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise HttpError(400)
    method, target, version = parts
    if not target:
        raise HttpError(400)
    if version == "HTTP/1.1":
        http10 = False
    elif version == "HTTP/1.0":
        http10 = True
    else:
        raise HttpError(400)
    if method not in ALLOWED_METHODS:
        raise HttpError(501)
    target = normalize_target(target)
    headers = _parse_headers(block.split("\r\n")) if block else {}
    return RequestHead(method, target, http10, headers)


def _parse_headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        name = name.lower()
        # A repeat, folding, stray whitespace or a missing colon takes the careful path.
        if not colon or not name or name in headers or name.strip() != name:
            return _parse_headers_carefully(lines)
        headers[name] = value.strip(" \t")
    return headers


def _parse_headers_carefully(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    name = ""
    for line in lines:
        if line[:1] in (" ", "\t"):
            # Obsolete line folding continues the previous header, as libevent allows.
            if not name:
                raise HttpError(400)
            headers[name] += " " + line.strip(" \t")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name.strip() != name:
            raise HttpError(400)
        name = name.lower()
        value = value.strip(" \t")
        previous = headers.get(name)
        headers[name] = value if previous is None else f"{previous}, {value}"
    return headers
