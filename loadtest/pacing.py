"""Open loop: a fixed send schedule per user.

Locust's constant_throughput(r) waits 1/r minus the last task's duration, restarting its clock
after every task: when a call stalls, the sends it held up are never made and the stall is
recorded once, so the percentiles hide it (coordinated omission). Pacer keeps a fixed schedule
at the same rate instead: a late user sends at once until it is back on schedule, and each
request's latency is measured from when it should have been sent, as wrk2 does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

__all__ = ["Pacer"]


class Pacer:
    """The intended send times of one user sending `rate` requests per second.

    The first send is at a random phase within one interval, so users started together do
    not send in bursts.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.perf_counter) -> None:
        if rate <= 0:
            raise ValueError(f"a paced rate must be positive, not {rate}")
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = clock() + random.uniform(0.0, self.interval)

    def take(self) -> float:
        """The next intended send time (perf_counter seconds); moves the schedule on."""
        intended = self._next
        self._next += self.interval
        return intended
