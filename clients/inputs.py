"""Predict inputs as given by a caller, named and typed with the help of the signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from wire.tensors import numpy_dtype

__all__ = ["Inputs", "name_inputs", "needs_signature", "with_signature_dtypes"]

# {input alias: array, list, scalar, bytes or str}, or one such value for a one-input signature.
Inputs = Mapping[str, Any] | Any


def _has_own_dtype(value: Any) -> bool:
    return isinstance(value, np.ndarray | np.generic | bytes | str)


def needs_signature(inputs: Inputs) -> bool:
    """Whether the signature is needed to send inputs: to name a bare value or type a list."""
    if not isinstance(inputs, Mapping):
        return True
    return not all(_has_own_dtype(value) for value in inputs.values())


def name_inputs(inputs: Inputs, signature: Mapping[str, Any] | None) -> dict[str, Any]:
    """inputs as {alias: value}; a bare value takes the name of the signature's only input.

    Raises:
        ValueError: if a bare value is given for a signature without exactly one input.
    """
    if isinstance(inputs, Mapping):
        return dict(inputs)
    names = list(signature["inputs"]) if signature else []
    if len(names) != 1:
        raise ValueError(
            f"a single unnamed input needs a signature with one input, not {names}; "
            "pass a dict of {input name: value}"
        )
    return {names[0]: inputs}


def _typed(value: Any, dtype_name: str | None) -> Any:
    if dtype_name is None or _has_own_dtype(value):
        return value
    try:
        dtype = numpy_dtype(dtype_name)
    except ValueError:
        return value
    if dtype.kind in "OSU":
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or not np.can_cast(array.dtype, dtype, "same_kind"):
        return value  # e.g. floats for an int input: the server refuses them, not truncated
    typed = array.astype(dtype)
    if dtype.kind in "biu" and not np.array_equal(typed, array):
        return value  # out of the input's range: refused rather than wrapped around
    return typed


def with_signature_dtypes(
    inputs: dict[str, Any], signature: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Values without a dtype of their own (lists, Python numbers) cast to the input's dtype.

    A Python list of floats would otherwise go out as float32 and of ints as int32, which a
    float64 or int64 input refuses. Arrays, bytes and str are sent as they are.
    """
    if signature is None:
        return inputs
    infos = signature["inputs"]
    return {name: _typed(value, infos.get(name, {}).get("dtype")) for name, value in inputs.items()}
