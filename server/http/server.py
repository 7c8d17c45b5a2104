"""HttpServer: binds a port and serves HTTP/1.1 on an asyncio loop, in-place or in a thread."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from server.http.connections import OpenConnections
from server.http.dispatch import Dispatcher
from server.http.messages import Handler
from server.http.protocol import HttpConnection

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
LISTEN_BACKLOG = 1024
# Connections accepted per readiness event. The server accepts itself rather than through
# loop.create_server, whose accept rounds take up to the whole backlog before any new
# connection can close an idle one: this way at most one round of sockets is open beyond
# max_connections (and one round of closing ones), which connection_cap's reserve covers.
ACCEPT_BATCH = 64
# Out of descriptors: stop accepting this long (as asyncio does) and let the backlog wait.
ACCEPT_RETRY_SECONDS = 1.0
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class HttpServer:
    """An HTTP/1.1 server that routes the way TF Serving's REST port does.

    ``handler`` gets every request whose target matches ``(?i)/v1/.*``; ``exact_handlers``
    (path -> handler, e.g. the Prometheus page) take precedence. Handlers are blocking
    functions, run on ``executor`` when one is given, else inline on the loop thread; with
    ``inline_when_alone`` a request with a small body (INLINE_BODY_LIMIT) also runs inline
    while its connection is the only one open.

    ``idle_timeout`` (seconds; None or 0 for none) closes a connection whose client has sent
    nothing for that long, between requests or in the middle of one, and one that takes that
    long over a request head; a request being answered is never idle. ``max_connections``
    (None for no cap) bounds the open connections: at the cap, a new connection closes the
    one silent longest, or is answered 503 when every open connection is being answered.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = 64 * MiB,
        gzip_limit_bytes: int = 100 * MiB,
        executor: ThreadPoolExecutor | None = None,
        exact_handlers: Mapping[str, Handler] | None = None,
        inline_when_alone: bool = False,
        idle_timeout: float | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._max_body = max_body_bytes
        self._executor = executor
        self._inline_when_alone = inline_when_alone
        self._dispatcher = Dispatcher(handler, exact_handlers or {}, gzip_limit_bytes)
        self._connections = OpenConnections(idle_timeout, max_connections)
        self._listeners: list[socket.socket] = []
        self._accepting: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0).

        Raises:
            RuntimeError: the server has not been started.
        """
        if self._port is None:
            raise RuntimeError("HttpServer is not started")
        return self._port

    async def start(self) -> None:
        """Bind and start accepting connections on the running loop.

        Raises:
            RuntimeError: the server is already started.
            OSError: the address cannot be bound.
        """
        if self._listeners:
            raise RuntimeError("HttpServer is already started")
        self._loop = loop = asyncio.get_running_loop()
        self._listeners = _listen(self.host, self._requested_port)
        self._port = self._listeners[0].getsockname()[1]
        for listener in self._listeners:
            loop.add_reader(listener.fileno(), self._accept, listener)
        self._connections.start_sweeping(loop)
        logger.info("HTTP server listening on %s:%d", self.host, self._port)

    def _accept(self, listener: socket.socket) -> None:
        loop = self._loop
        assert loop is not None  # start() registered this callback
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as err:
                if err.errno not in _OUT_OF_RESOURCES:
                    raise
                logger.error("Out of descriptors accepting HTTP connections: %s", err)
                loop.remove_reader(listener.fileno())
                loop.call_later(ACCEPT_RETRY_SECONDS, self._resume_accepting, listener)
                return
            conn.setblocking(False)
            # Make room now, while the socket waits for its transport (see ACCEPT_BATCH).
            self._connections.reserve()
            task = loop.create_task(self._serve(conn))
            self._accepting.add(task)
            task.add_done_callback(self._accepting.discard)

    def _resume_accepting(self, listener: socket.socket) -> None:
        if self._loop is not None and listener in self._listeners:
            self._loop.add_reader(listener.fileno(), self._accept, listener)

    async def _serve(self, conn: socket.socket) -> None:
        assert self._loop is not None  # start() ran first
        try:
            await self._loop.connect_accepted_socket(self._new_connection, conn)
        except OSError as err:  # the client left before its transport was made
            logger.debug("HTTP connection lost while being set up: %s", err)
            conn.close()
        finally:
            self._connections.unreserve()

    def _new_connection(self) -> HttpConnection:
        return HttpConnection(
            self._dispatcher,
            self._max_body,
            self._executor,
            self._connections,
            self._inline_when_alone,
        )

    async def close(self) -> None:
        """Stop accepting, close every open connection and the listening sockets."""
        listeners, self._listeners = self._listeners, []
        if not listeners:
            return
        assert self._loop is not None  # start() ran first
        for listener in listeners:
            self._loop.remove_reader(listener.fileno())
            listener.close()
        for task in list(self._accepting):
            task.cancel()
        await asyncio.gather(*self._accepting, return_exceptions=True)
        self._connections.abort_all()
        await asyncio.sleep(0)  # let the aborted transports report connection_lost
        logger.info("HTTP server on %s:%d closed", self.host, self._port)

    def run_in_thread(self) -> None:
        """Start the server on a new event loop in a daemon thread; return once listening.

        Raises:
            RuntimeError: the server is already running.
            OSError: the address cannot be bound.
        """
        if self._thread is not None:
            raise RuntimeError("HttpServer is already running in a thread")
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as err:  # reported to the caller below
                failure.append(err)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=serve, name=f"http-server-{self.host}", daemon=True)
        thread.start()
        started.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._thread = thread

    def stop(self, timeout: float = 5.0) -> None:
        """Close a server started with run_in_thread and join its thread.

        Raises:
            TimeoutError: closing took longer than ``timeout`` seconds.
        """
        thread, self._thread = self._thread, None
        loop = self._loop
        if thread is None or loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"HTTP server thread did not stop within {timeout} s")


def _listen(host: str, port: int) -> list[socket.socket]:
    """Listening non-blocking sockets on every address of host, as loop.create_server binds.

    Raises:
        OSError: host does not resolve or an address cannot be bound.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            listener = socket.socket(family, kind, proto)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind(address)
            listener.listen(LISTEN_BACKLOG)
            listener.setblocking(False)
    except OSError:
        for listener in listeners:
            listener.close()
        raise
    return listeners
