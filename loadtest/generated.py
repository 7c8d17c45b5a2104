"""Predict inputs made up from a signature (GetModelMetadata), for a model without warmup records."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from wire.tensors import numpy_dtype

__all__ = ["generated_inputs", "input_shape", "tiny_png"]

# String inputs get a small grayscale PNG: encoded images are what serving signatures take as
# strings most often, and a decoder accepts any size. Other string inputs need warmup records.
PNG_SIDE = 8


def tiny_png(pixels: np.ndarray) -> bytes:
    """An 8-bit grayscale PNG of a 2-D uint8 array."""
    height, width = pixels.shape
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels.astype(np.uint8))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def input_shape(shape: list[int] | None, batch_size: int) -> tuple[int, ...]:
    """The shape to send for a signature shape: -1 in front is the batch, other -1s become 1.

    An unknown rank is sent as a batch of scalars, [batch_size].
    """
    if shape is None:
        return (batch_size,)
    return tuple(
        batch_size if index == 0 and size < 0 else (size if size >= 0 else 1)
        for index, size in enumerate(shape)
    )


def _values(dtype: np.dtype, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if dtype.kind == "O":
        flat = [
            tiny_png(rng.integers(0, 256, (PNG_SIDE, PNG_SIDE), dtype=np.uint8))
            for _ in range(int(np.prod(shape, dtype=np.int64)))
        ]
        values = np.empty(len(flat), dtype=object)
        values[:] = flat
        return values.reshape(shape)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 10, shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def generated_inputs(
    signature: Mapping[str, Any], batch_size: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Random inputs of each input's dtype and shape: normal floats, ints in 0..9, PNG strings.

    Raises:
        ValueError: an input's dtype has no numpy counterpart (e.g. DT_RESOURCE).
    """
    rng = np.random.default_rng(seed)
    return {
        name: _values(numpy_dtype(info["dtype"]), input_shape(info["shape"], batch_size), rng)
        for name, info in sorted(signature["inputs"].items())
    }
