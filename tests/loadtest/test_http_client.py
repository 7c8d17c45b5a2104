"""The REST user's keep-alive client against a scripted HTTP/1.1 server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from loadtest.http_client import HttpCallError, KeepAliveConnection

Script = Callable[[socket.socket, int], bool]  # (connection, request number) -> keep going


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
            while len(body) < length:
                body += conn.recv(65536)
    return head


class ScriptedServer:
    """Accepts connections; for each request calls script(conn, n), which writes the answer."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while head := _read_request(conn):
                self.requests.append(head)
                if not self.script(conn, len(self.requests)):
                    return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_keeps_one_connection_and_sends_the_prepared_request(serve) -> None:
    server = serve(lambda conn, n: conn.sendall(_ok(b'{"n": %d}' % n)) or True)
    client = KeepAliveConnection(f"http://127.0.0.1:{server.port}/prefix", timeout=5)
    request = client.prepare("POST", "/v1/models/m:predict", b'{"instances": [1]}')
    answers = [client.call(request) for _ in range(3)]
    assert [a.body for a in answers] == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert {a.status for a in answers} == {200}
    assert server.connections == 1
    head = server.requests[0].decode()
    assert head.startswith("POST /prefix/v1/models/m:predict HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}" in head and "Content-Length: 18" in head


def test_reads_a_chunked_answer_with_trailers(serve) -> None:
    chunked = (
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"err\r\n6;ext=1\r\nor": 1\r\n1\r\n}\r\n0\r\nX-Trailer: y\r\n\r\n'
    )
    server = serve(lambda conn, n: conn.sendall(chunked) or True)
    client = KeepAliveConnection(f"http://127.0.0.1:{server.port}", timeout=5)
    request = client.prepare("GET", "/v1/models/m")
    for _ in range(2):  # the connection stays usable after a chunked answer
        answer = client.call(request)
        assert (answer.status, answer.body) == (400, b'{"error": 1}')
    assert server.connections == 1


def test_connection_close_answers_reconnect_for_the_next_call(serve) -> None:
    server = serve(lambda conn, n: conn.sendall(_ok(b"x", b"Connection: close\r\n")) and False)
    client = KeepAliveConnection(f"http://127.0.0.1:{server.port}", timeout=5)
    request = client.prepare("GET", "/v1/models/m")
    assert [client.call(request).body for _ in range(3)] == [b"x"] * 3
    assert server.connections == 3


def test_a_connection_the_server_closed_while_idle_is_reopened_once(serve) -> None:
    # The server answers, then closes the connection (an idle timeout) without saying so.
    server = serve(lambda conn, n: conn.sendall(_ok(b"y")) and False)
    client = KeepAliveConnection(f"http://127.0.0.1:{server.port}", timeout=5)
    request = client.prepare("GET", "/v1/models/m")
    assert client.call(request).body == b"y"
    assert client.call(request).body == b"y"  # sent again on a new connection
    assert server.connections == 2


def test_an_answer_cut_short_is_an_error_naming_it(serve) -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"
    server = serve(lambda conn, n: conn.sendall(cut) and False)
    client = KeepAliveConnection(f"http://127.0.0.1:{server.port}", timeout=5)
    with pytest.raises(HttpCallError, match="after 9 of 100 body bytes"):
        client.call(client.prepare("GET", "/"))


def test_not_http_is_an_error(serve) -> None:
    server = serve(lambda conn, n: conn.sendall(b"SSH-2.0-OpenSSH\r\n\r\n") and False)
    client = KeepAliveConnection(f"http://127.0.0.1:{server.port}", timeout=5)
    with pytest.raises(HttpCallError, match="not an HTTP/1.x status line"):
        client.call(client.prepare("GET", "/"))


def test_no_server_is_an_error_and_a_bad_url_is_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed at the end of the block: nothing listens
    client = KeepAliveConnection(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(HttpCallError, match="ConnectionRefusedError"):
        client.call(client.prepare("GET", "/"))
    with pytest.raises(ValueError, match="http:// or https://"):
        KeepAliveConnection("127.0.0.1:8501", timeout=5)
