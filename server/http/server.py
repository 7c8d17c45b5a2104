"""HttpServer: binds a port and serves HTTP/1.1 on an asyncio loop, in-place or in a thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from server.http.dispatch import Dispatcher
from server.http.messages import Handler
from server.http.protocol import HttpConnection

logger = logging.getLogger(__name__)

MiB = 1024 * 1024


class HttpServer:
    """An HTTP/1.1 server that routes the way TF Serving's REST port does.

    ``handler`` gets every request whose target matches ``(?i)/v1/.*``; ``exact_handlers``
    (path -> handler, e.g. the Prometheus page) take precedence. Handlers are blocking
    functions, run on ``executor`` when one is given, else inline on the loop thread; with
    ``inline_when_alone`` they also run inline while only one connection is open.
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
    ) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._max_body = max_body_bytes
        self._executor = executor
        self._inline_when_alone = inline_when_alone
        self._dispatcher = Dispatcher(handler, exact_handlers or {}, gzip_limit_bytes)
        self._connections: set[HttpConnection] = set()
        self._server: asyncio.Server | None = None
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
        if self._server is not None:
            raise RuntimeError("HttpServer is already started")
        self._loop = asyncio.get_running_loop()
        self._server = await self._loop.create_server(
            self._new_connection, self.host, self._requested_port, backlog=1024
        )
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info("HTTP server listening on %s:%d", self.host, self._port)

    def _new_connection(self) -> HttpConnection:
        return HttpConnection(
            self._dispatcher,
            self._max_body,
            self._executor,
            self._connections,
            self._inline_when_alone,
        )

    async def close(self) -> None:
        """Stop accepting, close every open connection and wait for the listener to go."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for connection in list(self._connections):
            connection.abort()
        await server.wait_closed()
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
