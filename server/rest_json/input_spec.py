"""InputSpec (a signature input's dtype) and the table between numpy dtypes and TF's type names."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import DTypeLike

from wire.tensors import DATA_TYPE_TABLE

# numpy dtype name -> TF's DataTypeString name, as messages print it, from wire's DataType
# table. The reverse map is derived; "string" maps to object arrays holding bytes.
_TF_NAME_BY_NUMPY: dict[str, str] = {row.numpy_name: row.type_string for row in DATA_TYPE_TABLE}
_NUMPY_BY_TF_NAME: dict[str, str] = {tf: np_name for np_name, tf in _TF_NAME_BY_NUMPY.items()}


def tf_name_of(dtype: np.dtype) -> str:
    """TF's DataTypeString name for a numpy dtype (`float32` -> `float`, bytes -> `string`)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return "string"
    return _TF_NAME_BY_NUMPY.get(dtype.name, dtype.name)


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One signature input as the JSON codec needs it.

    `dtype` is the numpy dtype of the decoded array (`object` arrays of `bytes` for strings);
    `tf_dtype_name` is TF's DataTypeString name (`float`, `int32`, `string`, `half`...). The
    conversion rules and the messages are chosen by `tf_dtype_name`.
    """

    dtype: np.dtype
    tf_dtype_name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", np.dtype(self.dtype))

    @classmethod
    def for_numpy(cls, dtype: DTypeLike) -> InputSpec:
        """The spec for a numpy dtype (e.g. `tf.float32.as_numpy_dtype`)."""
        dtype = np.dtype(dtype)
        name = tf_name_of(dtype)
        return cls(np.dtype(object) if name == "string" else dtype, name)

    @classmethod
    def for_tf_name(cls, name: str) -> InputSpec:
        """The spec for a DataTypeString name; names numpy lacks decode into object arrays.

        Raises:
            ValueError: `name` is not a TF type name this table knows.
        """
        if name not in _NUMPY_BY_TF_NAME:
            raise ValueError(f"unknown TF dtype name: {name!r}")
        try:
            dtype = np.dtype(_NUMPY_BY_TF_NAME[name])
        except TypeError:
            dtype = np.dtype(object)  # bfloat16 without ml_dtypes registered
        return cls(dtype, name)
