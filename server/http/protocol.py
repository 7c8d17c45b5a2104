"""One HTTP/1.1 connection as an asyncio.Protocol: parse, dispatch, answer in order."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor

from server.http.bodies import ChunkedDecoder
from server.http.connections import OpenConnections
from server.http.dispatch import Dispatcher
from server.http.messages import encode_response, error_page, json_error
from server.http.parsing import HttpError, RequestHead, body_too_large, parse_head

logger = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
# Stop reading a pipelining client while its buffered requests wait for the executor.
_PAUSE_BUFFER_BYTES = 1024 * 1024
# After refusing a request, read and drop what the client still sends for this long before
# closing: closing with unread input makes the kernel send RST, and the client may lose the reply.
LINGER_SECONDS = 2.0
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Largest body a lone connection's handler may run inline on the loop thread. Inline saves
# two thread hand-offs (about 0.13 ms of 0.19 ms for a small predict to a trivial handler on
# loopback), but nothing preempts it: a connection arriving meanwhile is not even accepted
# until it returns. JSON parsing grows faster than the body (a deeply nested array takes
# 2.6 ms at 4 KiB, 9 ms at 16 KiB, 2.5 s at 2 MiB), so only small bodies stay inline.
INLINE_BODY_LIMIT = 8 * 1024


class HttpConnection(asyncio.Protocol):
    """Serves the requests of one client connection, one at a time and in order."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        max_body_bytes: int,
        executor: Executor | None,
        connections: OpenConnections,
        inline_when_alone: bool = False,
    ) -> None:
        self._dispatcher = dispatcher
        self._max_body = max_body_bytes
        self._executor = executor
        self._connections = connections
        self._inline_when_alone = inline_when_alone
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._scan_from = 0
        self._head: RequestHead | None = None
        self._chunks: ChunkedDecoder | None = None
        self._continue_sent = False
        self._busy = False  # a response is being built in the executor
        self._write_paused = False
        self._read_paused = False
        self._peer_eof = False
        self._closing = False
        self._discarding = False
        self._discard_left: int | None = None
        self._linger: asyncio.TimerHandle | None = None
        # When the client last sent a byte, or a response went out (loop.time()).
        self.last_active = self._loop.time()
        self._head_started: float | None = None  # first byte of a request head still unread

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        if not self._connections.admit(self):
            self._refuse_over_cap()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._connections.remove(self)
        if self._linger is not None:
            self._linger.cancel()

    def data_received(self, data: bytes) -> None:
        self.last_active = self._loop.time()
        if self._discarding:
            self._discard(len(data))
            return
        self._buf += data
        if not self._busy and not self._write_paused:
            self._process()
        elif len(self._buf) > _PAUSE_BUFFER_BYTES and not self._read_paused:
            self._read_paused = True
            assert self._transport is not None  # connection_made ran first
            self._transport.pause_reading()

    def eof_received(self) -> bool | None:
        self._peer_eof = True
        # Stay half-open while a response is still owed; _process closes afterwards.
        return True if (self._busy or self._write_paused) and not self._discarding else None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self.last_active = self._loop.time()
        if not self._busy:
            self._process()

    def close(self) -> None:
        """Close the connection now, dropping any response still being built."""
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection at once, unsent output included (server shutdown)."""
        self._closing = True
        if self._transport is not None:
            self._transport.abort()

    # Idle timeout and connection cap (see OpenConnections)

    @property
    def evictable(self) -> bool:
        """Whether closing it loses no request being answered: nothing is in the handler."""
        return not self._busy or self._closing

    def evict(self) -> None:
        """Close it to make room for a new connection at the cap."""
        logger.debug("Closing the longest-silent HTTP connection to make room for a new one")
        self._shut()

    def expire_if_idle(self, now: float, timeout: float) -> None:
        """Close it if its client has sent nothing for ``timeout`` seconds, or has taken that
        long over one request head; a request being answered is never idle."""
        if self._busy or self._closing:
            return
        head_started = self._head_started
        if now - self.last_active < timeout and (
            head_started is None or now - head_started < timeout
        ):
            return
        assert self._transport is not None  # connection_made ran first
        if self._buf or self._head is not None:
            # Mid-request: say why, as RFC 9110 asks of a server that stops waiting.
            logger.debug("Closing an HTTP connection stalled mid-request for %.0f s", timeout)
            self._transport.write(encode_response(error_page(408), False, False, False))
        self._shut()

    def _shut(self) -> None:
        self._closing = True
        assert self._transport is not None  # connection_made ran first
        if self._transport.get_write_buffer_size():
            self._transport.abort()  # the client stopped reading: close() would wait forever
        else:
            self._transport.close()

    def _refuse_over_cap(self) -> None:
        limit = self._connections.max_connections
        logger.warning("Refusing an HTTP connection: all %s open connections are busy", limit)
        self._closing = True
        assert self._transport is not None  # connection_made ran first
        message = f"The server has {limit} connections open, its limit; retry later"
        self._transport.write(encode_response(json_error(503, message), False, False, False))
        self._transport.close()

    # Request handling

    def _process(self) -> None:
        buf = self._buf
        try:
            while not (self._busy or self._write_paused or self._closing):
                head = self._head
                if head is None:
                    if not buf:
                        break
                    head = self._read_head(buf)
                    if head is None:
                        if buf and self._head_started is None:
                            self._head_started = self._loop.time()
                        break
                    self._head_started = None
                body = self._read_body(head, buf)
                if body is None:
                    break
                self._head = None
                self._chunks = None
                self._continue_sent = False
                self._dispatch(head, body)
        except HttpError as err:
            self._refuse(err)
            return
        if self._peer_eof and not (self._busy or self._closing):
            self.close()

    def _read_head(self, buf: bytearray) -> RequestHead | None:
        while buf.startswith(b"\r\n"):  # stray line breaks between requests
            del buf[:2]
        end = buf.find(b"\r\n\r\n", self._scan_from)
        if end < 0:
            if len(buf) > MAX_HEAD_BYTES:
                raise HttpError(431)
            self._scan_from = max(0, len(buf) - 3)
            return None
        if end > MAX_HEAD_BYTES:
            raise HttpError(431)
        head = parse_head(buf[:end])
        del buf[: end + 4]
        self._scan_from = 0
        if head.content_length > self._max_body:
            # The body is still on its way (or not sent yet): drop it rather than buffer it.
            self._discard_left = head.content_length - len(buf)
            raise body_too_large(head.content_length, self._max_body)
        if head.chunked:
            self._chunks = ChunkedDecoder(self._max_body)
        self._head = head
        return head

    def _read_body(self, head: RequestHead, buf: bytearray) -> bytes | None:
        if self._chunks is not None:
            body = self._chunks.feed(buf)
        else:
            size = head.content_length
            if not size:
                return b""
            if len(buf) == size:
                body = bytes(buf)
                buf.clear()
            elif len(buf) > size:
                body = bytes(buf[:size])
                del buf[:size]
            else:
                body = None
        if body is None and head.expect_continue and not self._continue_sent:
            self._continue_sent = True
            assert self._transport is not None  # connection_made ran first
            self._transport.write(_CONTINUE)
        return body

    def _dispatch(self, head: RequestHead, body: bytes) -> None:
        # A lone client gains nothing from the executor but pays two thread hand-offs per
        # request; with several connections open, the executor lets them run side by side.
        # Only cheap requests run inline: a small body, not compressed (gzip may hide a large
        # one), so a client connecting meanwhile waits at most one such request.
        inline_alone = (
            self._inline_when_alone
            and len(self._connections) == 1
            and len(body) <= INLINE_BODY_LIMIT
            and "content-encoding" not in head.headers
        )
        if self._executor is None or inline_alone:
            self._send(*self._dispatcher.respond(head, body))
            return
        try:
            future = self._loop.run_in_executor(
                self._executor, self._dispatcher.respond, head, body
            )
        except RuntimeError:  # executor already shut down
            self._refuse(HttpError(503, "The server is shutting down"))
            return
        self._busy = True
        future.add_done_callback(self._on_response)

    def _on_response(self, future: asyncio.Future[tuple[bytes, bool]]) -> None:
        self._busy = False
        if self._closing:
            return
        try:
            data, keep_alive = future.result()
        except BaseException:  # respond() never raises; a cancelled executor job might
            logger.exception("HTTP response could not be produced")
            self.close()
            return
        self._send(data, keep_alive)
        if self._read_paused and not self._closing:
            self._read_paused = False
            assert self._transport is not None  # connection_made ran first
            self._transport.resume_reading()
        self._process()

    def _send(self, data: bytes, keep_alive: bool) -> None:
        assert self._transport is not None  # connection_made ran first
        self._transport.write(data)
        self.last_active = self._loop.time()
        if not keep_alive:
            self.close()

    def _refuse(self, err: HttpError) -> None:
        """Answer a request refused by the transport itself, then close after lingering."""
        logger.debug("Refusing HTTP request: %s", err)
        response = (
            error_page(err.status) if err.message is None else json_error(err.status, err.message)
        )
        self._closing = True
        self._buf.clear()
        assert self._transport is not None  # connection_made ran first
        self._transport.write(encode_response(response, False, False, False))
        if self._peer_eof or (self._discard_left is not None and self._discard_left <= 0):
            self._transport.close()
            return
        self._discarding = True
        if self._transport.can_write_eof():
            self._transport.write_eof()
        if self._read_paused:
            self._read_paused = False
            self._transport.resume_reading()
        self._linger = self._loop.call_later(LINGER_SECONDS, self._transport.close)

    def _discard(self, size: int) -> None:
        if self._discard_left is not None:
            self._discard_left -= size
            if self._discard_left <= 0:
                assert self._transport is not None  # connection_made ran first
                self._transport.close()
