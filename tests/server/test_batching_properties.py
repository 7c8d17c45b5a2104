"""Property: however tasks are batched, padded or split, each caller gets the unbatched result."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.test_batching_support import WAIT, open_scheduler


def rowwise_model(
    inputs: dict[str, np.ndarray], deadline: float | None = None
) -> dict[str, np.ndarray]:
    """A model whose every output row depends only on the same input row."""
    x, w = inputs["x"], inputs["w"]
    return {"y": x * 3 + 1, "z": (x.sum(axis=1) - w).astype(np.int64), "w": w}


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    max_batch_size = draw(st.integers(1, 12))
    splitting = draw(st.booleans())
    execution = draw(st.integers(1, 12)) if splitting else None
    allowed: tuple[int, ...] = ()
    if draw(st.booleans()):
        smaller = (
            draw(st.sets(st.integers(1, max_batch_size - 1), max_size=3))
            if max_batch_size > 1
            else set()
        )
        allowed = (*sorted(smaller), max_batch_size)
    return {
        "options": {
            "max_batch_size": max_batch_size,
            "batch_timeout_micros": draw(st.sampled_from([0, 200, 2000])),
            "num_batch_threads": draw(st.integers(1, 4)),
            "max_enqueued_batches": 10_000,
            "allowed_batch_sizes": allowed,
            "enable_large_batch_splitting": splitting,
            "max_execution_batch_size": execution,
        },
        "sizes": draw(st.lists(st.integers(0, max_batch_size), min_size=1, max_size=40)),
        "callers": draw(st.integers(1, 16)),
    }


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_every_caller_gets_the_unbatched_result(scenario: dict) -> None:
    sizes = scenario["sizes"]
    requests = [
        {
            "x": np.arange(size * 2, dtype=np.int64).reshape(size, 2) + 1000 * index,
            "w": np.full(size, index, dtype=np.int64),
        }
        for index, size in enumerate(sizes)
    ]
    callers = scenario["callers"]
    barrier = threading.Barrier(callers)
    with open_scheduler(rowwise_model, **scenario["options"]) as scheduler:

        def call(caller: int) -> list[tuple[int, dict[str, np.ndarray]]]:
            barrier.wait(WAIT)
            mine = range(caller, len(requests), callers)
            futures = [(index, scheduler.submit(requests[index])) for index in mine]
            return [(index, future.result(timeout=WAIT)) for index, future in futures]

        with ThreadPoolExecutor(callers) as pool:
            results = dict(pair for pairs in pool.map(call, range(callers)) for pair in pairs)

    assert sorted(results) == list(range(len(requests)))
    for index, request in enumerate(requests):
        expected = rowwise_model(request)
        for name, value in expected.items():
            np.testing.assert_array_equal(results[index][name], value, err_msg=name)
