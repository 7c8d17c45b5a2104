"""The REST user's HTTP/1.1 client: one keep-alive connection, requests serialized before the run.

A load generator's own time per call is counted in every latency it reports. Locust's
FastHttpUser (geventhttpclient) spends about 0.5 ms of Python per call on loopback, as much as
the server's cheapest answer; this client writes a request prepared as bytes before the run and
reads the answer's status, framing (Content-Length or chunked) and body with the least work, so
its calls cost about what wrk's do (`python -m bench loadgen` measures both). It speaks only
what a load test needs: one request at a time per connection, http:// and https:// (TLS
without certificate checks, as Locust's FastHttpUser by default), no redirects, no cookies.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Answer", "HttpCallError", "KeepAliveConnection"]

MAX_HEAD = 64 * 1024
READ_SIZE = 256 * 1024


class HttpCallError(Exception):
    """No answer: the connection failed, timed out, closed early or sent malformed HTTP."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class _ClosedEarly(HttpCallError):
    """The server closed the connection before sending a byte of the answer."""


class KeepAliveConnection:
    """One keep-alive connection to `base_url` (scheme, host, port and an optional path prefix).

    Raises:
        ValueError: the URL is not http:// or https:// with a host.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a REST host must be http:// or https:// with a host: {base_url!r}")
        self._tls = parts.scheme == "https"
        self._address = (parts.hostname, parts.port or (443 if self._tls else 80))
        self._netloc = parts.netloc
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self.base_url = base_url

    def prepare(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> bytes:
        """The complete request for `call`, serialized once."""
        lines = [
            f"{method} {self._prefix}{path} HTTP/1.1",
            f"Host: {self._netloc}",
            "User-Agent: tfserving-bundle-loadtest",
            "Accept-Encoding: identity",
        ]
        if body is not None:
            lines += [f"Content-Type: {content_type or 'application/json'}"]
            lines += [f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")

    def call(self, request: bytes) -> Answer:
        """Send one prepared request and read its answer. A reused connection that the server
        had closed (an idle timeout) is reopened and the request sent again, once.

        Raises:
            HttpCallError: no complete answer.
        """
        reused = self._sock is not None
        try:
            return self._exchange(request)
        except _ClosedEarly:
            if not reused:
                raise
        return self._exchange(request)

    def _exchange(self, request: bytes) -> Answer:
        try:
            sock = self._sock or self._connect()
            sock.sendall(request)
            answer, keep_alive = self._read_answer(sock)
        except HttpCallError:
            self.close()
            raise
        except (OSError, ValueError) as err:  # ValueError: a malformed number in the head
            self.close()
            if isinstance(err, ConnectionResetError | BrokenPipeError):
                raise _ClosedEarly(f"{type(err).__name__}: {err}") from err
            raise HttpCallError(f"{type(err).__name__}: {err}") from err
        if not keep_alive:
            self.close()
        return answer

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self._address, timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock, server_hostname=self._address[0])
        self._sock = sock
        return sock

    def _read_answer(self, sock: socket.socket) -> tuple[Answer, bool]:
        buf = bytearray()
        while (end := buf.find(b"\r\n\r\n")) < 0:
            chunk = sock.recv(READ_SIZE)
            if not chunk:
                if buf:
                    raise HttpCallError("the server closed the connection mid-answer")
                raise _ClosedEarly("the server closed the connection before answering")
            buf += chunk
            if len(buf) > MAX_HEAD and buf.find(b"\r\n\r\n") < 0:
                raise HttpCallError(f"an answer head over {MAX_HEAD} bytes")
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise HttpCallError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(rest[:3])
        length, chunked, connection = -1, False, ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                connection = value.strip().lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        del buf[: end + 4]
        if status < 200 or status in (204, 304):
            return Answer(status, b""), keep_alive
        if chunked:
            return Answer(status, _read_chunked(sock, buf)), keep_alive
        if length < 0:  # delimited by the end of the connection
            while chunk := sock.recv(READ_SIZE):
                buf += chunk
            return Answer(status, bytes(buf)), False
        while len(buf) < length:
            chunk = sock.recv(max(READ_SIZE, length - len(buf)))
            if not chunk:
                raise HttpCallError(
                    f"the server closed the connection after {len(buf)} of {length} body bytes"
                )
            buf += chunk
        return Answer(status, bytes(buf[:length])), keep_alive

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _read_chunked(sock: socket.socket, buf: bytearray) -> bytes:
    body = bytearray()
    while True:
        while (line_end := buf.find(b"\r\n")) < 0:
            _fill(sock, buf)
        size = int(bytes(buf[:line_end]).split(b";", 1)[0], 16)
        del buf[: line_end + 2]
        if size == 0:
            while True:  # trailers, if any, then the blank line
                while (line_end := buf.find(b"\r\n")) < 0:
                    _fill(sock, buf)
                del buf[: line_end + 2]
                if line_end == 0:
                    return bytes(body)
        while len(buf) < size + 2:
            _fill(sock, buf)
        body += buf[:size]
        del buf[: size + 2]


def _fill(sock: socket.socket, buf: bytearray) -> None:
    chunk = sock.recv(READ_SIZE)
    if not chunk:
        raise HttpCallError("the server closed the connection inside a chunked body")
    buf += chunk
