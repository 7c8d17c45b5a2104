"""Client-side calls the benchmark times: a keep-alive HTTP/1.1 POST and a gRPC channel."""

from __future__ import annotations

import http.client

import grpc

from bench.processes import HOST


class HttpError(RuntimeError):
    """A benchmarked HTTP server answered with a status other than 200."""


class HttpPost:
    """One keep-alive HTTP/1.1 connection that posts the same body on every call."""

    def __init__(
        self,
        port: int,
        path: str,
        body: bytes,
        content_type: str = "application/json",
        timeout: float = 60.0,
    ) -> None:
        self._connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self._path = path
        self._body = body
        self._headers = {"Content-Type": content_type}

    def __call__(self) -> bytes:
        """Post the body and return the response body.

        Raises:
            HttpError: the status was not 200.
            OSError: the connection failed.
        """
        self._connection.request("POST", self._path, self._body, self._headers)
        response = self._connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise HttpError(f"POST {self._path}: HTTP {response.status}: {data[:300]!r}")
        return data

    def close(self) -> None:
        self._connection.close()


def http_get_ok(port: int, path: str, timeout: float = 2.0) -> bool:
    """Whether GET `path` on loopback `port` answers 200 (False while nothing listens)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def grpc_channel(port: int, ready_timeout: float = 30.0) -> grpc.Channel:
    """An insecure channel to loopback `port`, connected before it is returned.

    Raises:
        grpc.FutureTimeoutError: the channel did not connect in time.
    """
    channel = grpc.insecure_channel(f"{HOST}:{port}")
    grpc.channel_ready_future(channel).result(timeout=ready_timeout)
    return channel
