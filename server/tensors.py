"""TensorProto <-> numpy on the gRPC hot path: wire.tensors with the server's errors and messages.

Requests are read into read-only views of their tensor_content where they have one, answers are
written in typed fields as TF Serving writes them (or tensor_content when asked), in
TensorFlow's own TensorProto class.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from tensorflow.core.framework.tensor_pb2 import TensorProto

from server.errors import ServingError, invalid_argument, tensor_too_large
from wire import tensors
from wire.tensors import TensorProtoError, TensorTooLargeError, dtype_name

__all__ = ["dtype_name", "numpy_dtype", "tf_dtype", "to_numpy", "to_proto"]

# TensorFlow imports ml_dtypes anyway: make bfloat16 known now rather than on a request.
tensors.numpy_dtype(tensors.DT_BFLOAT16)


def numpy_dtype(dt: int) -> np.dtype:
    """The numpy dtype that holds a TF DataType (object, holding bytes, for DT_STRING).

    Raises:
        ServingError: INVALID_ARGUMENT if the dtype has no numpy counterpart here.
    """
    try:
        return tensors.numpy_dtype(dt)
    except ValueError as err:
        raise invalid_argument(str(err)) from None


def tf_dtype(np_dtype: DTypeLike) -> int:
    """The TF DataType number for a numpy dtype; bytes, str and object arrays are DT_STRING.

    Raises:
        ServingError: INVALID_ARGUMENT if TF has no counterpart for the dtype.
    """
    try:
        return tensors.data_type(np_dtype)
    except ValueError as err:
        raise invalid_argument(str(err)) from None


def _parse_error(name: str, detail: str) -> ServingError:
    where = f" of input '{name}'" if name else ""
    return invalid_argument(f"Unable to parse tensor proto{where}: {detail}")


def to_numpy(proto: TensorProto, name: str = "", max_bytes: int | None = None) -> np.ndarray:
    """The array a TensorProto holds, from tensor_content when set, else its typed field.

    As in TensorFlow, no typed values mean zeros, fewer values than the shape needs are
    padded with the last one, and extra values are ignored. Arrays read from tensor_content
    are read-only views of the bytes. `name`, the input's alias, is named in errors; with
    max_bytes, a shape that needs more bytes is refused before any array is built.

    Raises:
        ServingError: INVALID_ARGUMENT for an unsupported dtype, an unknown-rank or negative
            shape, values whose count or byte size does not match the shape, or a shape
            that needs more than max_bytes bytes.
    """
    try:
        return tensors.make_ndarray(proto, writable=False, max_bytes=max_bytes)
    except TensorTooLargeError as err:
        raise tensor_too_large(name, err.shape, err.type_string, err.needed, err.limit) from None
    except TensorProtoError as err:
        raise _parse_error(name, err.detail) from None


def to_proto(array: ArrayLike, use_tensor_content: bool = False) -> TensorProto:
    """A TensorProto for an array, in typed fields (as TF Serving answers) or tensor_content.

    Strings always go to string_val, str elements encoded as UTF-8.

    Raises:
        ServingError: INVALID_ARGUMENT if the dtype has no TF counterpart or a string
            tensor holds something other than bytes or str.
    """
    # np.asarray first: a Python list keeps numpy's dtype here (float64, int64), where
    # make_tensor_proto would narrow it as tf.make_tensor_proto does.
    values = np.asarray(array)
    try:
        proto: TensorProto = tensors.make_tensor_proto(
            values, TensorProto, typed_fields=not use_tensor_content
        )
    except ValueError as err:
        raise invalid_argument(str(err)) from None
    return proto
