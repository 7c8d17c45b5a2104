"""BatchScheduler deadlines: a batch runs with the latest of its tasks' deadlines, none if a
task has none, and not at all when every task's deadline has passed."""

from __future__ import annotations

import time

import numpy as np

from server.errors import Code
from tests.server.test_batching_support import GatedModel, error_of, open_scheduler, result


def test_batch_runs_with_the_latest_task_deadline() -> None:
    model = GatedModel()
    soon, later = time.monotonic() + 600, time.monotonic() + 1200
    with open_scheduler(model, max_batch_size=8) as scheduler:
        blocker = model.hold(scheduler)
        futures = [
            scheduler.submit({"x": np.arange(2)}, deadline=later),
            scheduler.submit({"x": np.arange(3)}, deadline=soon),
        ]
        model.release.set()
        result(blocker)
        assert [result(future)["n"][0] for future in futures] == [5, 5]
    assert model.deadlines == [None, later]


def test_a_task_without_deadline_leaves_the_batch_without_one() -> None:
    model = GatedModel()
    with open_scheduler(model, max_batch_size=8) as scheduler:
        blocker = model.hold(scheduler)
        futures = [
            scheduler.submit({"x": np.arange(2)}, deadline=time.monotonic() + 600),
            scheduler.submit({"x": np.arange(2)}),
        ]
        model.release.set()
        result(blocker)
        for future in futures:
            result(future)
    assert model.deadlines == [None, None]


def test_batch_whose_tasks_are_all_past_their_deadlines_does_not_run() -> None:
    model = GatedModel()
    with open_scheduler(model, max_batch_size=8) as scheduler:
        blocker = model.hold(scheduler)
        past = time.monotonic() - 1
        futures = [scheduler.submit({"x": np.arange(2)}, deadline=past) for _ in range(2)]
        model.release.set()
        result(blocker)
        errors = [error_of(future) for future in futures]
    assert [e.code for e in errors] == [Code.DEADLINE_EXCEEDED] * 2
    assert len(model.batches) == 1  # only the blocker ran
