"""The parameter grid the tuner walks, and the batching guide's CPU and GPU starting recipes.

TF Serving's batching guide (tensorflow_serving/batching/README.md, "Batch Scheduling
Parameters and Tuning"):

- CPU only: `num_batch_threads` = the number of cores, `max_batch_size` "to infinity",
  `batch_timeout_micros` = 0, then try timeouts of 1-10 ms (0 may be the best).
- GPU: `num_batch_threads` = the number of cores, `batch_timeout_micros` "to infinity" while
  `max_batch_size` is tuned (hundreds or thousands), then tune the timeout down for tail
  latency.
- While experimenting, `max_enqueued_batches` "to infinity"; for online serving, consider
  `num_batch_threads`.

"Infinity" here is the largest value on the grid's axis. Since the guide sizes the queue by
the threads, the grid does too: its axis is `max_enqueued_batches` per batch thread, so a
change of threads keeps the queue's depth per thread (the two axes would otherwise pull
against each other, and a search along one axis at a time would stall).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any, Literal

__all__ = [
    "AXES",
    "PADDINGS",
    "BatchingConfig",
    "Grid",
    "Point",
    "allowed_sizes",
    "default_grid",
]

# The order the tuner walks the axes in, after the recipe's first axis.
AXES = (
    "batch_timeout_micros",
    "max_batch_size",
    "num_batch_threads",
    "enqueued_per_thread",
    "padding",
)
# allowed_batch_sizes as a scheme of max_batch_size: none (no padding), powers of two up to
# it, or its quarter, half and itself.
PADDINGS = ("none", "pow2", "halves")
Point = tuple[int, ...]  # one index per axis, in AXES order


def allowed_sizes(padding: str, max_batch_size: int) -> tuple[int, ...]:
    """allowed_batch_sizes for a padding scheme; the last entry is max_batch_size, as TF
    Serving requires.

    Raises:
        ValueError: an unknown scheme.
    """
    if padding == "none":
        return ()
    if padding == "pow2":
        sizes = [2**k for k in range(max_batch_size.bit_length()) if 2**k < max_batch_size]
    elif padding == "halves":
        sizes = [s for s in (max_batch_size // 4, max_batch_size // 2) if s >= 1]
    else:
        raise ValueError(f"unknown padding {padding!r}: one of {PADDINGS}")
    return tuple(sorted(set(sizes))) + (max_batch_size,)


@dataclass(frozen=True)
class BatchingConfig:
    """One trial's BatchingParameters."""

    max_batch_size: int
    batch_timeout_micros: int
    num_batch_threads: int
    max_enqueued_batches: int
    padding: str = "none"

    @property
    def allowed_batch_sizes(self) -> tuple[int, ...]:
        return allowed_sizes(self.padding, self.max_batch_size)

    @property
    def slug(self) -> str:
        """A short, file- and DNS-safe name: b32-t2000-n2-q64-pow2."""
        return (
            f"b{self.max_batch_size}-t{self.batch_timeout_micros}-n{self.num_batch_threads}"
            f"-q{self.max_enqueued_batches}-{self.padding}"
        )

    def text(self) -> str:
        """The batching_parameters.txt of this config (BatchingParameters, text format)."""
        lines = [
            f"# Chosen by python -m loadtest tune-batching ({self.slug}).",
            f"max_batch_size {{ value: {self.max_batch_size} }}",
            f"batch_timeout_micros {{ value: {self.batch_timeout_micros} }}",
            f"max_enqueued_batches {{ value: {self.max_enqueued_batches} }}",
            f"num_batch_threads {{ value: {self.num_batch_threads} }}",
            *(f"allowed_batch_sizes: {size}" for size in self.allowed_batch_sizes),
            "pad_variable_length_inputs: false",
        ]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_batch_size": self.max_batch_size,
            "batch_timeout_micros": self.batch_timeout_micros,
            "num_batch_threads": self.num_batch_threads,
            "max_enqueued_batches": self.max_enqueued_batches,
            "allowed_batch_sizes": list(self.allowed_batch_sizes),
        }


