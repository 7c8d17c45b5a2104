"""OpenConnections: the REST port's open connections, their idle timeout and their cap."""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.http.protocol import HttpConnection

logger = logging.getLogger(__name__)

# Descriptors kept back from REST connections: 128 for the sockets of one accept round and
# of the connections they close (server.ACCEPT_BATCH each), the rest for gRPC, model files
# and logs.
MIN_RESERVED_DESCRIPTORS = 384


def connection_cap(configured: int) -> int | None:
    """The cap on open REST connections for the --rest_api_max_connections value.

    0 derives it from the open-file limit: the soft RLIMIT_NOFILE minus a reserve of a quarter
    of it (at least MIN_RESERVED_DESCRIPTORS); a negative value, or an unlimited RLIMIT_NOFILE,
    means no cap.
    """
    if configured > 0:
        return configured
    if configured < 0:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(1, soft - max(MIN_RESERVED_DESCRIPTORS, soft // 4))


class OpenConnections:
    """The open connections of one server: counted, capped, and closed when idle.

    At the cap a new connection makes room by closing the open connection that has been
    silent longest and is not being answered, so a probe still gets through while idle or
    stalled clients hold every slot; when every open connection is being answered, the new
    one is refused. With an idle timeout, a sweep closes connections silent that long.
    """

    def __init__(self, idle_timeout: float | None, max_connections: int | None) -> None:
        self.idle_timeout = idle_timeout if idle_timeout and idle_timeout > 0 else None
        self.max_connections = max_connections
        self._open: set[HttpConnection] = set()
        self._pending = 0  # accepted sockets whose connection is not made yet
        self._sweep_handle: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._open)

    def reserve(self) -> None:
        """Make room for a socket just accepted, before its connection is made."""
        cap = self.max_connections
        if cap is not None and len(self._open) + self._pending >= cap:
            self._evict_one()
        self._pending += 1

    def unreserve(self) -> None:
        """The reserved socket's connection is made (and admitted or refused), or failed."""
        self._pending -= 1

    def admit(self, connection: HttpConnection) -> bool:
        """Count a new connection, making room at the cap; False when it must be refused."""
        cap = self.max_connections
        if cap is not None and len(self._open) >= cap and not self._evict_one():
            return False
        self._open.add(connection)
        return True

    def _evict_one(self) -> bool:
        # O(open connections), but only at the cap, where the alternative is refusing.
        idle = [other for other in self._open if other.evictable]
        if not idle:
            return False
        victim = min(idle, key=lambda other: other.last_active)
        self._open.discard(victim)
        victim.evict()
        return True

    def remove(self, connection: HttpConnection) -> None:
        self._open.discard(connection)

    def start_sweeping(self, loop: asyncio.AbstractEventLoop) -> None:
        """Check for idle connections a few times per timeout (at least once a second)."""
        if self.idle_timeout is None:
            return
        timeout = self.idle_timeout
        interval = min(1.0, max(0.05, timeout / 4))

        def sweep() -> None:
            now = loop.time()
            for connection in list(self._open):
                connection.expire_if_idle(now, timeout)
            self._sweep_handle = loop.call_later(interval, sweep)

        self._sweep_handle = loop.call_later(interval, sweep)

    def abort_all(self) -> None:
        """Stop sweeping and drop every open connection (server shutdown)."""
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
            self._sweep_handle = None
        for connection in list(self._open):
            connection.abort()
