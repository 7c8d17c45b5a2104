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
        self._flat = (
            not args
            and all(isinstance(spec, tf.TensorSpec) for spec in kwargs.values())
            and hasattr(function, "_call_flat")
        )

    def _check_shape(self, name: str, array: np.ndarray) -> None:
        shape = self._specs[name].shape
        if shape.rank is None:
            return
        if len(array.shape) != shape.rank or any(
            want is not None and want != got
            for want, got in zip(shape.as_list(), array.shape, strict=True)
        ):
            raise invalid_argument(
                f"Input '{name}' has shape {_shape_text(array.shape)}, which is not compatible "
                f"with the signature's {_shape_text(shape.as_list())}"
            )

    def __call__(self, inputs: dict[str, np.ndarray]) -> dict[str, tf.Tensor]:
        """Outputs keyed by alias.

        Raises:
            ServingError: an input's shape does not fit the signature.
            Exception: whatever TensorFlow raises while running (mapped by the caller).
        """
        if not self._flat:
            return self._function(**{k: tf.constant(v) for k, v in inputs.items()})
        device = context.context().device_name
        tensors = []
        for name, dtype in zip(self._order, self._dtypes, strict=True):
            array = inputs[name]
            self._check_shape(name, array)
            tensors.append(EagerTensor(array, device, dtype))
        return self._function._call_flat(tensors, self._function.captured_inputs)
