"""gRPC for the load test: gevent-friendly calls through clients.GrpcClient.send."""

from __future__ import annotations

__all__ = ["enable_gevent"]

_gevent_enabled = False


def enable_gevent() -> None:
    """Make gRPC's blocking calls yield to other greenlets, as Locust's users are.

    Without it a call blocks the whole process and the users take turns. Must run in each
    process before it creates its first channel; later calls do nothing.
    """
    global _gevent_enabled
    if not _gevent_enabled:
        import grpc.experimental.gevent as grpc_gevent

        grpc_gevent.init_gevent()
        _gevent_enabled = True
