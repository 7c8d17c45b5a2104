"""numpy <-> TensorProto with wire.tensors against TensorFlow's: best-of-N timeit per call."""

from __future__ import annotations

import logging
import timeit
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SHAPES: dict[str, tuple[int, ...]] = {"1x224x224x3": (1, 224, 224, 3), "1x16": (1, 16)}
OPERATIONS = ("encode", "decode_tensor_content", "decode_float_val")
DT_FLOAT = 1


@dataclass(frozen=True)
class Codec:
    """One implementation: make_tensor_proto, make_ndarray and the TensorProto class they use."""

    name: str
    encode: Callable[[np.ndarray], Any]
    decode: Callable[[Any], np.ndarray]
    tensor_class: type[Any]  # the TensorProto message class (protobuf classes are dynamic)


def clients_codec() -> Codec:
    from wire import protos
    from wire.tensors import make_ndarray, make_tensor_proto

    return Codec("wire.tensors", make_tensor_proto, make_ndarray, protos.TensorProto)


def tensorflow_codec() -> Codec:
    import tensorflow as tf

    tensor_class = type(tf.make_tensor_proto(np.zeros(1, np.float32)))
    return Codec("tensorflow", tf.make_tensor_proto, tf.make_ndarray, tensor_class)


@dataclass(frozen=True)
class CodecTiming:
    """Best per-call microseconds of one operation on one tensor, ours and the reference's."""

    operation: str
    tensor: str
    ours_us: float
    reference_us: float
    repeat: int

    @property
    def ratio(self) -> float:
        """Ours over the reference: below 1 means ours is faster."""
        return self.ours_us / self.reference_us

    def as_dict(self) -> dict[str, object]:
        return {
            "operation": self.operation,
            "tensor": self.tensor,
            "ours_us": self.ours_us,
            "reference_us": self.reference_us,
            "ratio": self.ratio,
            "repeat": self.repeat,
        }


def _calls_per_sample(call: Callable[[], object], min_seconds: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... calls that take at least min_seconds together."""
    timer = timeit.Timer(call)
    number = 1
    while True:
        for step in (1, 2, 5):
            if timer.timeit(number * step) >= min_seconds:
                return number * step
        number *= 10


def best_of(
    calls: Mapping[str, Callable[[], object]], repeat: int, min_seconds: float
) -> dict[str, float]:
    """Best per-call microseconds of each call over `repeat` samples, the calls alternating.

    Alternating the samples spreads background load over every call alike; the best sample
    is the one least disturbed by it.
    """
    numbers = {name: _calls_per_sample(call, min_seconds) for name, call in calls.items()}
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(repeat):
        for name, call in calls.items():
            seconds = timeit.Timer(call).timeit(numbers[name]) / numbers[name]
            best[name] = min(best[name], seconds * 1e6)
    return best


def _float_val_bytes(array: np.ndarray, tensor_class: type) -> bytes:
    """A TensorProto as TF Serving sends outputs by default: values in float_val, not content."""
    proto = tensor_class(dtype=DT_FLOAT, float_val=array.ravel().tolist())
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    serialized: bytes = proto.SerializeToString()
    return serialized


def _check(decoded: np.ndarray, array: np.ndarray, what: str) -> None:
    if decoded.dtype != array.dtype or not np.array_equal(decoded, array):
        raise RuntimeError(f"{what} did not give back the tensor it was given")


def time_codecs(
    ours: Codec,
    reference: Codec,
    repeat: int = 7,
    min_seconds: float = 0.1,
    shapes: dict[str, tuple[int, ...]] = SHAPES,
) -> list[CodecTiming]:
    """Encode, decode from tensor_content and decode from float_val, per shape, both codecs.

    Both decoders read the same serialized bytes, each parsed into its own message class
    beforehand: parsing is the transport's cost, not the converter's.

    Raises:
        RuntimeError: a codec does not round-trip the benchmark tensor.
    """
    timings = []
    rng = np.random.default_rng(0)
    for tensor, shape in shapes.items():
        array = rng.random(shape, dtype=np.float32)
        wire = {
            "decode_tensor_content": ours.encode(array).SerializeToString(),
            "decode_float_val": _float_val_bytes(array, ours.tensor_class),
        }
        for operation in OPERATIONS:
            calls = {}
            for key, codec in (("ours", ours), ("reference", reference)):
                if operation == "encode":
                    _check(codec.decode(codec.encode(array)), array, f"{codec.name} encode")
                    calls[key] = lambda codec=codec, array=array: codec.encode(array)
                else:
                    proto = codec.tensor_class.FromString(wire[operation])
                    _check(codec.decode(proto), array, f"{codec.name} {operation}")
                    calls[key] = lambda codec=codec, proto=proto: codec.decode(proto)
            best = best_of(calls, repeat, min_seconds)
            timing = CodecTiming(operation, tensor, best["ours"], best["reference"], repeat)
            log.info(
                "%s %s: %.1f us vs %.1f us", operation, tensor, timing.ours_us, best["reference"]
            )
            timings.append(timing)
    return timings
