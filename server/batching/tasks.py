"""The units the scheduler queues: requests, the tasks (pieces) they become, and batches."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future

import numpy as np

from server.batching.tensors import Tensors, concat_pieces
from server.errors import ServingError


class Request:
    """One submit() call: the caller's future and, if split, the outputs of its pieces."""

    def __init__(
        self,
        future: Future[Tensors],
        num_pieces: int,
        submitted_at: float,
        deadline: float | None = None,
    ) -> None:
        self.future = future
        self.submitted_at = submitted_at
        self.deadline = deadline  # time.monotonic() by which the caller wants its answer
        self._pieces: list[Tensors | None] = [None] * num_pieces
        self._remaining = num_pieces
        self._resolved = False
        # Pieces of one split request can finish on different worker threads at once.
        self._lock = threading.Lock()

    def complete_piece(self, index: int, outputs: Tensors) -> None:
        """Record one piece's outputs; resolve the future once every piece has them."""
        with self._lock:
            if self._resolved:
                return
            self._pieces[index] = outputs
            self._remaining -= 1
            if self._remaining:
                return
            self._resolved = True
            pieces = [piece for piece in self._pieces if piece is not None]
            self._pieces = []
        self.future.set_result(concat_pieces(pieces))

    def fail(self, error: ServingError) -> None:
        """Resolve the future with `error` unless it is already resolved."""
        with self._lock:
            if self._resolved:
                return
            self._resolved = True
            self._pieces = []
        self.future.set_exception(error)


@dataclasses.dataclass
class Task:
    """Rows of one request that travel together in one batch."""

    request: Request
    piece: int
    inputs: dict[str, np.ndarray]
    size: int


@dataclasses.dataclass
class Batch:
    """Tasks that will be merged into one model call.

    A batch is open (still accepting tasks) until it is full, a task does not fit, or a
    worker takes it.
    """

    input_names: frozenset[str]
    opened_at: float
    tasks: list[Task] = dataclasses.field(default_factory=list)
    size: int = 0
    closed: bool = False

    def add(self, task: Task, capacity: int) -> None:
        self.tasks.append(task)
        self.size += task.size
        if self.size >= capacity:
            self.closed = True

    def deadline(self) -> float | None:
        """The latest of the tasks' deadlines (TF Serving runs a batch with the largest
        timeout of its tasks); None when any task has none."""
        deadlines = [task.request.deadline for task in self.tasks]
        if any(d is None for d in deadlines):
            return None
        return max(d for d in deadlines if d is not None)

    def fail(self, error: ServingError) -> None:
        """Fail every task's request with its own copy of `error`, chained to the original.

        Copies keep concurrent callers from re-raising (and so mutating) one exception object.
        """
        for task in self.tasks:
            copy = ServingError(error.code, error.message)
            copy.__cause__ = error
            task.request.fail(copy)