@dataclass(frozen=True)
class Grid:
    """The discrete values of each axis, each sorted ascending (padding: PADDINGS order)."""

    max_batch_size: tuple[int, ...]
    batch_timeout_micros: tuple[int, ...]
    num_batch_threads: tuple[int, ...]
    enqueued_per_thread: tuple[int, ...]
    padding: tuple[str, ...] = PADDINGS

    def __post_init__(self) -> None:
        for axis in AXES:
            values = self.values(axis)
            if not values or len(set(values)) != len(values):
                raise ValueError(f"grid axis {axis} needs distinct values, got {values}")
        if min(self.max_batch_size) < 1 or min(self.num_batch_threads) < 1:
            raise ValueError("max_batch_size and num_batch_threads must be at least 1")
        if min(self.enqueued_per_thread) < 1 or min(self.batch_timeout_micros) < 0:
            raise ValueError("need enqueued_per_thread >= 1 and batch_timeout_micros >= 0")
        unknown = set(self.padding) - set(PADDINGS)
        if unknown:
            raise ValueError(f"unknown padding {sorted(unknown)}: one of {PADDINGS}")

    def values(self, axis: str) -> tuple[Any, ...]:
        values: tuple[Any, ...] = getattr(self, axis)
        return values

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.values(axis)) for axis in AXES)

    @property
    def size(self) -> int:
        total = 1
        for length in self.shape:
            total *= length
        return total

    def points(self) -> Iterator[Point]:
        """Every point of the grid (the exhaustive sweep)."""
        return product(*(range(length) for length in self.shape))

    def config(self, point: Point) -> BatchingConfig:
        chosen = {axis: self.values(axis)[i] for axis, i in zip(AXES, point, strict=True)}
        per_thread = chosen.pop("enqueued_per_thread")
        return BatchingConfig(
            **chosen, max_enqueued_batches=per_thread * chosen["num_batch_threads"]
        )

    def recipe(self, device: Literal["cpu", "gpu"], cores: int | None = None) -> Point:
        """The batching guide's starting point for device on a machine of cores (default: this
        one's), snapped to the grid: threads nearest cores, the largest max_batch_size and
        max_enqueued_batches, no padding, and a timeout of 0 (CPU) or the largest (GPU)."""
        cores = cores or os.cpu_count() or 1
        threads = self.num_batch_threads
        nearest = min(range(len(threads)), key=lambda i: (abs(threads[i] - cores), threads[i]))
        timeouts = self.batch_timeout_micros
        timeout = timeouts.index(min(timeouts)) if device == "cpu" else len(timeouts) - 1
        chosen = {
            "batch_timeout_micros": timeout,
            "max_batch_size": len(self.max_batch_size) - 1,
            "num_batch_threads": nearest,
            "enqueued_per_thread": len(self.enqueued_per_thread) - 1,
            "padding": self.padding.index("none") if "none" in self.padding else 0,
        }
        return tuple(chosen[axis] for axis in AXES)


def default_grid(cores: int | None = None) -> Grid:
    """7 x 7 x 4 x 5 x 3 points: threads around the core count, timeouts from 0 to 20 ms (the
    guide's 1-10 ms range and either side), batches of 8 to 512 rows, 1 to 64 queued batches
    per thread or, as "infinity" while experimenting, 100000.

    max_batch_size must hold the largest batch a client or a model's warmup records send: the
    server refuses to load a model whose warmup batch is bigger (the example models' are 4 and
    8 rows), and such a trial fails when its server does not serve in time."""
    cores = cores or os.cpu_count() or 1
    threads = tuple(sorted({1, max(1, cores // 2), cores, 2 * cores} | {4 * cores}))
    return Grid(
        max_batch_size=(8, 16, 32, 64, 128, 256, 512),
        batch_timeout_micros=(0, 500, 1000, 2000, 5000, 10000, 20000),
        num_batch_threads=threads[:4] if len(threads) > 4 else threads,
        enqueued_per_thread=(1, 4, 16, 64, 100000),
    )
