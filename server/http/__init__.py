"""HTTP/1.1 transport of the REST port: parses requests and hands them to a handler."""

from __future__ import annotations

from server.http.connections import connection_cap
from server.http.messages import Handler, Request, Response, error_page, json_error
from server.http.server import HttpServer

__all__ = [
    "Handler",
    "HttpServer",
    "Request",
    "Response",
    "connection_cap",
    "error_page",
    "json_error",
]
