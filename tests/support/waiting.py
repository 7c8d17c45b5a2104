"""Polling for a condition that a server or a background thread makes true, within a bound."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = 60.0, interval: float = 0.2
) -> None:
    """Return once condition() is true; fail the test naming `what` after `timeout` seconds.

    The bound is generous: it catches a hang, not a slow machine.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(interval)
