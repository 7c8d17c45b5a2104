"""Idle and slow clients on the REST port: the idle timeout, the connection cap, and request
work kept off the event loop so one large body never holds up another client."""

from __future__ import annotations

import contextlib
import gzip
import json
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import grpc
import pytest
import requests
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from server.http import HttpServer, Request, Response, connection_cap
from server.http.connections import MIN_RESERVED_DESCRIPTORS
from server.http.protocol import INLINE_BODY_LIMIT
from tests.serverproc import ROOT, RunningServer, start_server

# Bounds for things that happen within a second or two of the short test timeouts; generous
# so a loaded machine does not fail them.
PATIENCE = 30.0
IDLE_TIMEOUT = 1.0


def where(request: Request) -> Response:
    """Answers with the thread that ran it; /v1/sleep/<s> sleeps first."""
    if request.target.startswith("/v1/sleep/"):
        time.sleep(float(request.target.rsplit("/", 1)[1]))
    return Response(200, threading.current_thread().name.encode(), "text/plain")


@pytest.fixture
def serve() -> Iterator[Callable[..., HttpServer]]:
    """Starts HttpServers on free loopback ports, with an executor, and stops them after."""
    started: list[HttpServer] = []
    with ThreadPoolExecutor(4, thread_name_prefix="pool") as executor:

        def start(handler: Callable[[Request], Response] = where, **options: object) -> HttpServer:
            options.setdefault("executor", executor)
            server = HttpServer(handler, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
            server.run_in_thread()
            started.append(server)
            return server

        yield start
        for server in started:
            server.stop()


def connect(port: int, timeout: float = PATIENCE) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def request_bytes(method: str, target: str, body: bytes = b"", *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", *headers]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Status and body of one response (Content-Length framed)."""
    stream = sock.makefile("rb")
    try:
        status_line = stream.readline()
        assert status_line, "the server closed the connection without a response"
        length = 0
        while (line := stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return int(status_line.split(b" ")[1]), stream.read(length)
    finally:
        stream.close()


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed sock: EOF or a reset, waiting up to the socket timeout."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def get(sock: socket.socket, target: str = "/v1/a") -> tuple[int, bytes]:
    sock.sendall(request_bytes("GET", target))
    return read_response(sock)


# Idle timeout


def test_idle_keep_alive_connection_is_closed_after_the_timeout(
    serve: Callable[..., HttpServer],
):
    server = serve(idle_timeout=IDLE_TIMEOUT)
    with connect(server.port) as sock:
        assert get(sock)[0] == 200
        assert closed_by_server(sock)


def test_without_idle_timeout_an_idle_connection_stays_open(serve: Callable[..., HttpServer]):
    server = serve()
    with connect(server.port, timeout=3 * IDLE_TIMEOUT) as sock:
        assert get(sock)[0] == 200
        assert not closed_by_server(sock)
        assert get(sock)[0] == 200


def test_slowloris_half_a_header_is_answered_408_and_closed(serve: Callable[..., HttpServer]):
    server = serve(idle_timeout=IDLE_TIMEOUT)
    with connect(server.port) as sock:
        sock.sendall(b"GET /v1/a HTTP/1.1\r\nHost: te")
        status, _ = read_response(sock)
        assert status == 408
        assert closed_by_server(sock)


def test_a_head_trickled_byte_by_byte_is_cut_off(serve: Callable[..., HttpServer]):
    server = serve(idle_timeout=IDLE_TIMEOUT)
    head = b"GET /v1/a HTTP/1.1\r\nHost: test\r\nX-Padding: " + b"p" * 1000
    sent = 0
    with connect(server.port) as sock:
        deadline = time.monotonic() + PATIENCE
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # Each byte comes well inside the idle timeout; the head as a whole does not.
            while sent < len(head) and time.monotonic() < deadline:
                sock.sendall(head[sent : sent + 1])
                sent += 1
                time.sleep(IDLE_TIMEOUT / 10)
        assert sent < len(head), "the server waited for the whole trickled head"
        assert read_response(sock)[0] == 408


def test_a_request_being_answered_is_not_idle(serve: Callable[..., HttpServer]):
    server = serve(idle_timeout=IDLE_TIMEOUT)
    with connect(server.port) as sock:
        status, _ = get(sock, f"/v1/sleep/{3 * IDLE_TIMEOUT}")
        assert status == 200
        assert get(sock)[0] == 200  # the connection outlived the long request


def test_an_idle_timeout_of_zero_means_none(serve: Callable[..., HttpServer]):
    server = serve(idle_timeout=0)
    with connect(server.port, timeout=3 * IDLE_TIMEOUT) as sock:
        assert get(sock)[0] == 200
        assert not closed_by_server(sock)


# Connection cap


def test_at_the_cap_a_new_connection_closes_the_longest_idle_one(
    serve: Callable[..., HttpServer],
):
    server = serve(max_connections=3)
    idle = [connect(server.port) for _ in range(3)]
    try:
        for sock in idle:  # each answered, so each is open and counted, oldest first
            assert get(sock)[0] == 200
        with connect(server.port) as newcomer:
            assert get(newcomer)[0] == 200
        assert closed_by_server(idle[0])
        assert get(idle[1])[0] == 200
        assert get(idle[2])[0] == 200
    finally:
        for sock in idle:
            sock.close()


def test_at_the_cap_with_every_connection_busy_a_new_one_gets_503(
    serve: Callable[..., HttpServer],
):
    release = threading.Event()
    entered = threading.Semaphore(0)

    def hold(request: Request) -> Response:
        entered.release()
        release.wait(PATIENCE)
        return Response(200, b"held")

    server = serve(exact_handlers={"/hold": hold}, max_connections=2)
    busy = [connect(server.port) for _ in range(2)]
    try:
        for sock in busy:
            sock.sendall(request_bytes("GET", "/hold"))
        for _ in busy:
            assert entered.acquire(timeout=PATIENCE)
        with connect(server.port) as refused:
            status, body = read_response(refused)
            assert status == 503
            assert "limit" in json.loads(body)["error"]
            assert closed_by_server(refused)
        release.set()
        assert [read_response(sock) for sock in busy] == [(200, b"held")] * 2
    finally:
        release.set()
        for sock in busy:
            sock.close()


def test_connection_cap_flag_values():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_cap(50) == 50
    assert connection_cap(-1) is None
    derived = connection_cap(0)
    if soft == resource.RLIM_INFINITY:
        assert derived is None
    else:
        assert derived is not None
        assert derived <= soft - max(MIN_RESERVED_DESCRIPTORS, soft // 4)
        assert derived >= 1


# A server process whose open-file limit is tiny: it runs out of descriptors, then recovers.

CHILD = """
import logging, sys
from server.http import HttpServer, Response
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
server = HttpServer(lambda request: Response(200, b"ok"), "127.0.0.1", 0)
server.run_in_thread()
print(server.port, flush=True)
sys.stdin.read()
server.stop()
"""


def test_out_of_descriptors_pauses_accepting_then_serves_again():
    """No cap: the accept loop hits EMFILE, logs it, and accepts again once sockets close."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48)),
    )
    assert child.stdout is not None and child.stdin is not None and child.stderr is not None
    out_of_descriptors = threading.Event()

    def watch(stream: BinaryIO) -> None:
        for line in stream:
            if b"Out of descriptors accepting HTTP connections" in line:
                out_of_descriptors.set()

    watcher = threading.Thread(target=watch, args=(child.stderr,), daemon=True)
    watcher.start()
    try:
        port = int(child.stdout.readline())
        flood = [connect(port) for _ in range(80)]  # the kernel completes them all
        try:
            assert out_of_descriptors.wait(PATIENCE)
        finally:
            for sock in flood:
                sock.close()
        with connect(port) as sock:
            assert get(sock)[0] == 200
        child.stdin.close()
        assert child.wait(PATIENCE) == 0
    finally:
        child.kill()
        child.wait()


# Request work off the event loop


@pytest.mark.parametrize(
    ("body", "headers", "inline"),
    [
        pytest.param(b"", (), True, id="get-inline"),
        pytest.param(b"x" * INLINE_BODY_LIMIT, (), True, id="small-body-inline"),
        pytest.param(b"x" * (INLINE_BODY_LIMIT + 1), (), False, id="large-body-on-executor"),
        pytest.param(
            gzip.compress(b"[" * 100_000), ("Content-Encoding: gzip",), False, id="gzip-on-executor"
        ),
    ],
)
def test_a_lone_connection_runs_only_cheap_requests_inline(
    serve: Callable[..., HttpServer], body: bytes, headers: tuple[str, ...], inline: bool
):
    server = serve(inline_when_alone=True)
    with connect(server.port) as sock:
        sock.sendall(request_bytes("POST" if body else "GET", "/v1/a", body, *headers))
        status, thread = read_response(sock)
    assert status == 200
    assert thread.startswith(b"pool") != inline, thread


def test_a_large_body_on_a_lone_connection_does_not_hold_up_a_new_client(
    serve: Callable[..., HttpServer],
):
    """The big request's handler stays busy until the other client's GET is answered: if it
    ran on the loop thread, that GET could not be answered at all."""
    started, release = threading.Event(), threading.Event()

    def parse(request: Request) -> Response:
        if request.method == "POST":
            started.set()
            release.wait(PATIENCE)
        return Response(200, request.method.encode())

    server = serve(parse, inline_when_alone=True)
    nested = b'{"instances": ' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}"
    try:
        with connect(server.port) as big:
            big.sendall(request_bytes("POST", "/v1/models/m:predict", nested))
            assert started.wait(PATIENCE)
            with connect(server.port, timeout=10) as small:  # connects while big is alone
                assert get(small, "/v1/models/m") == (200, b"GET")
            assert not release.is_set()
            release.set()
            assert read_response(big) == (200, b"POST")
    finally:
        release.set()


# The full server, its open-file limit at 1,024


@contextlib.contextmanager
def nofile_limit(soft: int) -> Iterator[None]:
    """Run the block with this process's soft RLIMIT_NOFILE at ``soft`` (children inherit it)."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, before[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


@pytest.fixture(scope="module")
def half_plus_two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.fixtures.models import HALF_PLUS_TWO_VERSION, save_half_plus_two

    base = tmp_path_factory.mktemp("limits-models") / "half_plus_two"
    save_half_plus_two(base / f"{HALF_PLUS_TWO_VERSION:08d}")
    return base


@pytest.fixture(scope="module")
def limited_server(
    half_plus_two: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The server with RLIMIT_NOFILE 1,024 and a 3 s idle timeout; the cap is its default."""
    flags = [
        "--model_name=half_plus_two",
        f"--model_base_path={half_plus_two}",
        "--rest_api_idle_timeout_seconds=3",
    ]
    with nofile_limit(1024), start_server(flags, tmp_path_factory.mktemp("limits")) as running:
        yield running


def model_available(server: RunningServer) -> bool:
    response = requests.get(f"{server.rest}/v1/models/half_plus_two", timeout=PATIENCE)
    return bool(response.status_code == 200 and "AVAILABLE" in response.text)


def grpc_model_available(server: RunningServer) -> bool:
    with grpc.insecure_channel(server.grpc) as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = "half_plus_two"
        answer = stub.GetModelStatus(request, timeout=PATIENCE)
    return bool(
        answer.model_version_status[0].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    )


@pytest.mark.slow
def test_1200_idle_connections_leave_rest_and_grpc_answering(limited_server: RunningServer):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1300:
        pytest.skip(f"the hard RLIMIT_NOFILE ({hard}) leaves no room for 1,200 test sockets")
    assert isinstance(limited_server.process, subprocess.Popen)
    server_limit = resource.prlimit(limited_server.process.pid, resource.RLIMIT_NOFILE)
    assert server_limit[0] == 1024
    port = int(limited_server.rest.rsplit(":", 1)[1])
    with nofile_limit(hard if hard != resource.RLIM_INFINITY else 4096):
        idle = [connect(port, timeout=PATIENCE) for _ in range(1200)]
        try:
            # Every connection above the cap closed an idle one to get in; these two do too.
            assert model_available(limited_server)
            assert grpc_model_available(limited_server)
            # All 1,200 were idle from the start: none is left open after the timeout.
            assert all(closed_by_server(sock) for sock in idle)
        finally:
            for sock in idle:
                sock.close()
        assert model_available(limited_server)
    assert "Out of descriptors" not in limited_server.log()


@pytest.mark.slow
def test_a_slow_nested_body_does_not_hold_up_a_concurrent_get(limited_server: RunningServer):
    """A 2 MB deeply nested predict body takes seconds to parse; a GET sent meanwhile on
    another connection is answered first."""
    port = int(limited_server.rest.rsplit(":", 1)[1])
    nested = b'{"instances": ' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}"
    order: list[str] = []

    def post() -> None:
        with connect(port, timeout=120) as big:
            big.sendall(request_bytes("POST", "/v1/models/half_plus_two:predict", nested))
            read_response(big)
            order.append("nested POST")

    poster = threading.Thread(target=post)
    poster.start()
    try:
        time.sleep(0.5)  # let the body arrive; parsing it takes several times longer
        with connect(port, timeout=PATIENCE) as small:
            status, _ = get(small, "/v1/models/half_plus_two")
            order.append("GET")
        assert status == 200
    finally:
        poster.join(120)
    assert order == ["GET", "nested POST"]
