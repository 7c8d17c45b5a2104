"""PreciseTimer: a paced user's wait ends at its moment, never before it."""

from __future__ import annotations

import sys
import time

import gevent
import pytest

from loadtest.timer import PreciseTimer


@pytest.fixture
def timer():
    made = PreciseTimer()
    yield made
    made.close()


def test_linux_gets_a_timerfd(timer) -> None:
    assert timer.precise == sys.platform.startswith("linux")


def test_sleep_until_never_returns_before_the_moment(timer) -> None:
    for delay in (0.001, 0.004, 0.0105):
        moment = time.perf_counter() + delay
        timer.sleep_until(moment)
        assert time.perf_counter() >= moment


def test_a_moment_in_the_past_returns_at_once_and_leaves_the_timer_usable(timer) -> None:
    timer.sleep_until(time.perf_counter() - 1.0)
    moment = time.perf_counter() + 0.002
    timer.sleep_until(moment)
    assert time.perf_counter() >= moment


def test_other_greenlets_run_while_one_waits(timer) -> None:
    ran = []
    other = gevent.spawn(ran.append, "other")
    timer.sleep_until(time.perf_counter() + 0.01)
    other.join(timeout=5)
    assert ran == ["other"]


def test_close_falls_back_to_the_loops_sleep(timer) -> None:
    timer.close()
    assert not timer.precise
    moment = time.perf_counter() + 0.002
    timer.sleep_until(moment)
    assert time.perf_counter() >= moment
