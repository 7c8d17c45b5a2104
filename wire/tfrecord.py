"""TFRecord framing (the container of warmup files and request logs), without TensorFlow."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["frame_record", "masked_crc32c", "read_tfrecords", "whole_records", "write_tfrecords"]

_HEADER = struct.Struct("<Q")
_CRC = struct.Struct("<I")


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def _crc32c_python(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


try:  # Optional: the C implementation is ~1000x faster on large records.
    from google_crc32c import value as _crc32c
except ImportError:  # pragma: no cover - depends on the environment
    _crc32c = _crc32c_python


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: CRC-32C (Castagnoli) of data, rotated and offset ("masked")."""
    crc: int = _crc32c(bytes(data))  # google_crc32c is untyped; its value() is an int
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    """One record as stored: little-endian uint64 length, its masked CRC, data, data's CRC."""
    length = _HEADER.pack(len(data))
    return length + _CRC.pack(masked_crc32c(length)) + data + _CRC.pack(masked_crc32c(data))


def write_tfrecords(path: Path, records: Iterable[bytes]) -> int:
    """Write records to a new TFRecord file at path and return how many were written.

    Raises:
        OSError: the file cannot be written.
    """
    count = 0
    with Path(path).open("wb") as out:
        for record in records:
            out.write(frame_record(record))
            count += 1
    return count


def read_tfrecords(path: Path) -> Iterator[bytes]:
    """The records of a TFRecord file, both checksums of each verified.

    Raises:
        OSError: the file cannot be read.
        ValueError: the file is truncated or a checksum does not match (naming the record).
    """
    data = Path(path).read_bytes()
    offset, index = 0, 0
    while offset < len(data):
        header = data[offset : offset + 12]
        if len(header) < 12:
            raise ValueError(f"{path}: record {index} is truncated (header)")
        length_bytes = header[:8]
        (length,) = _HEADER.unpack(length_bytes)
        (length_crc,) = _CRC.unpack(header[8:])
        if masked_crc32c(length_bytes) != length_crc:
            raise ValueError(f"{path}: record {index} has a corrupt length")
        start, end = offset + 12, offset + 12 + length
        if end + 4 > len(data):
            raise ValueError(f"{path}: record {index} is truncated (data)")
        record = data[start:end]
        (data_crc,) = _CRC.unpack(data[end : end + 4])
        if masked_crc32c(record) != data_crc:
            raise ValueError(f"{path}: record {index} fails its checksum")
        yield record
        offset, index = end + 4, index + 1


def whole_records(data: bytes) -> tuple[int, int]:
    """How many whole, intact records data begins with, and the bytes they take: what is left
    of a file whose writer was killed mid-record (the rest is a torn tail)."""
    offset = count = 0
    while offset + 12 <= len(data):
        length_bytes = data[offset : offset + 8]
        (length,) = _HEADER.unpack(length_bytes)
        (length_crc,) = _CRC.unpack(data[offset + 8 : offset + 12])
        end = offset + 12 + length
        if masked_crc32c(length_bytes) != length_crc or end + 4 > len(data):
            break
        (data_crc,) = _CRC.unpack(data[end : end + 4])
        if masked_crc32c(data[offset + 12 : end]) != data_crc:
            break
        offset, count = end + 4, count + 1
    return count, offset
