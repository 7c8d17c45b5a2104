"""BatchScheduler errors: rejected tasks, a full queue, and failures of the batched run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from server.batching import QUEUE_FULL
from server.errors import Code, ServingError
from tests.server.test_batching_support import WAIT, GatedModel, error_of, open_scheduler, result


@pytest.mark.parametrize(
    ("inputs", "code", "message"),
    [
        pytest.param(
            {"x": np.zeros(5)},
            Code.INVALID_ARGUMENT,
            "Task size 5 is larger than maximum batch size 4",
            id="task-too-large",
        ),
        pytest.param(
            {"x": np.zeros(2), "z": np.zeros((3, 2))},
            Code.INVALID_ARGUMENT,
            "Batching Run() input tensors must have equal 0th-dimension size",
            id="unequal-dim0",
        ),
        pytest.param(
            {"x": np.float32(1.0)},
            Code.INVALID_ARGUMENT,
            "Batching Run() input tensors must have at least one dimension",
            id="scalar",
        ),
        pytest.param(
            {"x": np.zeros(2), "z": np.array(7)},
            Code.INVALID_ARGUMENT,
            "Batching Run() input tensors must have at least one dimension",
            id="scalar-after-batched-input",
        ),
        pytest.param(
            {},
            Code.INVALID_ARGUMENT,
            "Batching Run() must have at least one input tensor",
            id="no-inputs",
        ),
    ],
)
def test_bad_task_is_rejected_at_submit(inputs: dict[str, Any], code: Code, message: str) -> None:
    model = GatedModel()
    with open_scheduler(model, max_batch_size=4) as scheduler:
        error = error_of(scheduler.submit(inputs))
    assert (error.code, error.message) == (code, message)
    assert model.batches == []


def test_large_task_splitting_still_caps_task_size_at_max_batch_size() -> None:
    options = {"enable_large_batch_splitting": True, "max_execution_batch_size": 2}
    with open_scheduler(max_batch_size=4, **options) as scheduler:
        error = error_of(scheduler.submit({"x": np.zeros(5)}))
    assert error.message == "Task size 5 is larger than maximum batch size 4"


def test_full_queue_rejects_tasks_that_need_a_new_batch() -> None:
    model = GatedModel()
    with open_scheduler(model, max_batch_size=2, max_enqueued_batches=2) as scheduler:
        model.hold(scheduler)
        accepted = [scheduler.submit({"x": np.array([value])}) for value in (1, 2, 3, 4)]
        rejected = scheduler.submit({"x": np.array([5])})
        error = error_of(rejected)
        model.release.set()
        values = [result(future)["y"][0] for future in accepted]
    assert (error.code, error.message) == (Code.UNAVAILABLE, QUEUE_FULL)
    assert values == [2, 4, 6, 8]


def test_full_queue_still_takes_a_task_that_fits_the_open_batch() -> None:
    model = GatedModel()
    with open_scheduler(model, max_batch_size=3, max_enqueued_batches=1) as scheduler:
        model.hold(scheduler)
        first = scheduler.submit({"x": np.array([1])})
        too_big_for_room = scheduler.submit({"x": np.array([2, 3, 4])})
        fits = scheduler.submit({"x": np.array([5, 6])})
        assert error_of(too_big_for_room).message == QUEUE_FULL
        model.release.set()
        assert result(first)["n"][0] == 3
        np.testing.assert_array_equal(result(fits)["y"], [10, 12])


def test_split_task_needing_too_many_batches_is_rejected_whole() -> None:
    model = GatedModel()
    options = {"enable_large_batch_splitting": True, "max_execution_batch_size": 2}
    with open_scheduler(model, max_batch_size=8, max_enqueued_batches=2, **options) as scheduler:
        model.hold(scheduler)
        error = error_of(scheduler.submit({"x": np.arange(5)}))
        model.release.set()
    assert error.message == QUEUE_FULL
    assert len(model.batches) == 1


def _wrong_rows(
    inputs: dict[str, np.ndarray], deadline: float | None = None
) -> dict[str, np.ndarray]:
    return {"y": inputs["x"] * 2, "short": inputs["x"][:-1]}


def _raise_value_error(
    inputs: dict[str, np.ndarray], deadline: float | None = None
) -> dict[str, np.ndarray]:
    raise ValueError("matmul: shapes (3, 4) and (5, 6) not aligned")


def _raise_serving_error(
    inputs: dict[str, np.ndarray], deadline: float | None = None
) -> dict[str, np.ndarray]:
    raise ServingError(Code.RESOURCE_EXHAUSTED, "OOM when allocating tensor")


@pytest.mark.parametrize(
    ("run_batch", "code", "message_parts"),
    [
        pytest.param(
            _wrong_rows,
            Code.FAILED_PRECONDITION,
            ("'short'", "size 2", "batch size 3"),
            id="output-dim0-mismatch",
        ),
        pytest.param(
            lambda inputs, deadline=None: {"scalar": np.float32(1.0)},
            Code.FAILED_PRECONDITION,
            ("'scalar'", "0 dimensions"),
            id="scalar-output",
        ),
        pytest.param(
            lambda inputs, deadline=None: [inputs["x"]],
            Code.INTERNAL,
            ("list",),
            id="not-a-mapping",
        ),
        pytest.param(
            _raise_value_error,
            Code.INTERNAL,
            ("matmul: shapes (3, 4) and (5, 6) not aligned",),
            id="exception-wrapped-as-internal",
        ),
        pytest.param(
            _raise_serving_error,
            Code.RESOURCE_EXHAUSTED,
            ("OOM when allocating tensor",),
            id="serving-error-passed-through",
        ),
    ],
)
def test_failed_batch_fails_every_task_in_it(
    run_batch: Any, code: Code, message_parts: tuple[str, ...]
) -> None:
    model = GatedModel(run_batch)
    with open_scheduler(model, max_batch_size=8) as scheduler:
        model.hold(scheduler)
        futures = [scheduler.submit({"x": np.arange(size)}) for size in (1, 2)]
        model.release.set()
        errors = [error_of(future) for future in futures]
    assert len(model.batches[1]["x"]) == 3
    for error in errors:
        assert error.code == code
        for part in message_parts:
            assert part in error.message
    assert errors[0] is not errors[1]
    assert errors[0].message == errors[1].message


def test_failed_batch_does_not_affect_the_next_one() -> None:
    calls: list[int] = []

    def fail_first(
        inputs: dict[str, np.ndarray], deadline: float | None = None
    ) -> dict[str, np.ndarray]:
        calls.append(len(inputs["x"]))
        if len(calls) == 1:
            raise RuntimeError("transient")
        return {"y": inputs["x"] * 2}

    with open_scheduler(fail_first) as scheduler:
        assert error_of(scheduler.submit({"x": np.array([1])})).code == Code.INTERNAL
        assert scheduler.run({"x": np.array([2])}, timeout=WAIT)["y"][0] == 4
