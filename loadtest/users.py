"""Locust users: REST (FastHttpUser), gRPC (clients.GrpcClient) and a plain HttpUser baseline.

Each sends the workload's prepared batches in turn. Every request is reported once through
Locust's `request` event; in paced runs its context carries how late it was sent, so latency
can be measured from the intended send time. The classes are abstract: `user_class` makes the
one concrete class a locustfile exposes.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any, ClassVar

import gevent
from locust import FastHttpUser, HttpUser, User, task

from clients import rest_json
from clients.errors import ServingClientError
from clients.grpc_client import GrpcClient
from clients.retry import NO_RETRY
from loadtest.grpc_calls import enable_gevent
from loadtest.pacing import Pacer
from loadtest.payloads import Batch, Workload

__all__ = ["LAG_KEY", "GrpcUser", "PlainHttpUser", "RestUser", "user_class"]

LAG_KEY = "loadtest_lag_ms"  # request context: ms between intended and actual send (paced)
JSON_HEADERS = {"Content-Type": "application/json"}


class WorkloadMixin:
    """Cycles through the workload's batches; in paced mode keeps the user's send schedule."""

    workload: ClassVar[Workload | None] = None
    user_rate: ClassVar[float | None] = None  # requests per second per user when paced

    def on_start(self) -> None:
        if self.workload is None:
            raise RuntimeError("no workload: the locustfile prepares it at test start")
        batches = list(self.workload.batches)
        offset = random.randrange(len(batches))  # users start at different batches
        self._batches = itertools.cycle(batches[offset:] + batches[:offset])
        self._pacer = Pacer(self.user_rate) if self.user_rate else None
        if self._pacer is not None:
            gevent.sleep(self._pacer.wait_time())

    def wait_time(self) -> float:
        return self._pacer.wait_time() if self._pacer is not None else 0.0

    def next_request(self) -> tuple[Batch, dict[str, Any]]:
        """The next batch and the request context (with the send lag when paced)."""
        batch = next(self._batches)
        if self._pacer is None:
            return batch, {}
        lag_ms = (time.perf_counter() - self._pacer.take()) * 1000.0
        return batch, {LAG_KEY: max(0.0, lag_ms)}


def _http_failure(response: Any) -> str:
    """A failed answer's reason: the server's error message, or the connection error."""
    if not response.status_code:
        return f"no answer: {response.error}"
    content = response.content or b""
    message = rest_json.decode_error(content) or content[:200].decode(errors="replace")
    return f"HTTP {response.status_code}: {message}"


def _send_rest(user: Any) -> None:
    workload: Workload = user.workload
    batch, context = user.next_request()
    options = {"name": workload.request_name, "catch_response": True, "context": context}
    if batch.rest_body is None:
        call = user.client.get(workload.rest_path, **options)
    else:
        call = user.client.post(
            workload.rest_path, data=batch.rest_body, headers=JSON_HEADERS, **options
        )
    with call as response:
        if response.status_code == 200:
            response.success()
        else:
            response.failure(_http_failure(response))


class RestUser(WorkloadMixin, FastHttpUser):
    """TF Serving's REST API through Locust's FastHttpUser (geventhttpclient)."""

    abstract = True

    @task
    def send(self) -> None:
        _send_rest(self)


class PlainHttpUser(WorkloadMixin, HttpUser):
    """The same REST requests through Locust's plain HttpUser (requests), for comparison."""

    abstract = True

    @task
    def send(self) -> None:
        _send_rest(self)


class GrpcUser(WorkloadMixin, User):
    """TF Serving's gRPC API through clients.GrpcClient; host is the gRPC target."""

    abstract = True
    timeout: ClassVar[float] = 10.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        enable_gevent()
        # The request messages are built before the run (converting 30 inputs per call would
        # count as server latency) and sent as they are; a load test must see every failure,
        # so nothing is retried.
        assert self.host is not None, "Locust or the locustfile sets the host before users start"
        self.client = GrpcClient(self.host, timeout=self.timeout, retry=NO_RETRY)

    def on_stop(self) -> None:
        self.client.close()

    @task
    def send(self) -> None:
        workload: Workload = self.workload  # type: ignore[assignment]
        batch, context = self.next_request()
        response, exception = None, None
        start_time = time.time()
        start = time.perf_counter()
        try:
            response = self.client.send(workload.grpc_method, batch.grpc_request)
        except ServingClientError as err:
            exception = err
        response_time = (time.perf_counter() - start) * 1000.0
        self.environment.events.request.fire(
            request_type="gRPC",
            name=workload.request_name,
            response_time=response_time,
            response_length=response.ByteSize() if response is not None else 0,
            response=response,
            context=context,
            exception=exception,
            start_time=start_time,
            url=None,
        )


_USERS = {"rest": RestUser, "grpc": GrpcUser, "rest-httpuser": PlainHttpUser}


def user_class(transport: str, timeout: float) -> type[RestUser | PlainHttpUser | GrpcUser]:
    """The concrete user class for a transport ("rest", "grpc" or "rest-httpuser").

    Raises:
        ValueError: an unknown transport.
    """
    if transport not in _USERS:
        raise ValueError(f"transport must be one of {sorted(_USERS)}, not {transport!r}")
    base = _USERS[transport]
    # HttpUser (the baseline) keeps requests' defaults: it only measures the generator.
    timeouts = {
        "grpc": {"timeout": timeout},
        "rest": {"network_timeout": timeout, "connection_timeout": timeout},
    }.get(transport, {})
    return type(base.__name__, (base,), {"abstract": False, "__module__": __name__, **timeouts})
