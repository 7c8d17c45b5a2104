"""Deadlines and bounded retries with exponential backoff and full jitter, for idempotent calls.

Only ServerUnavailableError is retried: the server was not reached, or said it could not take
the request now (UNAVAILABLE, 503). Every attempt and every wait fits in the call's deadline.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from clients.errors import DeadlineExceededError, ServerUnavailableError

__all__ = ["NO_RETRY", "RetryPolicy", "RetrySchedule", "call_with_retries", "deadline_after"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """At most max_attempts tries; before try n+1 wait uniform(0, min(max_backoff, initial * 2**n)).

    Raises:
        ValueError: if max_attempts < 1 or a backoff is negative.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoffs cannot be negative")

    def backoff_cap(self, retry: int) -> float:
        """The longest wait before retry number `retry` (0 for the first retry)."""
        return min(self.max_backoff, self.initial_backoff * self.multiplier**retry)


NO_RETRY = RetryPolicy(max_attempts=1)


def deadline_after(timeout: float, clock: Clock = time.monotonic) -> float:
    """The clock time `timeout` seconds from now.

    Raises:
        ValueError: if timeout is not a positive number.
    """
    if not timeout > 0:
        raise ValueError(f"a timeout must be a positive number of seconds, not {timeout!r}")
    return clock() + timeout


class RetrySchedule:
    """The attempts of one call: the time left for each, and the wait before the next."""

    def __init__(
        self,
        policy: RetryPolicy,
        deadline: float,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.policy, self.deadline, self.clock, self.rng = policy, deadline, clock, rng
        self.attempts = 0

    def remaining(self) -> float:
        """Seconds until the deadline, counting the start of an attempt.

        Raises:
            DeadlineExceededError: if the deadline has already passed.
        """
        left = self.deadline - self.clock()
        if left <= 0:
            raise DeadlineExceededError("the deadline passed before the request was sent")
        self.attempts += 1
        return left

    def wait_before_retry(self, error: Exception) -> float | None:
        """Seconds to wait before retrying after error, or None to give up and raise it."""
        if not isinstance(error, ServerUnavailableError):
            return None
        if self.attempts >= self.policy.max_attempts:
            return None
        delay = self.rng() * self.policy.backoff_cap(self.attempts - 1)
        if self.clock() + delay >= self.deadline:
            return None
        log.debug("attempt %d failed (%s); retrying in %.3fs", self.attempts, error, delay)
        return delay


def call_with_retries(
    attempt: Callable[[float], T],
    policy: RetryPolicy,
    deadline: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = time.monotonic,
    rng: Callable[[], float] = random.random,
) -> T:
    """attempt(seconds_left) until it succeeds, raises an error not worth retrying, or time is up.

    Raises:
        ServingClientError: the last attempt's error, or DeadlineExceededError if the
            deadline passed before an attempt.
    """
    schedule = RetrySchedule(policy, deadline, clock, rng)
    while True:
        try:
            return attempt(schedule.remaining())
        except ServerUnavailableError as err:
            delay = schedule.wait_before_retry(err)
            if delay is None:
                raise
        sleep(delay)


async def async_call_with_retries(
    attempt: Callable[[float], Awaitable[T]], policy: RetryPolicy, deadline: float
) -> T:
    """call_with_retries for coroutines, waiting with asyncio.sleep.

    Raises:
        ServingClientError: as call_with_retries.
    """
    import asyncio  # here, not at the top: only the asyncio client pays for importing it

    schedule = RetrySchedule(policy, deadline)
    while True:
        try:
            return await attempt(schedule.remaining())
        except ServerUnavailableError as err:
            delay = schedule.wait_before_retry(err)
            if delay is None:
                raise
        await asyncio.sleep(delay)
