"""Locust users: REST (a lean keep-alive client), gRPC (clients.GrpcClient), plain HttpUser.

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

from locust import HttpUser, User, task

from clients import rest_json
from clients.errors import ServingClientError
from clients.grpc_client import GrpcClient
from clients.retry import NO_RETRY
from loadtest.grpc_calls import enable_gevent
from loadtest.http_client import Answer, HttpCallError, KeepAliveConnection
from loadtest.pacing import Pacer
from loadtest.payloads import Batch, Workload
from loadtest.timer import PreciseTimer

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
        self._timer = PreciseTimer() if self._pacer is not None else None

    def on_stop(self) -> None:
        if self._timer is not None:
            self._timer.close()

    def wait_time(self) -> float:
        # Paced users wait inside next_request, on a timer more exact than Locust's sleep.
        return 0.0

    def next_request(self) -> tuple[Batch, dict[str, Any]]:
        """The next batch and the request context; paced, first waits for its send time and
        puts in the context how late it is sent (a user still busy with the last call sends
        at once, late)."""
        batch = next(self._batches)
        if self._pacer is None:
            return batch, {}
        assert self._timer is not None  # made with the pacer
        intended = self._pacer.take()
        self._timer.sleep_until(intended)
        lag_ms = (time.perf_counter() - intended) * 1000.0
        return batch, {LAG_KEY: max(0.0, lag_ms)}


class RequestFailed(Exception):
    """A call that was answered, with an error: its status and the server's message."""


def _failure(status: int, content: bytes) -> str:
    message = rest_json.decode_error(content) or content[:200].decode(errors="replace")
    return f"HTTP {status}: {message}"


class RestUser(WorkloadMixin, User):
    """TF Serving's REST API over one keep-alive connection (loadtest.http_client), each
    batch's request serialized once before the run."""

    abstract = True
    timeout: ClassVar[float] = 10.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        assert self.host is not None, "Locust or the locustfile sets the host before users start"
        self.client = KeepAliveConnection(self.host, self.timeout)

    def on_start(self) -> None:
        super().on_start()
        workload: Workload = self.workload  # type: ignore[assignment]
        self._prepared = {
            id(batch): self.client.prepare(
                "GET" if batch.rest_body is None else "POST", workload.rest_path, batch.rest_body
            )
            for batch in workload.batches
        }

    def on_stop(self) -> None:
        super().on_stop()
        self.client.close()

    @task
    def send(self) -> None:
        workload: Workload = self.workload  # type: ignore[assignment]
        batch, context = self.next_request()
        answer: Answer | None = None
        exception: Exception | None = None
        start_time = time.time()
        start = time.perf_counter()
        try:
            answer = self.client.call(self._prepared[id(batch)])
        except HttpCallError as err:
            exception = HttpCallError(f"no answer: {err}")
        response_time = (time.perf_counter() - start) * 1000.0
        if answer is not None and answer.status != 200:
            exception = RequestFailed(_failure(answer.status, answer.body))
        self.environment.events.request.fire(
            request_type="GET" if batch.rest_body is None else "POST",
            name=workload.request_name,
            response_time=response_time,
            response_length=len(answer.body) if answer is not None else 0,
            response=answer,
            context=context,
            exception=exception,
            start_time=start_time,
            url=self.client.base_url + workload.rest_path,
        )


class PlainHttpUser(WorkloadMixin, HttpUser):
    """The same REST requests through Locust's plain HttpUser (requests), for comparison."""

    abstract = True

    @task
    def send(self) -> None:
        workload: Workload = self.workload  # type: ignore[assignment]
        batch, context = self.next_request()
        options: dict[str, Any] = {
            "name": workload.request_name,
            "catch_response": True,
            "context": context,
        }
        if batch.rest_body is None:
            call = self.client.get(workload.rest_path, **options)
        else:
            call = self.client.post(
                workload.rest_path, data=batch.rest_body, headers=JSON_HEADERS, **options
            )
        with call as response:
            if response.status_code == 200:
                response.success()
            elif not response.status_code:
                response.failure(f"no answer: {response.error}")
            else:
                response.failure(_failure(response.status_code, response.content or b""))


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
        super().on_stop()
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
        "rest": {"timeout": timeout},
    }.get(transport, {})
    return type(base.__name__, (base,), {"abstract": False, "__module__": __name__, **timeouts})
