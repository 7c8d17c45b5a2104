"""The HTTP/1.1 transport over real loopback sockets: routing, framing, limits and failures."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import BinaryIO, NamedTuple

import pytest
import requests

from server.errors import INTERNAL_MESSAGE
from server.http import HttpServer, Request, Response

METRICS = "/monitoring/prometheus/metrics"
NOT_FOUND_PAGE = (
    b"<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n"
    b"</BODY></HTML>\n"
)
BAD_REQUEST_PAGE = (
    b"<HTML><HEAD>\n<TITLE>400 Bad Request</TITLE>\n</HEAD><BODY>\n<H1>Bad Request</H1>\n"
    b"</BODY></HTML>\n"
)


def echo(request: Request) -> Response:
    """Describes the request it got; /v1/boom raises, /v1/sleep/<s> sleeps first."""
    if request.target == "/v1/boom":
        raise RuntimeError("boom")
    if request.target.startswith("/v1/sleep/"):
        time.sleep(float(request.target.rsplit("/", 1)[1]))
    payload = {
        "method": request.method,
        "target": request.target,
        "headers": request.headers,
        "body": request.body.decode("latin-1"),
        "keep_alive": request.keep_alive,
        "thread": threading.current_thread().name,
    }
    return Response(200, json.dumps(payload).encode(), "application/json", [("X-Echo", "yes")])


def metrics_page(request: Request) -> Response:
    return Response(200, b"# TYPE :x counter\n" + request.target.encode(), "text/plain")


@pytest.fixture
def serve() -> Iterator[Callable[..., HttpServer]]:
    """Starts echo servers on free loopback ports and stops them after the test."""
    started: list[HttpServer] = []

    def start(**options: object) -> HttpServer:
        options.setdefault("exact_handlers", {METRICS: metrics_page})
        server = HttpServer(echo, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
        server.run_in_thread()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(serve: Callable[..., HttpServer]) -> HttpServer:
    return serve()


def url(server: HttpServer, target: str) -> str:
    return f"http://127.0.0.1:{server.port}{target}"


class RawResponse(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


@contextmanager
def connect(server: HttpServer) -> Iterator[tuple[socket.socket, BinaryIO]]:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    stream = sock.makefile("rb")
    try:
        yield sock, stream
    finally:
        stream.close()
        sock.close()


def read_response(stream: BinaryIO) -> RawResponse:
    status_line = stream.readline()
    assert status_line, "the server closed the connection without a response"
    status = int(status_line.split(b" ")[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(status, headers, stream.read(int(headers.get("content-length", "0"))))


def raw_request(method: str, target: str, body: bytes = b"", *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def echoed(response: RawResponse | requests.Response) -> dict:
    body = response.body if isinstance(response, RawResponse) else response.content
    return json.loads(body)


# Routing


@pytest.mark.parametrize(
    ("method", "target", "route"),
    [
        pytest.param("POST", "/v1/models/m:predict", "handler", id="v1-to-handler"),
        pytest.param("GET", "/V1/Models/m", "handler", id="v1-case-insensitive"),
        pytest.param("GET", "/v1/models/m?x=1&y=%2F", "handler", id="v1-query-kept-encoded"),
        pytest.param("GET", "/v2/models/m", "404", id="v2-is-404"),
        pytest.param("GET", "/v1", "404", id="v1-without-slash-is-404"),
        pytest.param("POST", "/", "404", id="root-is-404"),
        pytest.param("GET", METRICS, "exact", id="exact-path"),
        pytest.param("POST", METRICS + "?q=1", "exact", id="exact-path-with-query"),
        pytest.param("GET", METRICS + "/", "404", id="exact-path-plus-slash-is-404"),
    ],
)
def test_routing_follows_tf_serving(server: HttpServer, method: str, target: str, route: str):
    response = requests.request(method, url(server, target), data=b"{}", timeout=5)
    if route == "handler":
        assert response.status_code == 200
        assert echoed(response)["target"] == target
        assert echoed(response)["method"] == method
    elif route == "exact":
        # Exact handlers are looked up by path alone but see the full target, as in libevent.
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain"
        assert response.content == b"# TYPE :x counter\n" + target.encode()
    else:
        assert response.status_code == 404
        assert response.content == NOT_FOUND_PAGE
        assert response.headers["Content-Type"] == "text/html"
        assert response.headers["Connection"] == "close"


def test_exact_handler_wins_over_the_v1_dispatcher(serve: Callable[..., HttpServer]):
    server = serve(exact_handlers={"/v1/models/special": metrics_page})
    assert requests.get(url(server, "/v1/models/special"), timeout=5).content.startswith(b"# TYPE")
    assert echoed(requests.get(url(server, "/v1/models/other"), timeout=5))["target"] == (
        "/v1/models/other"
    )


def test_target_and_headers_reach_the_handler_as_sent(server: HttpServer):
    with connect(server) as (sock, stream):
        sock.sendall(
            b"GET /v1/models/a%20b:predict?q=%2f&r HTTP/1.1\r\nX-Twice: one\r\n"
            b"x-twice: two\r\nX-Folded: first\r\n  second\r\nX-Pad:   padded  \r\n\r\n"
        )
        response = read_response(stream)
    assert response.status == 200
    assert response.headers["x-echo"] == "yes"
    assert echoed(response)["target"] == "/v1/models/a%20b:predict?q=%2f&r"
    headers = echoed(response)["headers"]
    assert headers["x-twice"] == "one, two"
    assert headers["x-folded"] == "first second"
    assert headers["x-pad"] == "padded"


# Connection handling


def test_keep_alive_serves_several_requests_on_one_connection(server: HttpServer):
    with connect(server) as (sock, stream):
        for index in range(5):
            sock.sendall(raw_request("POST", "/v1/echo", f"body {index}".encode()))
            response = read_response(stream)
            assert response.status == 200
            assert "connection" not in response.headers
            assert echoed(response)["body"] == f"body {index}"
            assert echoed(response)["keep_alive"] is True


def test_connection_close_is_honoured(server: HttpServer):
    with connect(server) as (sock, stream):
        sock.sendall(raw_request("GET", "/v1/a", b"", "Connection: close"))
        response = read_response(stream)
        assert response.headers["connection"] == "close"
        assert echoed(response)["keep_alive"] is False
        assert stream.read() == b""


@pytest.mark.parametrize(
    ("connection_header", "keep_alive"),
    [
        pytest.param(None, False, id="http10-closes-by-default"),
        pytest.param("Keep-Alive", True, id="http10-keep-alive-on-request"),
    ],
)
def test_http10_keep_alive(server: HttpServer, connection_header: str | None, keep_alive: bool):
    head = "GET /v1/a HTTP/1.0\r\n"
    if connection_header:
        head += f"Connection: {connection_header}\r\n"
    with connect(server) as (sock, stream):
        sock.sendall(head.encode() + b"\r\n")
        response = read_response(stream)
        assert response.status == 200
        assert response.headers["connection"] == ("keep-alive" if keep_alive else "close")
        if keep_alive:
            sock.sendall(head.encode() + b"\r\n")
            assert read_response(stream).status == 200
        else:
            assert stream.read() == b""


@pytest.mark.parametrize("use_executor", [False, True], ids=["inline", "executor"])
def test_pipelined_requests_are_answered_in_order(
    serve: Callable[..., HttpServer], use_executor: bool
):
    with ThreadPoolExecutor(4) as executor:
        server = serve(executor=executor if use_executor else None)
        targets = ["/v1/sleep/0.2", "/v1/sleep/0", "/v1/third", "/v1/fourth"]
        with connect(server) as (sock, stream):
            sock.sendall(b"".join(raw_request("GET", target) for target in targets))
            answered = [echoed(read_response(stream))["target"] for _ in targets]
        server.stop()
    assert answered == targets


def test_head_response_has_length_but_no_body(server: HttpServer):
    with connect(server) as (sock, stream):
        sock.sendall(raw_request("HEAD", "/v1/a"))
        status_line = stream.readline()
        headers = []
        while (line := stream.readline()) != b"\r\n":
            headers.append(line.lower())
        assert status_line.startswith(b"HTTP/1.1 200")
        assert any(
            line.startswith(b"content-length: ") and line != b"content-length: 0\r\n"
            for line in headers
        )
        # No body was sent: the next bytes are the answer to the next request.
        sock.sendall(raw_request("GET", "/v1/after-head"))
        assert echoed(read_response(stream))["target"] == "/v1/after-head"


# Request bodies


def test_chunked_body_arriving_in_pieces(server: HttpServer):
    wire = (
        b"POST /v1/chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: ignored\r\n\r\n"
    )
    with connect(server) as (sock, stream):
        for start in range(0, len(wire), 7):
            sock.sendall(wire[start : start + 7])
            time.sleep(0.002)
        response = read_response(stream)
    assert response.status == 200
    assert echoed(response)["body"] == "hello world"


def test_chunked_body_from_requests(server: HttpServer):
    parts = [b"x" * 1000, b"y" * 3000, b"z"]
    response = requests.post(url(server, "/v1/stream"), data=iter(parts), timeout=5)
    assert response.status_code == 200
    assert echoed(response)["body"] == b"".join(parts).decode()


def test_gzip_body_is_decompressed(server: HttpServer):
    payload = json.dumps({"instances": [[1.5, 2.5]] * 200}).encode()
    response = requests.post(
        url(server, "/v1/models/m:predict"),
        data=gzip.compress(payload),
        headers={"Content-Encoding": "gzip"},
        timeout=5,
    )
    assert response.status_code == 200
    assert echoed(response)["body"] == payload.decode()


@pytest.mark.parametrize(
    ("size", "accepted"),
    [
        pytest.param(64 * 1024, True, id="at-limit"),
        pytest.param(64 * 1024 + 1, False, id="one-over"),
        pytest.param(8 * 1024 * 1024, False, id="gzip-bomb"),
    ],
)
def test_gzip_limit_applies_to_the_decompressed_size(
    serve: Callable[..., HttpServer], size: int, accepted: bool
):
    server = serve(gzip_limit_bytes=64 * 1024)
    compressed = gzip.compress(b"0" * size, compresslevel=9)
    response = requests.post(
        url(server, "/v1/m"), data=compressed, headers={"Content-Encoding": "gzip"}, timeout=5
    )
    if accepted:
        assert response.status_code == 200
        assert len(echoed(response)["body"]) == size
    else:
        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {
            "error": "Decompressed request body exceeds the limit of 65536 bytes"
        }
        # The body was read in full, so the connection may stay open.
        assert "Connection" not in response.headers


def test_corrupt_gzip_body_is_400(server: HttpServer):
    response = requests.post(
        url(server, "/v1/m"), data=b"not gzip", headers={"Content-Encoding": "gzip"}, timeout=5
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Failed to decompress the gzip request body")


def test_expect_100_continue(server: HttpServer):
    with connect(server) as (sock, stream):
        sock.sendall(raw_request("POST", "/v1/m", b"", "Expect: 100-continue", "Content-Length: 5"))
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.readline() == b"\r\n"
        sock.sendall(b"hello")
        response = read_response(stream)
    assert response.status == 200
    assert echoed(response)["body"] == "hello"


# Limits and malformed input


def test_body_at_the_limit_is_accepted(serve: Callable[..., HttpServer]):
    server = serve(max_body_bytes=1024)
    response = requests.post(url(server, "/v1/m"), data=b"a" * 1024, timeout=5)
    assert response.status_code == 200


def test_oversized_body_is_413_without_reading_it(serve: Callable[..., HttpServer]):
    server = serve(max_body_bytes=1024)
    with connect(server) as (sock, stream):
        # The body is never sent: the reply must not wait for a gigabyte.
        sock.sendall(raw_request("POST", "/v1/m", b"", "Content-Length: 1000000000"))
        response = read_response(stream)
    assert response.status == 413
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    assert json.loads(response.body) == {
        "error": "Request body of 1000000000 bytes exceeds the limit of 1024 bytes"
    }
    assert requests.get(url(server, "/v1/next"), timeout=5).status_code == 200


def test_oversized_body_sent_in_full_still_gets_its_413(serve: Callable[..., HttpServer]):
    server = serve(max_body_bytes=1024)
    body = b"b" * 4 * 1024 * 1024  # more than the socket buffers hold
    with connect(server) as (sock, stream):
        # Fails with a reset if the server closes without draining what the client still sends.
        sock.sendall(raw_request("POST", "/v1/m", body))
        response = read_response(stream)
    assert response.status == 413
    assert json.loads(response.body) == {
        "error": f"Request body of {len(body)} bytes exceeds the limit of 1024 bytes"
    }


def test_oversized_chunked_body_is_413(serve: Callable[..., HttpServer]):
    server = serve(max_body_bytes=1024)
    response = requests.post(url(server, "/v1/m"), data=iter([b"c" * 512] * 8), timeout=5)
    assert response.status_code == 413
    assert response.json() == {
        "error": "Request body of at least 1536 bytes exceeds the limit of 1024 bytes"
    }
    assert requests.get(url(server, "/v1/next"), timeout=5).status_code == 200


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(b"GARBAGE\r\n\r\n", id="no-spaces"),
        pytest.param(b"GET /v1/a b HTTP/1.1\r\n\r\n", id="space-in-target"),
        pytest.param(b"GET /v1/a HTTP/2.0\r\n\r\n", id="unknown-version"),
        pytest.param(b"GET /v1/<a> HTTP/1.1\r\n\r\n", id="target-char-libevent-refuses"),
        pytest.param(b"GET /v1/%zz HTTP/1.1\r\n\r\n", id="bad-percent-escape"),
        pytest.param(b"GET /v1/a HTTP/1.1\r\nNoColon\r\n\r\n", id="header-without-colon"),
        pytest.param(b"GET /v1/a HTTP/1.1\r\nName : v\r\n\r\n", id="space-before-colon"),
        pytest.param(b"GET /v1/a HTTP/1.1\r\n folded: v\r\n\r\n", id="fold-without-header"),
        pytest.param(b"POST /v1/a HTTP/1.1\r\nContent-Length: ten\r\n\r\n", id="bad-length"),
        pytest.param(b"POST /v1/a HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", id="two-lengths"),
        pytest.param(
            b"POST /v1/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk-size"
        ),
        pytest.param(
            b"POST /v1/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            id="chunk-longer-than-its-size",
        ),
    ],
)
def test_malformed_request_is_400_and_closes(server: HttpServer, wire: bytes):
    with connect(server) as (sock, stream):
        sock.sendall(wire)
        response = read_response(stream)
        assert response.status == 400
        assert response.body == BAD_REQUEST_PAGE
        assert response.headers["connection"] == "close"
        assert stream.read() == b""
    assert requests.get(url(server, "/v1/next"), timeout=5).status_code == 200


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(b"GET /v1/a HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", id="complete"),
        pytest.param(b"GET /v1/a HTTP/1.1\r\nX-Big: " + b"a" * 70_000, id="unterminated"),
    ],
)
def test_header_section_over_64k_is_431(server: HttpServer, wire: bytes):
    with connect(server) as (sock, stream):
        sock.sendall(wire)
        response = read_response(stream)
        assert response.status == 431
        assert response.headers["connection"] == "close"
    assert requests.get(url(server, "/v1/next"), timeout=5).status_code == 200


def test_header_section_just_under_64k_is_served(server: HttpServer):
    response = requests.get(url(server, "/v1/a"), headers={"X-Big": "a" * 60_000}, timeout=5)
    assert response.status_code == 200
    assert len(echoed(response)["headers"]["x-big"]) == 60_000


def test_method_libevent_refuses_is_501(server: HttpServer):
    with connect(server) as (sock, stream):
        sock.sendall(raw_request("TRACE", "/v1/a"))
        assert read_response(stream).status == 501


# Handler failures, executor and concurrency


def test_handler_exception_is_500_and_the_connection_keeps_serving(
    server: HttpServer, caplog: pytest.LogCaptureFixture
):
    with connect(server) as (sock, stream):
        sock.sendall(raw_request("GET", "/v1/boom"))
        failed = read_response(stream)
        sock.sendall(raw_request("GET", "/v1/after"))
        after = read_response(stream)
    assert failed.status == 500
    assert failed.headers["content-type"] == "application/json"
    # The client gets a generic message (no Python exception text); the log has the rest.
    assert json.loads(failed.body) == {"error": INTERNAL_MESSAGE}
    assert "boom" not in failed.body.decode()
    assert "RuntimeError: boom" in caplog.text
    assert after.status == 200


def test_invalid_response_from_handler_is_500(
    serve: Callable[..., HttpServer], caplog: pytest.LogCaptureFixture
):
    server = serve(
        exact_handlers={"/bad": lambda request: Response(200, b"", None, [("X", "a\r\nb")])}
    )
    response = requests.get(url(server, "/bad"), timeout=5)
    assert response.status_code == 500
    assert response.json()["error"] == INTERNAL_MESSAGE
    assert "Line break in response header" in caplog.text


@pytest.mark.parametrize("use_executor", [False, True], ids=["inline", "executor"])
def test_handler_runs_on_the_executor_when_given(
    serve: Callable[..., HttpServer], use_executor: bool
):
    with ThreadPoolExecutor(2, thread_name_prefix="handler-pool") as executor:
        server = serve(executor=executor if use_executor else None)
        thread = echoed(requests.get(url(server, "/v1/a"), timeout=5))["thread"]
        server.stop()
    assert thread.startswith("handler-pool") == use_executor
    assert thread.startswith("http-server") != use_executor


@pytest.mark.parametrize("use_executor", [False, True], ids=["inline", "executor"])
def test_concurrent_clients_all_get_their_own_answers(
    serve: Callable[..., HttpServer], use_executor: bool
):
    with ThreadPoolExecutor(8) as executor:
        server = serve(executor=executor if use_executor else None)

        def client(number: int) -> list[tuple[str, str]]:
            seen = []
            with requests.Session() as session:
                for index in range(20):
                    body = f"client {number} request {index}"
                    response = session.post(
                        url(server, f"/v1/c{number}/{index}"), data=body, timeout=5
                    )
                    seen.append((echoed(response)["target"], echoed(response)["body"]))
            return seen

        with ThreadPoolExecutor(16) as clients:
            results = list(clients.map(client, range(16)))
        server.stop()
    for number, seen in enumerate(results):
        assert seen == [(f"/v1/c{number}/{i}", f"client {number} request {i}") for i in range(20)]


def test_reading_pauses_while_pipelined_requests_wait_for_the_executor(
    serve: Callable[..., HttpServer],
):
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response(200, b"slow")

    def size(request: Request) -> Response:
        return Response(200, str(len(request.body)).encode())

    body = b"p" * 24 * 1024 * 1024
    with ThreadPoolExecutor(2) as executor:
        server = serve(executor=executor, exact_handlers={"/slow": slow, "/size": size})
        with connect(server) as (sock, stream):
            sock.sendall(raw_request("GET", "/slow"))
            sender = threading.Thread(
                target=sock.sendall, args=(raw_request("POST", "/size", body),)
            )
            sender.start()
            sender.join(0.5)
            held_back = sender.is_alive()  # the server stopped reading instead of buffering
            release.set()
            sender.join(5)
            answers = [read_response(stream).body, read_response(stream).body]
        server.stop()
    assert held_back
    assert answers == [b"slow", str(len(body)).encode()]


# Lifecycle


def test_port_zero_binds_a_free_port_and_stop_releases_it(serve: Callable[..., HttpServer]):
    server = serve()
    assert server.port > 0
    assert requests.get(url(server, "/v1/a"), timeout=5).status_code == 200
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_binding_a_taken_port_fails_in_the_caller(server: HttpServer):
    with pytest.raises(OSError):
        HttpServer(echo, "127.0.0.1", server.port).run_in_thread()


def test_a_lone_connection_is_served_inline_and_several_use_the_executor():
    threads: list[str] = []

    def where(request: Request) -> Response:
        threads.append(threading.current_thread().name)
        return Response(200, b"{}", "application/json")

    with ThreadPoolExecutor(2, thread_name_prefix="pool") as executor:
        server = HttpServer(where, "127.0.0.1", 0, executor=executor, inline_when_alone=True)
        server.run_in_thread()
        try:
            with requests.Session() as one:
                one.get(url(server, "/v1/a"), timeout=10)
                with requests.Session() as two:
                    two.get(url(server, "/v1/b"), timeout=10)
        finally:
            server.stop()
    assert not threads[0].startswith("pool"), threads
    assert threads[1].startswith("pool"), threads
