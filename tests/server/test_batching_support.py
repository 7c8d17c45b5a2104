"""Model stand-ins and helpers shared by the batching tests; this module holds no tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import numpy as np

from server.batching import BatchingOptions, BatchScheduler
from server.errors import ServingError

# Safety net only: no test expects to wait anywhere near this long.
WAIT = 10.0


def double(
    inputs: Mapping[str, np.ndarray], deadline: float | None = None
) -> dict[str, np.ndarray]:
    """The model: y = 2x, plus `n`, the batch size it was called with, on every row."""
    rows = len(inputs["x"])
    return {"y": inputs["x"] * 2, "n": np.full(rows, rows)}


class GatedModel:
    """Wraps a run_batch: records every merged batch and can hold the worker inside a call.

    With one worker, holding a blocker batch lets a test queue later tasks in a known
    order, so batch composition is deterministic without any sleeps.
    """

    def __init__(self, fn: Callable[[dict[str, np.ndarray], float | None], Any] = double) -> None:
        self.fn = fn
        self.batches: list[dict[str, np.ndarray]] = []
        self.deadlines: list[float | None] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()

    def __call__(self, inputs: dict[str, np.ndarray], deadline: float | None = None) -> Any:
        with self._lock:
            self.batches.append(inputs)
            self.deadlines.append(deadline)
        self.entered.set()
        if not self.release.wait(WAIT):
            raise RuntimeError("the test never released the gate")
        return self.fn(inputs, deadline)

    def hold(self, scheduler: BatchScheduler, blocker: Mapping[str, Any] | None = None) -> Future:
        """Start a blocker batch and return once the worker is stuck inside it."""
        self.release.clear()
        self.entered.clear()
        future = scheduler.submit(blocker if blocker is not None else {"x": np.zeros(1)})
        assert self.entered.wait(WAIT), "the blocker batch never started"
        return future


@contextmanager
def open_scheduler(
    run_batch: Callable[[dict[str, np.ndarray], float | None], Any] = double,
    on_queue_latency: Callable[[float], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    **options: Any,
) -> Iterator[BatchScheduler]:
    """A scheduler with one worker unless told otherwise; closed (gate opened) on exit."""
    options.setdefault("num_batch_threads", 1)
    scheduler = BatchScheduler(
        run_batch,
        BatchingOptions(**options),
        name="test",
        on_queue_latency=on_queue_latency,
        on_batch=on_batch,
    )
    try:
        yield scheduler
    finally:
        if isinstance(run_batch, GatedModel):
            run_batch.release.set()
        scheduler.close()


def result(future: Future) -> dict[str, np.ndarray]:
    return future.result(timeout=WAIT)


def error_of(future: Future) -> ServingError:
    error = future.exception(timeout=WAIT)
    assert isinstance(error, ServingError), repr(error)
    return error
