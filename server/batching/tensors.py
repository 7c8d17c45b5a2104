"""Tensor plumbing for batching: task sizes, merging tasks with padding, splitting outputs."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from server.errors import Code, ServingError, failed_precondition, invalid_argument

logger = logging.getLogger(__name__)

Tensors = dict[str, np.ndarray]


def as_tensors(inputs: Mapping[str, Any]) -> Tensors:
    """Turn a request's inputs into numpy arrays without copying arrays already given.

    Raises:
        ServingError: INVALID_ARGUMENT if a value cannot become an array (a ragged list).
    """
    tensors: Tensors = {}
    for name, value in inputs.items():
        try:
            tensors[name] = np.asarray(value)
        except ValueError as err:
            raise invalid_argument(f"Input '{name}' is not a rectangular tensor: {err}") from err
    return tensors


def task_size(tensors: Mapping[str, np.ndarray]) -> int:
    """Return the batch (0th) dimension shared by all of one request's inputs.

    Raises:
        ServingError: INVALID_ARGUMENT for no inputs, a scalar, or unequal 0th dimensions.
    """
    if not tensors:
        raise invalid_argument("Batching Run() must have at least one input tensor")
    size: int | None = None
    for tensor in tensors.values():
        if tensor.ndim == 0:
            raise invalid_argument("Batching Run() input tensors must have at least one dimension")
        if size is None:
            size = tensor.shape[0]
        elif tensor.shape[0] != size:
            raise invalid_argument(
                "Batching Run() input tensors must have equal 0th-dimension size"
            )
    assert size is not None
    return size


def slice_rows(tensors: Mapping[str, np.ndarray], start: int, stop: int) -> Tensors:
    """Return rows [start, stop) of every tensor (views, no copies)."""
    return {name: tensor[start:stop] for name, tensor in tensors.items()}


def padded_batch_size(size: int, allowed_batch_sizes: Sequence[int]) -> int:
    """Round `size` up to the smallest allowed batch size, or leave it if none is big enough."""
    if not allowed_batch_sizes or size == 0:
        return size
    for allowed in allowed_batch_sizes:
        if allowed >= size:
            return allowed
    logger.warning(
        "Batch size %d is larger than every allowed batch size %s; not padding",
        size,
        list(allowed_batch_sizes),
    )
    return size


def merge_inputs(
    tasks: Sequence[Mapping[str, np.ndarray]], padded_size: int, pad_variable_length: bool
) -> Tensors:
    """Concatenate the tasks' inputs along dim 0 and pad the result to `padded_size` rows.

    Padding rows repeat the first row of the last task that has rows; with
    `pad_variable_length`, tensors first grow to the largest shape seen for their name.

    Raises:
        ServingError: FAILED_PRECONDITION if tensors of one name differ beyond dim 0 and
            padding is off (or differ in rank).
    """
    merged: Tensors = {}
    for name in tasks[0]:
        tensors = [task[name] for task in tasks]
        if any(tensor.shape[1:] != tensors[0].shape[1:] for tensor in tensors):
            if not pad_variable_length:
                raise failed_precondition(
                    f"Tensors with name '{name}' from different tasks have different shapes "
                    "and padding is turned off. Set pad_variable_length_inputs to true, or "
                    "ensure that all tensors with the same name have equal dimensions "
                    "starting with the first dim."
                )
            tensors = _pad_to_common_shape(name, tensors)
        rows = sum(tensor.shape[0] for tensor in tensors)
        if padded_size > rows:
            source = next(tensor for tensor in reversed(tensors) if tensor.shape[0] > 0)
            tensors.append(np.repeat(source[:1], padded_size - rows, axis=0))
        merged[name] = np.concatenate(tensors, axis=0)
    return merged


def _pad_to_common_shape(name: str, tensors: list[np.ndarray]) -> list[np.ndarray]:
    if len({tensor.ndim for tensor in tensors}) > 1:
        raise failed_precondition(
            f"Tensors with name '{name}' from different tasks have different ranks "
            "and cannot be padded to a common shape."
        )
    target = tuple(
        max(dims) for dims in zip(*(tensor.shape[1:] for tensor in tensors), strict=True)
    )
    padded = []
    for tensor in tensors:
        if tensor.shape[1:] == target:
            padded.append(tensor)
            continue
        grown = np.empty((tensor.shape[0], *target), dtype=tensor.dtype)
        # An empty tensor has no first element; its zero value is as good as any filler.
        grown.fill(tensor.flat[0] if tensor.size else np.zeros((), tensor.dtype)[()])
        grown[tuple(slice(0, dim) for dim in tensor.shape)] = tensor
        padded.append(grown)
    return padded


def split_outputs(outputs: Any, sizes: Sequence[int], padded_size: int) -> list[Tensors]:
    """Cut the model's batched outputs back into one dict per task, dropping padding rows.

    Raises:
        ServingError: INTERNAL if `outputs` is not a mapping; FAILED_PRECONDITION if an
            output's 0th dimension is not the padded batch size.
    """
    if not isinstance(outputs, Mapping):
        raise ServingError(
            Code.INTERNAL,
            f"Batched run returned {type(outputs).__name__}; expected a mapping of output "
            "names to tensors",
        )
    arrays = {name: np.asarray(value) for name, value in outputs.items()}
    for name, array in arrays.items():
        if array.ndim == 0:
            raise failed_precondition(
                f"Batched output tensor '{name}' has 0 dimensions; expected a 0th dimension "
                f"of size {padded_size}"
            )
        if array.shape[0] != padded_size:
            raise failed_precondition(
                f"Batched output tensor '{name}' has 0th-dimension size {array.shape[0]}, which does not "
                f"equal the batch size {padded_size} (the sum of the tasks' 0th-dimension "
                "sizes plus padding)"
            )
    per_task: list[Tensors] = []
    start = 0
    for size in sizes:
        per_task.append(slice_rows(arrays, start, start + size))
        start += size
    return per_task


def concat_pieces(pieces: Sequence[Mapping[str, np.ndarray]]) -> Tensors:
    """Reassemble the outputs of one request that was split across batches."""
    if len(pieces) == 1:
        return dict(pieces[0])
    return {name: np.concatenate([piece[name] for piece in pieces]) for name in pieces[0]}
