"""clients.retry with a fake clock: which errors are retried, backoff with full jitter, bounds."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from clients.errors import (
    DeadlineExceededError,
    InvalidInputError,
    ServerUnavailableError,
    ServingClientError,
)
from clients.retry import NO_RETRY, RetryPolicy, async_call_with_retries, call_with_retries


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FailingCall:
    """Raises the given errors in turn, then returns "ok"; records the time each attempt had."""

    def __init__(self, clock: FakeClock, errors: list[ServingClientError], cost: float = 0.0):
        self.clock, self.errors, self.cost = clock, list(errors), cost
        self.time_left: list[float] = []

    def __call__(self, seconds_left: float) -> str:
        self.time_left.append(seconds_left)
        self.clock.now += self.cost
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def run(call, policy, clock, timeout=10.0, rng=lambda: 1.0):
    return call_with_retries(call, policy, clock() + timeout, clock.sleep, clock, rng)


def unavailable(n: int) -> list[ServingClientError]:
    return [ServerUnavailableError(f"down {i}", "UNAVAILABLE") for i in range(n)]


def test_unavailable_is_retried_with_exponential_backoff_up_to_the_cap() -> None:
    clock = FakeClock()
    call = FailingCall(clock, unavailable(4))
    policy = RetryPolicy(max_attempts=5, initial_backoff=0.1, max_backoff=0.3)
    assert run(call, policy, clock) == "ok"
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.3, 0.3])
    assert call.time_left == pytest.approx([10.0, 9.9, 9.7, 9.4, 9.1])


def test_full_jitter_waits_a_random_part_of_the_cap() -> None:
    clock = FakeClock()
    draws = random.Random(7)
    policy = RetryPolicy(max_attempts=6, initial_backoff=0.1, max_backoff=10)
    run(FailingCall(clock, unavailable(5)), policy, clock, rng=draws.random)
    caps = [0.1, 0.2, 0.4, 0.8, 1.6]
    assert all(0 <= wait <= cap for wait, cap in zip(clock.sleeps, caps, strict=True))
    assert len(set(clock.sleeps)) == 5
    assert clock.sleeps != pytest.approx(caps)


def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    clock = FakeClock()
    errors = unavailable(10)
    call = FailingCall(clock, errors)
    with pytest.raises(ServerUnavailableError, match="down 2"):
        run(call, RetryPolicy(max_attempts=3), clock)
    assert len(call.time_left) == 3 and len(clock.sleeps) == 2


def test_retries_stop_before_a_wait_would_pass_the_deadline() -> None:
    clock = FakeClock()
    call = FailingCall(clock, unavailable(10), cost=0.05)
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.1, max_backoff=1.0)
    with pytest.raises(ServerUnavailableError):
        run(call, policy, clock, timeout=0.5)
    # attempt at 0, wait 0.1, attempt at 0.15, wait 0.2, attempt at 0.4; a wait of 0.4 is too long
    assert call.time_left == pytest.approx([0.5, 0.35, 0.1])
    assert clock.now - 1000.0 < 0.5


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(InvalidInputError("bad", "INVALID_ARGUMENT"), id="invalid-input"),
        pytest.param(DeadlineExceededError("slow", "DEADLINE_EXCEEDED"), id="deadline"),
        pytest.param(ServingClientError("denied", "PERMISSION_DENIED"), id="other"),
    ],
)
def test_other_errors_are_not_retried(error: ServingClientError) -> None:
    clock = FakeClock()
    call = FailingCall(clock, [error])
    with pytest.raises(type(error)):
        run(call, RetryPolicy(max_attempts=5), clock)
    assert len(call.time_left) == 1 and clock.sleeps == []


def test_no_retry_policy_tries_once() -> None:
    clock = FakeClock()
    call = FailingCall(clock, unavailable(1))
    with pytest.raises(ServerUnavailableError):
        run(call, NO_RETRY, clock)
    assert len(call.time_left) == 1


def test_a_passed_deadline_sends_nothing() -> None:
    clock = FakeClock()
    call = FailingCall(clock, [])
    with pytest.raises(DeadlineExceededError):
        call_with_retries(call, RetryPolicy(), clock() - 1, clock.sleep, clock)
    assert call.time_left == []


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(initial_backoff=-1)


def test_async_retries_until_success() -> None:
    failures = unavailable(2)
    attempts: list[float] = []

    async def attempt(seconds_left: float) -> str:
        attempts.append(seconds_left)
        if failures:
            raise failures.pop(0)
        return "ok"

    policy = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)
    result = asyncio.run(async_call_with_retries(attempt, policy, time.monotonic() + 5))
    assert result == "ok" and len(attempts) == 3
