"""Request and Response values, the stock error replies, and the bytes a response goes out as."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from http import HTTPStatus


class Request:
    """One parsed HTTP request, handed to a handler; treat it as read-only.

    A slots class rather than a frozen dataclass: one is built per request and the frozen
    dataclass ``__init__`` costs about four times as much.
    """

    __slots__ = ("method", "target", "headers", "body", "keep_alive")

    def __init__(
        self, method: str, target: str, headers: dict[str, str], body: bytes, keep_alive: bool
    ) -> None:
        self.method = method  # as sent, e.g. "POST"
        self.target = target  # path plus query, still percent-encoded, e.g. "/v1/models/m?x=1"
        self.headers = headers  # lower-cased names; repeated headers joined with ", "
        self.body = body  # already gunzipped when Content-Encoding says gzip
        self.keep_alive = keep_alive

    def __repr__(self) -> str:
        return f"Request({self.method} {self.target}, {len(self.body)} body bytes)"


class Response:
    """What a handler returns: status, body, optional Content-Type and extra header pairs."""

    __slots__ = ("status", "body", "content_type", "headers")

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers

    def __repr__(self) -> str:
        return f"Response({self.status}, {len(self.body)} body bytes, {self.content_type!r})"


Handler = Callable[[Request], Response]

JSON = "application/json"


def json_error(status: int, message: str) -> Response:
    """TF Serving's error body, ``{"error": "<message>"}``, as application/json."""
    return Response(status, json.dumps({"error": message}).encode(), JSON)


# libevent's evhttp_send_error(req, code, NULL) page, which TF Serving sends for non-/v1 paths.
_ERROR_PAGE = (
    "<HTML><HEAD>\n<TITLE>{code} {reason}</TITLE>\n</HEAD><BODY>\n"
    "<H1>{reason}</H1>\n</BODY></HTML>\n"
)

# libevent's fallback reason phrase when it has none for a code (e.g. 499).
_CLASS_PHRASES = {1: "Informational", 2: "Success", 3: "Redirection", 4: "Client Error"}


def reason_phrase(status: int) -> str:
    """The reason phrase for a status code, falling back to libevent's class names."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _CLASS_PHRASES.get(status // 100, "Server Error")


def error_page(status: int) -> Response:
    """libevent's HTML error page for a status, e.g. the 404 for paths outside /v1/."""
    reason = reason_phrase(status)
    page = _ERROR_PAGE.format(code=status, reason=reason)
    return Response(status, page.encode("latin-1"), "text/html")


_status_lines: dict[int, bytes] = {}


def _status_line(status: int) -> bytes:
    line = _status_lines.get(status)
    if line is None:
        if not isinstance(status, int) or not 100 <= status <= 999:
            raise ValueError(f"Invalid HTTP status {status!r}")
        line = f"HTTP/1.1 {status} {reason_phrase(status)}\r\n".encode("latin-1")
        _status_lines[status] = line
    return line


_content_type_lines: dict[str, bytes] = {}


def _content_type_line(content_type: str) -> bytes:
    line = _content_type_lines.get(content_type)
    if line is None:
        line = _header_line("Content-Type", content_type)
        if len(_content_type_lines) < 64:
            _content_type_lines[content_type] = line
    return line


def _header_line(name: str, value: str) -> bytes:
    line = f"{name}: {value}"
    if "\r" in line or "\n" in line:
        raise ValueError(f"Line break in response header {name!r}")
    return line.encode("latin-1") + b"\r\n"


def encode_response(response: Response, keep_alive: bool, http10: bool, head_only: bool) -> bytes:
    """The full wire form of a response, ready for a single transport.write.

    Raises:
        ValueError: the status is not a three-digit code or a header contains a line break.
        TypeError: the body is not bytes-like.
        UnicodeEncodeError: a header does not fit in latin-1.
    """
    body = response.body
    parts = [_status_line(response.status)]
    if response.content_type is not None:
        parts.append(_content_type_line(response.content_type))
    for name, value in response.headers:
        parts.append(_header_line(name, value))
    parts.append(b"Content-Length: %d\r\n" % len(body))
    if not keep_alive:
        parts.append(b"Connection: close\r\n\r\n")
    elif http10:
        parts.append(b"Connection: keep-alive\r\n\r\n")
    else:
        parts.append(b"\r\n")
    if not head_only:
        parts.append(body)
    return b"".join(parts)
