"""BatchScheduler: merges concurrent requests for one signature into batched model calls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from server.batching.batch_queue import BatchQueue
from server.batching.options import BatchingOptions
from server.batching.tasks import Batch
from server.batching.tensors import (
    Tensors,
    as_tensors,
    merge_inputs,
    padded_batch_size,
    split_outputs,
    task_size,
)
from server.errors import Code, ServingError, invalid_argument, unavailable

logger = logging.getLogger(__name__)

# run_batch(merged inputs, the batch's deadline as a time.monotonic() value or None)
RunBatch = Callable[[Tensors, float | None], Mapping[str, Any]]


class BatchScheduler:
    """One queue of batches and `num_batch_threads` workers running them (contract section 4).

    Keep one scheduler per signature of one model version. `run_batch(inputs, deadline)` runs
    one merged batch; `deadline` is the latest of its tasks' deadlines (None when any task has
    none), as TF Serving runs a batch with the largest timeout among its tasks. `on_queue_latency(seconds)` is
    called for every task when its batch starts; `on_batch(batch_size, padded_size)` once
    per batch. Hook failures are logged and otherwise ignored.
    """

    def __init__(
        self,
        run_batch: RunBatch,
        options: BatchingOptions,
        name: str = "",
        on_queue_latency: Callable[[float], None] | None = None,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        """Validate `options` and start the worker threads.

        Raises:
            ServingError: INVALID_ARGUMENT if `options.validate()` fails.
        """
        options.validate()
        self._run_batch = run_batch
        self._options = options
        self._name = name
        self._on_queue_latency = on_queue_latency
        self._on_batch = on_batch
        self._cond = threading.Condition()
        self._queue = BatchQueue(
            capacity=options.execution_batch_size,
            max_enqueued_batches=options.max_enqueued_batches,
            split_large_tasks=options.enable_large_batch_splitting,
            timeout_seconds=options.batch_timeout_micros / 1e6,
        )
        self._closed = False
        prefix = f"{options.thread_pool_name}_{name}" if name else options.thread_pool_name
        self._workers = [
            threading.Thread(target=self._work, name=f"{prefix}_{i}", daemon=True)
            for i in range(options.num_batch_threads)
        ]
        for worker in self._workers:
            worker.start()

    @property
    def options(self) -> BatchingOptions:
        return self._options

    def submit(self, inputs: Mapping[str, Any], deadline: float | None = None) -> Future[Tensors]:
        """Queue one request; the future resolves to its own rows of every output.

        `deadline` (a time.monotonic() value) bounds the batch's run; a batch whose tasks are
        all past their deadlines when it starts fails with DEADLINE_EXCEEDED without running.

        Rejections (bad shapes, too large, queue full, closed) come back as a future that
        already holds the ServingError, so callers have one place to handle errors. The
        future cannot be cancelled. Do not mutate the input arrays until it resolves.
        """
        future: Future[Tensors] = Future()
        future.set_running_or_notify_cancel()
        try:
            self._enqueue(future, inputs, deadline)
        except ServingError as err:
            future.set_exception(err)
        return future

    def run(
        self,
        inputs: Mapping[str, Any],
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> Tensors:
        """Submit and wait for the outputs (at most `timeout` seconds).

        Raises:
            ServingError: whatever the request failed with; DEADLINE_EXCEEDED if `timeout`
                seconds pass first (the task still runs, its result is discarded).
        """
        future = self.submit(inputs, deadline)
        try:
            return future.result(timeout)
        except TimeoutError as err:
            raise ServingError(
                Code.DEADLINE_EXCEEDED, f"Batched run did not finish within {timeout} s"
            ) from err

    def close(self, drain: bool = True) -> None:
        """Refuse new tasks, run (or, without `drain`, fail) queued ones and stop the workers.

        Tasks that are not run fail with UNAVAILABLE.
        """
        with self._cond:
            self._closed = True
            abandoned = [] if drain else self._queue.clear()
            self._cond.notify_all()
        for batch in abandoned:
            batch.fail(unavailable(f"Batch scheduler {self._name!r} closed before the task ran"))
        current = threading.current_thread()
        for worker in self._workers:
            if worker is not current:
                worker.join()

    def __enter__(self) -> BatchScheduler:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _enqueue(
        self, future: Future[Tensors], inputs: Mapping[str, Any], deadline: float | None
    ) -> None:
        tensors = as_tensors(inputs)
        size = task_size(tensors)
        if size > self._options.max_batch_size:
            raise invalid_argument(
                f"Task size {size} is larger than maximum batch size {self._options.max_batch_size}"
            )
        now = time.monotonic()
        with self._cond:
            if self._closed:
                raise unavailable(f"Batch scheduler {self._name!r} is closed")
            self._queue.add(future, tensors, size, now, deadline)
            self._cond.notify()

    def _work(self) -> None:
        while True:
            with self._cond:
                batch = self._next_batch()
            if batch is None:
                return
            self._process(batch)

    def _next_batch(self) -> Batch | None:
        """Wait (holding the condition) for a batch that is ready; None once closed and empty."""
        while True:
            batch, wait = self._queue.take(time.monotonic(), flush=self._closed)
            if batch is not None:
                if len(self._queue):
                    # Hand the rest to another idle worker so batches run concurrently.
                    self._cond.notify()
                return batch
            if wait is None and self._closed:
                return None
            self._cond.wait(wait)

    def _process(self, batch: Batch) -> None:
        started = time.monotonic()
        for task in batch.tasks:
            self._call_hook(self._on_queue_latency, started - task.request.submitted_at)
        deadline = batch.deadline()
        if deadline is not None and deadline <= started:
            batch.fail(ServingError(Code.DEADLINE_EXCEEDED, "timeout exceeded"))
            return
        padded = padded_batch_size(batch.size, self._options.allowed_batch_sizes)
        self._call_hook(self._on_batch, batch.size, padded)
        try:
            merged = merge_inputs(
                [task.inputs for task in batch.tasks],
                padded,
                self._options.pad_variable_length_inputs,
            )
            outputs = split_outputs(
                self._run_batch(merged, deadline), [task.size for task in batch.tasks], padded
            )
        except ServingError as err:
            batch.fail(err)
            return
        except Exception as err:  # any model failure must reach every caller
            error = ServingError(Code.INTERNAL, str(err) or type(err).__name__)
            error.__cause__ = err
            batch.fail(error)
            return
        for task, task_outputs in zip(batch.tasks, outputs, strict=True):
            task.request.complete_piece(task.piece, task_outputs)

    @staticmethod
    def _call_hook(hook: Callable[..., None] | None, *args: float) -> None:
        if hook is None:
            return
        try:
            hook(*args)
        except Exception:
            logger.exception("Batching hook %r failed", hook)
