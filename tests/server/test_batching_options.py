"""BatchingOptions: defaults, from_proto on a BatchingParameters-shaped message, validate()."""

from __future__ import annotations

import os
from typing import Any

import pytest
from google.protobuf import wrappers_pb2

from server.batching import BatchingOptions, BatchScheduler
from server.errors import Code, ServingError


class FakeBatchingParameters:
    """Quacks like tensorflow.serving.BatchingParameters: wrapper fields plus HasField."""

    _WRAPPERS = {
        "max_batch_size": wrappers_pb2.Int64Value,
        "batch_timeout_micros": wrappers_pb2.Int64Value,
        "max_enqueued_batches": wrappers_pb2.Int64Value,
        "num_batch_threads": wrappers_pb2.Int64Value,
        "thread_pool_name": wrappers_pb2.StringValue,
        "enable_large_batch_splitting": wrappers_pb2.BoolValue,
        "max_execution_batch_size": wrappers_pb2.Int64Value,
    }

    def __init__(
        self,
        allowed_batch_sizes: tuple[int, ...] = (),
        pad_variable_length_inputs: bool = False,
        **wrapped: Any,
    ) -> None:
        self._set = set(wrapped)
        for name, wrapper in self._WRAPPERS.items():
            setattr(self, name, wrapper(value=wrapped[name]) if name in wrapped else wrapper())
        self.allowed_batch_sizes = list(allowed_batch_sizes)
        self.pad_variable_length_inputs = pad_variable_length_inputs

    def HasField(self, name: str) -> bool:  # noqa: N802 - protobuf's spelling
        if name not in self._WRAPPERS:
            raise ValueError(f"{name} is not a message field")
        return name in self._set


def test_defaults_are_tf_schedulers() -> None:
    options = BatchingOptions()
    assert (
        options.max_batch_size,
        options.batch_timeout_micros,
        options.max_enqueued_batches,
        options.num_batch_threads,
        options.thread_pool_name,
        options.allowed_batch_sizes,
        options.pad_variable_length_inputs,
        options.enable_large_batch_splitting,
        options.max_execution_batch_size,
    ) == (1000, 0, 10, os.cpu_count() or 1, "batch_threads", (), False, False, None)


def test_from_proto_with_nothing_set_gives_defaults() -> None:
    assert BatchingOptions.from_proto(FakeBatchingParameters()) == BatchingOptions()


def test_from_proto_copies_the_set_fields() -> None:
    msg = FakeBatchingParameters(
        max_batch_size=128,
        batch_timeout_micros=0,
        max_enqueued_batches=1000000,
        num_batch_threads=8,
        thread_pool_name="model_server_batch_threads",
        enable_large_batch_splitting=True,
        max_execution_batch_size=32,
        allowed_batch_sizes=(32, 64, 128),
        pad_variable_length_inputs=True,
    )
    assert BatchingOptions.from_proto(msg) == BatchingOptions(
        max_batch_size=128,
        batch_timeout_micros=0,
        max_enqueued_batches=1000000,
        num_batch_threads=8,
        thread_pool_name="model_server_batch_threads",
        allowed_batch_sizes=(32, 64, 128),
        pad_variable_length_inputs=True,
        enable_large_batch_splitting=True,
        max_execution_batch_size=32,
    )


def test_from_proto_keeps_defaults_for_unset_fields() -> None:
    options = BatchingOptions.from_proto(FakeBatchingParameters(batch_timeout_micros=500))
    assert options.batch_timeout_micros == 500
    assert options.max_batch_size == 1000
    assert options.max_enqueued_batches == 10


def test_options_are_frozen() -> None:
    with pytest.raises(AttributeError):
        BatchingOptions().max_batch_size = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("options", "execution_batch_size"),
    [
        pytest.param(BatchingOptions(max_batch_size=64), 64, id="no-splitting"),
        pytest.param(
            BatchingOptions(max_batch_size=64, max_execution_batch_size=8),
            64,
            id="execution-size-ignored-without-splitting",
        ),
        pytest.param(
            BatchingOptions(max_batch_size=64, enable_large_batch_splitting=True),
            64,
            id="splitting-defaults-to-max-batch-size",
        ),
        pytest.param(
            BatchingOptions(
                max_batch_size=64, enable_large_batch_splitting=True, max_execution_batch_size=8
            ),
            8,
            id="splitting-with-execution-size",
        ),
    ],
)
def test_execution_batch_size(options: BatchingOptions, execution_batch_size: int) -> None:
    assert options.execution_batch_size == execution_batch_size


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(BatchingOptions(), id="defaults"),
        pytest.param(
            BatchingOptions(max_batch_size=8, allowed_batch_sizes=(2, 4, 8)), id="allowed-sizes"
        ),
        pytest.param(BatchingOptions(allowed_batch_sizes=(1000,)), id="single-allowed-size"),
    ],
)
def test_validate_accepts(options: BatchingOptions) -> None:
    options.validate()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(
            BatchingOptions(max_batch_size=8, allowed_batch_sizes=(2, 4)),
            "Last entry in allowed_batch_sizes must match max_batch_size; "
            "last entry was 4; expected 8",
            id="last-allowed-size-differs",
        ),
        pytest.param(
            BatchingOptions(allowed_batch_sizes=(10, 20)),
            "Last entry in allowed_batch_sizes must match max_batch_size; "
            "last entry was 20; expected 1000",
            id="last-allowed-size-against-default",
        ),
        pytest.param(
            BatchingOptions(max_batch_size=8, allowed_batch_sizes=(4, 2, 8)),
            "allowed_batch_sizes entries must be monotonically increasing; 2 follows 4",
            id="decreasing",
        ),
        pytest.param(
            BatchingOptions(max_batch_size=8, allowed_batch_sizes=(4, 4, 8)),
            "allowed_batch_sizes entries must be monotonically increasing; 4 follows 4",
            id="repeated",
        ),
        pytest.param(
            BatchingOptions(max_batch_size=8, allowed_batch_sizes=(0, 8)),
            "allowed_batch_sizes entries must be positive; got 0",
            id="zero-allowed-size",
        ),
        pytest.param(BatchingOptions(max_batch_size=0), "max_batch_size", id="zero-max"),
        pytest.param(BatchingOptions(num_batch_threads=0), "num_batch_threads", id="zero-threads"),
        pytest.param(
            BatchingOptions(max_enqueued_batches=-1), "max_enqueued_batches", id="negative-queue"
        ),
        pytest.param(
            BatchingOptions(batch_timeout_micros=-1), "batch_timeout_micros", id="negative-timeout"
        ),
        pytest.param(
            BatchingOptions(enable_large_batch_splitting=True, max_execution_batch_size=0),
            "max_execution_batch_size",
            id="zero-execution-size",
        ),
    ],
)
def test_validate_rejects(options: BatchingOptions, message: str) -> None:
    with pytest.raises(ServingError) as caught:
        options.validate()
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert message in caught.value.message


def test_scheduler_refuses_invalid_options() -> None:
    with pytest.raises(ServingError) as caught:
        BatchScheduler(dict, BatchingOptions(max_batch_size=8, allowed_batch_sizes=(4,)))
    assert caught.value.code == Code.INVALID_ARGUMENT
