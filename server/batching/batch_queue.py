"""BatchQueue: the batches of one scheduler waiting for a worker, and how tasks join them."""

from __future__ import annotations

import collections
from concurrent.futures import Future

from server.batching.tasks import Batch, Request, Task
from server.batching.tensors import Tensors, slice_rows
from server.errors import unavailable

QUEUE_FULL = "The batch scheduling queue to which this task was submitted is full"


class BatchQueue:
    """Batches not yet taken by a worker, oldest first; only the newest may still be open.

    Not thread-safe on its own: the scheduler holds its condition around every call.
    """

    def __init__(
        self,
        capacity: int,
        max_enqueued_batches: int,
        split_large_tasks: bool,
        timeout_seconds: float,
    ) -> None:
        self._capacity = capacity
        self._max_enqueued_batches = max_enqueued_batches
        self._split_large_tasks = split_large_tasks
        self._timeout = timeout_seconds
        self._batches: collections.deque[Batch] = collections.deque()

    def __len__(self) -> int:
        return len(self._batches)

    def add(
        self,
        future: Future[Tensors],
        tensors: Tensors,
        size: int,
        now: float,
        deadline: float | None = None,
    ) -> None:
        """Append one request's rows to the open batch, opening new batches as needed.

        Raises:
            ServingError: UNAVAILABLE if that would need more than `max_enqueued_batches`
                waiting batches.
        """
        names = frozenset(tensors)
        pieces, new_batches = self._plan(size, self._open_batch(names))
        if new_batches and len(self._batches) + new_batches > self._max_enqueued_batches:
            raise unavailable(QUEUE_FULL)
        request = Request(future, len(pieces), now, deadline)
        start = 0
        for index, piece in enumerate(pieces):
            rows = tensors if piece == size else slice_rows(tensors, start, start + piece)
            task = Task(request, index, rows, piece)
            start += piece
            self._batch_for(task, names, now).add(task, self._capacity)

    def take(self, now: float, flush: bool) -> tuple[Batch | None, float | None]:
        """Remove and return the oldest batch if it is ready to run.

        A batch is ready when it is closed, when the timeout since its first task has
        passed, or when `flush` is set. Otherwise returns (None, seconds until it will be
        ready), or (None, None) if there is no batch at all.
        """
        if not self._batches:
            return None, None
        front = self._batches[0]
        wait = 0.0
        if not (front.closed or flush or self._timeout == 0):
            wait = front.opened_at + self._timeout - now
        if wait > 0:
            return None, wait
        self._batches.popleft()
        front.closed = True
        return front, None

    def clear(self) -> list[Batch]:
        """Remove and return every waiting batch."""
        batches = list(self._batches)
        self._batches.clear()
        return batches

    def _open_batch(self, names: frozenset[str]) -> Batch | None:
        """The batch a task with these input names may still join, if any."""
        last = self._batches[-1] if self._batches else None
        if last is None or last.closed or last.input_names != names:
            return None
        return last

    def _plan(self, size: int, open_batch: Batch | None) -> tuple[list[int], int]:
        """Return the piece sizes a task becomes and how many new batches they open."""
        room = self._capacity - open_batch.size if open_batch else 0
        if open_batch and size <= room:
            return [size], 0
        if not self._split_large_tasks:
            return [size], 1
        # Like TF's SplitInputTask: top up the open batch, then fill whole new batches.
        pieces = [room] if room else []
        remaining = size - room
        while remaining > 0 or not pieces:
            pieces.append(min(remaining, self._capacity))
            remaining -= pieces[-1]
        return pieces, len(pieces) - (1 if room else 0)

    def _batch_for(self, task: Task, names: frozenset[str], now: float) -> Batch:
        """The open batch if the task fits there, else a new batch (closing the old one)."""
        last = self._open_batch(names)
        if last is not None and last.size + task.size <= self._capacity:
            return last
        if self._batches:
            self._batches[-1].closed = True
        batch = Batch(names, now)
        self._batches.append(batch)
        return batch
