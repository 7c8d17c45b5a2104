"""Call a restored signature with flat tensors, skipping tf.function's per-call argument binding.

The public call (`function(**tensors)`) canonicalizes and casts every keyword argument in
Python, which costs more than running a small model. A restored signature takes only named
tensors, so their flat order is fixed (sorted by name) and the binding can be done once.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.python.framework.ops import EagerTensor

from server.errors import invalid_argument

# Below this many same-typed inputs, one tensor each is cheaper than stack-and-split.
GROUP_AT_LEAST = 4


def _shape_text(shape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


class SignatureCall:
    """One signature of a loaded SavedModel, callable with a dict of numpy arrays."""

    def __init__(self, function) -> None:
        self._function = function
        args, kwargs = function.structured_input_signature
        self._specs = dict(kwargs)
        self._order = sorted(kwargs)
        self._dtypes = [kwargs[name].dtype.as_datatype_enum for name in self._order]
        # name -> (rank or None, [(axis, size)] for the axes whose size is fixed)
        self._shapes = {
            name: (None, [])
            if spec.shape.rank is None
            else (
                spec.shape.rank,
                [(i, d) for i, d in enumerate(spec.shape.as_list()) if d is not None],
            )
            for name, spec in kwargs.items()
        }
        self._flat = (
            not args
            and all(isinstance(spec, tf.TensorSpec) for spec in kwargs.values())
            and hasattr(function, "_call_flat")
        )

    def _check_shape(self, name: str, array: np.ndarray) -> None:
        rank, fixed = self._shapes[name]
        shape = array.shape
        if rank is None or (len(shape) == rank and all(shape[i] == size for i, size in fixed)):
            return
        raise invalid_argument(
            f"Input '{name}' has shape {_shape_text(shape)}, which is not compatible "
            f"with the signature's {_shape_text(self._specs[name].shape.as_list())}"
        )

    def __call__(self, inputs: dict[str, np.ndarray]) -> dict[str, tf.Tensor]:
        """Outputs keyed by alias.

        Raises:
            ServingError: an input's shape does not fit the signature.
            Exception: whatever TensorFlow raises while running (mapped by the caller).
        """
        if not self._flat:
            return self._function(**{k: tf.constant(v) for k, v in inputs.items()})
        arrays = [inputs[name] for name in self._order]
        for name, array in zip(self._order, arrays, strict=True):
            self._check_shape(name, array)
        return self._function._call_flat(self._tensors(arrays), self._function.captured_inputs)

    def _tensors(self, arrays: list[np.ndarray]) -> list[tf.Tensor]:
        """Eager tensors for the flat inputs; many same-typed inputs are made in one go.

        Making an eager tensor costs tens of microseconds however small it is, so a model
        with one input per feature (30 here) would spend more on that than on running.
        Inputs of one dtype and shape are stacked and split by a single op instead.
        """
        device = context.context().device_name
        groups: dict[tuple, list[int]] = {}
        for index, (array, dtype) in enumerate(zip(arrays, self._dtypes, strict=True)):
            groups.setdefault((dtype, array.shape), []).append(index)
        tensors: list[tf.Tensor | None] = [None] * len(arrays)
        for (dtype, _shape), members in groups.items():
            if len(members) < GROUP_AT_LEAST:
                for index in members:
                    tensors[index] = EagerTensor(arrays[index], device, dtype)
                continue
            stacked = EagerTensor(np.stack([arrays[i] for i in members]), device, dtype)
            for index, tensor in zip(members, tf.unstack(stacked), strict=True):
                tensors[index] = tensor
        return tensors
