"""Sleep until an exact moment in a gevent greenlet: a Linux timerfd, not the loop's timers.

gevent's event loop (libev on epoll) rounds every timer up to the next whole millisecond, so
`gevent.sleep` wakes a paced user 0-1 ms late (about 0.5 ms at the median), and in an open-loop
run that lateness is counted in every request's latency. A timerfd armed for the intended
moment (CLOCK_MONOTONIC, the clock of time.perf_counter on Linux) becomes readable within
microseconds of it, and the greenlet waits for it like for a socket, so other greenlets run
meanwhile. Where timerfd is missing (not Linux), `gevent.sleep` is used.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import time

import gevent
from gevent.socket import wait_read

__all__ = ["PreciseTimer"]

_CLOCK_MONOTONIC = 1
_TFD_TIMER_ABSTIME = 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.timerfd_settime.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(_Itimerspec),
            ctypes.c_void_p,
        ]
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


class PreciseTimer:
    """One greenlet's timer: `sleep_until(t)` returns at perf_counter time t, not later by a
    millisecond. Close it when the greenlet is done (it holds a file descriptor)."""

    def __init__(self) -> None:
        self._fd = -1
        if _LIBC is not None:
            self._fd = _LIBC.timerfd_create(_CLOCK_MONOTONIC, os.O_NONBLOCK | os.O_CLOEXEC)

    @property
    def precise(self) -> bool:
        """Whether a timerfd backs this timer (else it falls back to gevent.sleep)."""
        return self._fd >= 0

    def sleep_until(self, moment: float) -> None:
        """Block this greenlet until time.perf_counter() >= moment (at once if it has passed).

        Raises:
            OSError: the kernel refused to arm the timer.
        """
        remaining = moment - time.perf_counter()
        if remaining <= 0:
            return
        if self._fd < 0 or _LIBC is None:
            while remaining > 0:  # the loop's cached clock can end a sleep a little early
                gevent.sleep(remaining)
                remaining = moment - time.perf_counter()
            return
        seconds = int(moment)
        spec = _Itimerspec()
        spec.it_value.tv_sec = seconds
        spec.it_value.tv_nsec = int((moment - seconds) * 1e9)
        if _LIBC.timerfd_settime(self._fd, _TFD_TIMER_ABSTIME, ctypes.byref(spec), None) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"timerfd_settime: {os.strerror(errno)}")
        wait_read(self._fd)
        with contextlib.suppress(BlockingIOError):
            os.read(self._fd, 8)  # the expiration count: reading it disarms the readiness

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
