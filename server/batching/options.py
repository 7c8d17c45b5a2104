"""BatchingOptions: TF Serving's BatchingParameters with the scheduler's defaults."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from server.errors import invalid_argument

# Fields held in protobuf wrapper messages (Int64Value, StringValue, BoolValue): set-ness is
# HasField() and the payload is `.value`.
_WRAPPED_FIELDS = (
    "max_batch_size",
    "batch_timeout_micros",
    "max_enqueued_batches",
    "num_batch_threads",
    "thread_pool_name",
    "enable_large_batch_splitting",
    "max_execution_batch_size",
)


def _default_num_batch_threads() -> int:
    return os.cpu_count() or 1


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    """How one scheduler forms and runs batches (contract section 4).

    Defaults are those TF core's SharedBatchScheduler uses when a field is unset.
    """

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = dataclasses.field(default_factory=_default_num_batch_threads)
    thread_pool_name: str = "batch_threads"
    allowed_batch_sizes: tuple[int, ...] = ()
    pad_variable_length_inputs: bool = False
    enable_large_batch_splitting: bool = False
    max_execution_batch_size: int | None = None

    @classmethod
    def from_proto(cls, msg: Any) -> BatchingOptions:
        """Build options from a BatchingParameters message, copying only the fields set.

        The message is duck-typed: anything with `HasField`, wrapper fields carrying
        `.value`, a repeated `allowed_batch_sizes` and a plain `pad_variable_length_inputs`.
        The result is not validated; call `validate()` (the scheduler does).
        """
        values: dict[str, Any] = {}
        for name in _WRAPPED_FIELDS:
            if msg.HasField(name):
                values[name] = getattr(msg, name).value
        values["allowed_batch_sizes"] = tuple(int(size) for size in msg.allowed_batch_sizes)
        values["pad_variable_length_inputs"] = bool(msg.pad_variable_length_inputs)
        return cls(**values)

    @property
    def execution_batch_size(self) -> int:
        """The most rows one batch handed to the model may hold."""
        if self.enable_large_batch_splitting and self.max_execution_batch_size is not None:
            return self.max_execution_batch_size
        return self.max_batch_size

    def validate(self) -> None:
        """Check the options the way TF Serving does before it creates a scheduler.

        Raises:
            ServingError: INVALID_ARGUMENT naming the first offending field.
        """
        for name in ("max_batch_size", "max_enqueued_batches", "num_batch_threads"):
            value = getattr(self, name)
            if value <= 0:
                raise invalid_argument(f"{name} must be positive; was {value}")
        if self.batch_timeout_micros < 0:
            raise invalid_argument(
                f"batch_timeout_micros must be non-negative; was {self.batch_timeout_micros}"
            )
        if self.max_execution_batch_size is not None and self.max_execution_batch_size <= 0:
            raise invalid_argument(
                f"max_execution_batch_size must be positive; was {self.max_execution_batch_size}"
            )
        self._validate_allowed_batch_sizes()

    def _validate_allowed_batch_sizes(self) -> None:
        sizes = self.allowed_batch_sizes
        if not sizes:
            return
        previous = 0
        for size in sizes:
            if size <= 0:
                raise invalid_argument(f"allowed_batch_sizes entries must be positive; got {size}")
            if size <= previous:
                raise invalid_argument(
                    "allowed_batch_sizes entries must be monotonically increasing; "
                    f"{size} follows {previous}"
                )
            previous = size
        # TF Serving's model server compares against max_batch_size even when large-batch
        # splitting is on (bundle_factory_util.cc), so this does too.
        if sizes[-1] != self.max_batch_size:
            raise invalid_argument(
                "Last entry in allowed_batch_sizes must match max_batch_size; "
                f"last entry was {sizes[-1]}; expected {self.max_batch_size}"
            )
