"""BatchScheduler: how tasks form batches, come back to their callers, and shut down."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from server.errors import Code, ServingError
from tests.server.test_batching_support import (
    WAIT,
    GatedModel,
    double,
    error_of,
    open_scheduler,
    result,
)


def test_single_request_round_trip() -> None:
    with open_scheduler() as scheduler:
        outputs = scheduler.run({"x": np.array([[1.0, 2.0], [3.0, 4.0]])}, timeout=WAIT)
    np.testing.assert_array_equal(outputs["y"], [[2.0, 4.0], [6.0, 8.0]])
    np.testing.assert_array_equal(outputs["n"], [2, 2])


def test_queued_tasks_are_concatenated_and_split_back() -> None:
    model = GatedModel()
    inputs = [np.arange(size) + 100 * size for size in (1, 3, 2)]
    with open_scheduler(model, max_batch_size=16) as scheduler:
        blocker = model.hold(scheduler)
        futures = [scheduler.submit({"x": x}) for x in inputs]
        model.release.set()
        result(blocker)
        outputs = [result(future) for future in futures]
    for x, out in zip(inputs, outputs, strict=True):
        np.testing.assert_array_equal(out["y"], x * 2)
        np.testing.assert_array_equal(out["n"], [6] * len(x))
    np.testing.assert_array_equal(model.batches[1]["x"], np.concatenate(inputs))


def test_task_that_does_not_fit_closes_the_batch() -> None:
    model = GatedModel()
    with open_scheduler(model, max_batch_size=4) as scheduler:
        model.hold(scheduler)
        futures = [scheduler.submit({"x": np.arange(size)}) for size in (3, 2, 2)]
        model.release.set()
        sizes = [result(future)["n"][0] for future in futures]
    assert sizes == [3, 4, 4]


def test_concurrent_callers_fill_one_batch_that_runs_before_its_timeout() -> None:
    # The batch must run the moment it is full, not after the 60 s timeout.
    callers = 8
    barrier = threading.Barrier(callers)
    with open_scheduler(max_batch_size=callers, batch_timeout_micros=60_000_000) as scheduler:

        def call(index: int) -> dict[str, np.ndarray]:
            barrier.wait(WAIT)
            return scheduler.run({"x": np.array([index])}, timeout=WAIT)

        with ThreadPoolExecutor(callers) as pool:
            outputs = list(pool.map(call, range(callers)))
    assert [out["y"][0] for out in outputs] == [2 * index for index in range(callers)]
    assert {out["n"][0] for out in outputs} == {callers}


def test_lone_task_runs_without_waiting_for_company() -> None:
    # With timeout 0 a partial batch must not wait to fill up.
    with open_scheduler(max_batch_size=1000, batch_timeout_micros=0) as scheduler:
        assert scheduler.run({"x": np.array([1])}, timeout=WAIT)["n"][0] == 1


def test_partial_batch_waits_for_company_until_its_timeout() -> None:
    # Three quick submits land in one batch that runs once the 0.5 s timeout expires.
    with open_scheduler(max_batch_size=100, batch_timeout_micros=500_000) as scheduler:
        futures = [scheduler.submit({"x": np.array([value])}) for value in (1, 2, 3)]
        outputs = [result(future) for future in futures]
    assert [out["n"][0] for out in outputs] == [3, 3, 3]


def test_batch_threads_run_batches_concurrently() -> None:
    # Each batch waits inside the model until both are in it: one worker would deadlock.
    both_running = threading.Barrier(2)

    def wait_for_partner(
        inputs: dict[str, np.ndarray], deadline: float | None = None
    ) -> dict[str, np.ndarray]:
        both_running.wait(WAIT)
        return double(inputs)

    with open_scheduler(wait_for_partner, max_batch_size=1, num_batch_threads=2) as scheduler:
        futures = [scheduler.submit({"x": np.array([value])}) for value in (1, 2)]
        assert [result(future)["y"][0] for future in futures] == [2, 4]


def test_many_threads_get_exactly_their_own_rows() -> None:
    batch_sizes: list[int] = []
    callers, rounds = 64, 5
    barrier = threading.Barrier(callers)
    with open_scheduler(
        on_batch=lambda size, padded: batch_sizes.append(size),
        max_batch_size=32,
        batch_timeout_micros=2000,
        num_batch_threads=4,
        max_enqueued_batches=1000,
    ) as scheduler:

        def call(caller: int) -> list[bool]:
            barrier.wait(WAIT)
            matches = []
            for round_ in range(rounds):
                x = np.full((1 + (caller + round_) % 4, 2), caller * 1000 + round_)
                matches.append(np.array_equal(scheduler.run({"x": x}, timeout=WAIT)["y"], x * 2))
            return matches

        with ThreadPoolExecutor(callers) as pool:
            matches = [
                match for per_caller in pool.map(call, range(callers)) for match in per_caller
            ]
    assert len(matches) == callers * rounds and all(matches)
    assert sum(batch_sizes) == sum(1 + (c + r) % 4 for c in range(callers) for r in range(rounds))


def test_large_task_is_split_across_batches_and_reassembled() -> None:
    model = GatedModel()
    options = {"max_batch_size": 10, "enable_large_batch_splitting": True}
    with open_scheduler(model, max_execution_batch_size=4, **options) as scheduler:
        model.hold(scheduler)
        small = scheduler.submit({"x": np.arange(3)})
        large = scheduler.submit({"x": np.arange(7) + 10})
        model.release.set()
        small_out, large_out = result(small), result(large)
    # The large task tops up the open batch (3 + 1), then fills 4 and 2.
    assert [len(batch["x"]) for batch in model.batches[1:]] == [4, 4, 2]
    np.testing.assert_array_equal(small_out["y"], np.arange(3) * 2)
    np.testing.assert_array_equal(large_out["y"], (np.arange(7) + 10) * 2)
    np.testing.assert_array_equal(large_out["n"], [4, 4, 4, 4, 4, 2, 2])


def test_hooks_report_each_task_and_batch() -> None:
    model = GatedModel()
    latencies: list[float] = []
    batches: list[tuple[int, int]] = []
    with open_scheduler(
        model,
        on_queue_latency=latencies.append,
        on_batch=lambda size, padded: batches.append((size, padded)),
        max_batch_size=8,
        allowed_batch_sizes=(4, 8),
    ) as scheduler:
        model.hold(scheduler)
        futures = [scheduler.submit({"x": np.arange(size)}) for size in (2, 3)]
        model.release.set()
        for future in futures:
            result(future)
    assert batches == [(1, 4), (5, 8)]
    assert len(latencies) == 3 and all(latency >= 0 for latency in latencies)


def test_failing_hook_does_not_fail_the_batch() -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("metrics backend down")

    with open_scheduler(on_queue_latency=broken, on_batch=broken) as scheduler:
        assert scheduler.run({"x": np.array([3])}, timeout=WAIT)["y"][0] == 6


def test_close_drains_queued_tasks_then_refuses_new_ones() -> None:
    model = GatedModel()
    with open_scheduler(model, max_batch_size=1) as scheduler:
        model.hold(scheduler)
        queued = [scheduler.submit({"x": np.array([value])}) for value in (1, 2)]
        closer = threading.Thread(target=scheduler.close)
        closer.start()
        model.release.set()
        closer.join(WAIT)
        assert not closer.is_alive()
        assert [result(future)["y"][0] for future in queued] == [2, 4]
        refused = error_of(scheduler.submit({"x": np.array([3])}))
    assert refused.code == Code.UNAVAILABLE


def test_close_without_drain_fails_queued_tasks_unavailable() -> None:
    model = GatedModel()
    with open_scheduler(model) as scheduler:
        blocker = model.hold(scheduler)
        queued = scheduler.submit({"x": np.array([1])})
        closer = threading.Thread(target=scheduler.close, kwargs={"drain": False})
        closer.start()
        assert error_of(queued).code == Code.UNAVAILABLE
        model.release.set()
        closer.join(WAIT)
        assert not closer.is_alive()
        assert result(blocker)["y"][0] == 0
    assert len(model.batches) == 1


def test_run_past_its_deadline_gives_deadline_exceeded() -> None:
    model = GatedModel()
    with open_scheduler(model) as scheduler:
        model.hold(scheduler)
        with pytest.raises(ServingError) as caught:
            scheduler.run({"x": np.array([1])}, timeout=0.01)
    assert caught.value.code == Code.DEADLINE_EXCEEDED
