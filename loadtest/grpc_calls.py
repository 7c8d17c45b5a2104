"""gRPC calls for the load test: clients.GrpcClient sending request messages built before the run."""

from __future__ import annotations

from typing import Any

from clients.grpc_client import GrpcClient
from clients.retry import NO_RETRY

__all__ = ["PreparedGrpcClient", "enable_gevent"]

_gevent_enabled = False


def enable_gevent() -> None:
    """Make gRPC's blocking calls yield to other greenlets, as Locust's users are.

    Without it a call blocks the whole process and the users take turns. Must run in each
    process before it creates its first channel; later calls do nothing.
    """
    global _gevent_enabled
    if not _gevent_enabled:
        from grpc.experimental import gevent as grpc_gevent

        grpc_gevent.init_gevent()
        _gevent_enabled = True


class PreparedGrpcClient(GrpcClient):
    """A GrpcClient that also sends ready-made request messages, without retries.

    GrpcClient.predict turns arrays into a PredictRequest on every call (about 0.3 ms for 30
    inputs), which would count as server latency; the load test builds each message once and
    sends it through the client's own call path, keeping its deadline and error mapping. A
    load test must see every failure, so nothing is retried.
    """

    def __init__(self, target: str, *, timeout: float, **kwargs: Any) -> None:
        super().__init__(target, timeout=timeout, retry=NO_RETRY, **kwargs)

    def send(self, method: str, request: Any) -> Any:
        """Call method (e.g. "Predict") with a request message; returns the response message.

        Raises:
            ServingClientError: a subclass for the server's status (message is its text),
                e.g. InvalidInputError, ServerUnavailableError, DeadlineExceededError.
        """
        return self._call(method, request, self._deadline(None), NO_RETRY)
