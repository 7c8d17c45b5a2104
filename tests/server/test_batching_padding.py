"""BatchScheduler padding: allowed_batch_sizes, pad_variable_length_inputs, object tensors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from server.errors import Code
from tests.server.test_batching_support import GatedModel, error_of, open_scheduler, result


def _echo(inputs: dict[str, np.ndarray], deadline: float | None = None) -> dict[str, np.ndarray]:
    return {"echo": inputs["x"], "n": np.full(len(inputs["x"]), len(inputs["x"]))}


@pytest.mark.parametrize(
    ("sizes", "padded"),
    [
        pytest.param((1, 2), 4, id="3-rounds-up-to-4"),
        pytest.param((2, 2), 4, id="4-is-allowed"),
        pytest.param((4, 1), 8, id="5-rounds-up-to-8"),
        pytest.param((1,), 2, id="1-rounds-up-to-2"),
    ],
)
def test_batch_is_padded_to_the_next_allowed_size(sizes: tuple[int, ...], padded: int) -> None:
    model = GatedModel(_echo)
    with open_scheduler(model, max_batch_size=8, allowed_batch_sizes=(2, 4, 8)) as scheduler:
        model.hold(scheduler)
        inputs = [
            np.arange(size * 2).reshape(size, 2) + 100 * index
            for index, size in enumerate(sizes, start=1)
        ]
        futures = [scheduler.submit({"x": x}) for x in inputs]
        model.release.set()
        outputs = [result(future) for future in futures]
    batch = model.batches[1]["x"]
    assert batch.shape == (padded, 2)
    # Padding rows repeat the first row of the last task.
    real = sum(sizes)
    np.testing.assert_array_equal(batch[real:], np.repeat(inputs[-1][:1], padded - real, axis=0))
    for x, out in zip(inputs, outputs, strict=True):
        np.testing.assert_array_equal(out["echo"], x)
        np.testing.assert_array_equal(out["n"], [padded] * len(x))


def test_batch_larger_than_every_allowed_size_is_not_padded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Reachable only when execution batches (6) may outgrow the allowed sizes (up to 4).
    model = GatedModel(_echo)
    options = {"enable_large_batch_splitting": True, "max_execution_batch_size": 6}
    with (
        caplog.at_level(logging.WARNING, logger="server.batching"),
        open_scheduler(model, max_batch_size=4, allowed_batch_sizes=(2, 4), **options) as s,
    ):
        model.hold(s)
        futures = [s.submit({"x": np.arange(3) + 10 * index}) for index in range(2)]
        model.release.set()
        outputs = [result(future) for future in futures]
    assert [list(out["n"]) for out in outputs] == [[6, 6, 6], [6, 6, 6]]
    np.testing.assert_array_equal(outputs[1]["echo"], [10, 11, 12])
    assert any("larger than every allowed batch size" in r.getMessage() for r in caplog.records)


def test_variable_length_inputs_without_padding_fail_the_batch() -> None:
    model = GatedModel(_echo)
    with open_scheduler(model, max_batch_size=8) as scheduler:
        model.hold(scheduler)
        futures = [scheduler.submit({"x": np.zeros((1, width))}) for width in (3, 5)]
        model.release.set()
        errors = [error_of(future) for future in futures]
    for error in errors:
        assert error.code == Code.FAILED_PRECONDITION
        assert error.message == (
            "Tensors with name 'x' from different tasks have different shapes and padding is "
            "turned off. Set pad_variable_length_inputs to true, or ensure that all tensors "
            "with the same name have equal dimensions starting with the first dim."
        )


def test_variable_length_inputs_are_padded_with_each_tensors_first_element() -> None:
    model = GatedModel(_echo)
    shapes = [(1, 5, 3), (2, 3, 3), (1, 4, 3)]
    inputs = [np.full(shape, index + 1, dtype=np.int32) for index, shape in enumerate(shapes)]
    inputs[1][0, 0, 0] = 7  # the first element, and so the fill value, of the second task
    with open_scheduler(model, max_batch_size=8, pad_variable_length_inputs=True) as scheduler:
        model.hold(scheduler, {"x": np.zeros((1, 1, 3), dtype=np.int32)})
        futures = [scheduler.submit({"x": x}) for x in inputs]
        model.release.set()
        outputs = [result(future) for future in futures]
    batch = model.batches[1]["x"]
    assert batch.shape == (4, 5, 3)
    np.testing.assert_array_equal(batch[1:3, :3], inputs[1])
    assert (batch[1:3, 3:] == 7).all()
    assert (batch[3, 4:] == 3).all()
    assert [out["echo"].shape for out in outputs] == [(1, 5, 3), (2, 5, 3), (1, 5, 3)]
    np.testing.assert_array_equal(outputs[0]["echo"], inputs[0])


def test_object_tensors_batch_and_pad() -> None:
    def upper(
        inputs: dict[str, np.ndarray], deadline: float | None = None
    ) -> dict[str, np.ndarray]:
        return {"y": np.array([value.upper() for value in inputs["x"]], dtype=object)}

    model = GatedModel(upper)
    with open_scheduler(model, max_batch_size=4, allowed_batch_sizes=(2, 4)) as scheduler:
        model.hold(scheduler, {"x": np.array([b"blocker"], dtype=object)})
        first = scheduler.submit({"x": np.array([b"ab", b"cd"], dtype=object)})
        second = scheduler.submit({"x": np.array([b"ef"], dtype=object)})
        model.release.set()
        assert list(result(first)["y"]) == [b"AB", b"CD"]
        assert list(result(second)["y"]) == [b"EF"]
    assert list(model.batches[1]["x"]) == [b"ab", b"cd", b"ef", b"ef"]
