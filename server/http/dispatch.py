"""TF Serving's REST routing: exact-path handlers, then the /v1/ dispatcher, else libevent's 404."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from server.errors import INTERNAL_MESSAGE
from server.http.bodies import GzipBodyError, gunzip_body
from server.http.messages import (
    Handler,
    Request,
    Response,
    encode_response,
    error_page,
    json_error,
)
from server.http.parsing import RequestHead

logger = logging.getLogger(__name__)


def request_path(target: str) -> str:
    """The path part of a target: what libevent looks exact-path handlers up by."""
    return target.partition("?")[0].partition("#")[0]


class Dispatcher:
    """Turns one parsed request into the bytes of its response; safe to call from any thread."""

    __slots__ = ("_handler", "_exact", "_gzip_limit")

    def __init__(
        self, handler: Handler, exact_handlers: Mapping[str, Handler], gzip_limit_bytes: int
    ) -> None:
        self._handler = handler
        self._exact = dict(exact_handlers)
        self._gzip_limit = gzip_limit_bytes

    def route(self, target: str) -> Handler | None:
        """The handler for a target, or None when TF Serving would answer 404.

        Exact handlers are looked up by path alone (evhttp_server.cc: ``uri_handlers_.find``
        on the parsed path), yet they receive the full target, query included; the /v1/
        dispatcher matches ``(?i)/v1/.*`` against path plus query.
        """
        if self._exact:
            handler = self._exact.get(request_path(target))
            if handler is not None:
                return handler
        # Same as fullmatch("(?i)/v1/.*"): a parsed target never holds a line break.
        if target[:4].lower() == "/v1/":
            return self._handler
        return None

    def respond(self, head: RequestHead, body: bytes) -> tuple[bytes, bool]:
        """Route, call the handler and encode; returns the response bytes and keep-alive.

        Every failure becomes a response: a bad gzip body gives 400, a handler exception or
        an unencodable response gives 500 (and is logged).
        """
        keep_alive = head.keep_alive
        try:
            handler = self.route(head.target)
            if handler is None:
                # libevent's evhttp_send_error page, which also closes the connection.
                response = error_page(404)
                keep_alive = False
            else:
                response = self._call(handler, head, body)
            return (
                encode_response(response, keep_alive, head.http10, head.method == "HEAD"),
                keep_alive,
            )
        except Exception:
            logger.exception("HTTP handler failed for %s %s", head.method, head.target)
            # The traceback is in the log; the client gets no Python exception text.
            response = json_error(500, INTERNAL_MESSAGE)
            return encode_response(response, keep_alive, head.http10, False), keep_alive

    def _call(self, handler: Handler, head: RequestHead, body: bytes) -> Response:
        encoding = head.headers.get("content-encoding")
        # TF Serving looks for "gzip" anywhere in the header, case-sensitively, and only
        # when there is a body (evhttp_request.cc NeedUncompressGzipContent).
        if encoding is not None and "gzip" in encoding and body:
            try:
                body = gunzip_body(body, self._gzip_limit)
            except GzipBodyError as err:
                return json_error(400, str(err))
        return handler(Request(head.method, head.target, head.headers, body, head.keep_alive))
