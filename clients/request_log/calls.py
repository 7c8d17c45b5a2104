"""One client call's part in request logging: its request id, its timing, its sampled record."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from requestlog import REQUEST_ID_HEADER, REQUEST_ID_METADATA

if TYPE_CHECKING:
    from requestlog.records import Kind
    from requestlog.writer import MessagesBuilder, RequestLog

__all__ = ["REQUEST_ID_HEADER", "REQUEST_ID_METADATA", "CallRecorder"]


class CallRecorder:
    """Made when a call starts: decides whether it is sampled, and logs it if it succeeds.

    The request id is the caller's, else (for a sampled call) 128 random bits in hex, else None.
    Latency runs from here to log() or log_later(), which the client calls on success only.
    """

    __slots__ = ("_log", "_started", "request_id", "sampled", "timestamp", "transport")

    def __init__(
        self, request_log: RequestLog | None, transport: str, request_id: str | None = None
    ) -> None:
        if request_id is not None and (not isinstance(request_id, str) or not request_id):
            raise ValueError(f"request_id must be a non-empty str, got {request_id!r}")
        self._log = request_log
        self.transport = transport
        self.sampled = request_log is not None and request_log.should_sample()
        if request_id is None and self.sampled:
            request_id = os.urandom(16).hex()  # uuid's import would cost every client ~5 ms
        self.request_id = request_id
        self.timestamp = time.time()
        self._started = time.perf_counter()

    def grpc_metadata(self) -> tuple[tuple[str, str], ...] | None:
        """The gRPC metadata carrying the request id, if the call has one."""
        return None if self.request_id is None else ((REQUEST_ID_METADATA, self.request_id),)

    def http_headers(self) -> dict[str, str]:
        """The HTTP headers carrying the request id, if the call has one."""
        return {} if self.request_id is None else {REQUEST_ID_HEADER: self.request_id}

    def log(self, kind: Kind, request: Any, response: Any) -> None:
        """Hand a sampled, successful call's wire.protos messages to the log."""
        if self.sampled and self._log is not None:
            messages = (request, response)
            self.log_later(kind, lambda: messages)

    def log_later(self, kind: Kind, build: MessagesBuilder) -> None:
        """Hand a sampled, successful call to the log; build() makes its messages later, on
        the log's writer thread."""
        if self.sampled and self._log is not None:
            self._log.submit_later(
                kind,
                build,
                request_id=self.request_id or "",
                timestamp=self.timestamp,
                latency=time.perf_counter() - self._started,
                transport=self.transport,
            )
