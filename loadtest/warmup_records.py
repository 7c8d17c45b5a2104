"""Read a SavedModel's warmup file (a TFRecord of PredictionLog protos) without TensorFlow."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from google.protobuf import message_factory
from google.protobuf.message import DecodeError

from clients import protos
from clients.protos.builder import BYTES, MESSAGE, field, message, private_pool, proto_file

__all__ = [
    "WARMUP_FILE",
    "WarmupRequest",
    "masked_crc32c",
    "read_tfrecords",
    "read_warmup_requests",
    "warmup_path",
]

WARMUP_FILE = "tf_serving_warmup_requests"

# PredictionLog (tensorflow_serving/apis/prediction_log.proto) with only the logs TF Serving
# replays at warmup. Each log's `request` is declared as bytes: on the wire a length-delimited
# bytes field and an embedded message are the same, so the request parses later with the
# clients' own message classes. log_metadata (1), the responses and the other logs are left out
# and skipped as unknown fields.
_LOG_FILE = proto_file(
    "loadtest/prediction_log.proto",
    "loadtest.warmup",
    messages=[
        message("ClassifyLog", field("request", 1, BYTES)),
        message("RegressLog", field("request", 1, BYTES)),
        message("PredictLog", field("request", 1, BYTES)),
        message(
            "PredictionLog",
            field("classify_log", 2, MESSAGE, "ClassifyLog", oneof="log_type"),
            field("regress_log", 3, MESSAGE, "RegressLog", oneof="log_type"),
            field("predict_log", 6, MESSAGE, "PredictLog", oneof="log_type"),
        ),
    ],
)
_POOL = private_pool([_LOG_FILE])
_PredictionLog = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName("loadtest.warmup.PredictionLog")
)
# log field -> (kind, the clients' request class)
_REQUESTS: dict[str, tuple[str, Any]] = {
    "predict_log": ("predict", protos.PredictRequest),
    "classify_log": ("classify", protos.ClassificationRequest),
    "regress_log": ("regress", protos.RegressionRequest),
}


@dataclass(frozen=True)
class WarmupRequest:
    """One replayable request: its kind and a clients.protos request message."""

    kind: Literal["predict", "classify", "regress"]
    request: Any

    @property
    def signature_name(self) -> str:
        """The signature the request names ("" means serving_default)."""
        return self.request.model_spec.signature_name


def warmup_path(version_dir: Path) -> Path:
    """Where TF Serving looks for a version's warmup requests."""
    return Path(version_dir) / "assets.extra" / WARMUP_FILE


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: CRC-32C (Castagnoli) of data, rotated and offset ("masked")."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_tfrecords(path: Path) -> Iterator[bytes]:
    """The records of a TFRecord file: each is a little-endian uint64 length, the masked CRC of
    those 8 bytes, the data, and the masked CRC of the data. Both checksums are verified.

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
        (length,) = struct.unpack("<Q", length_bytes)
        (length_crc,) = struct.unpack("<I", header[8:])
        if masked_crc32c(length_bytes) != length_crc:
            raise ValueError(f"{path}: record {index} has a corrupt length")
        start, end = offset + 12, offset + 12 + length
        if end + 4 > len(data):
            raise ValueError(f"{path}: record {index} is truncated (data)")
        record = data[start:end]
        (data_crc,) = struct.unpack("<I", data[end : end + 4])
        if masked_crc32c(record) != data_crc:
            raise ValueError(f"{path}: record {index} fails its checksum")
        yield record
        offset, index = end + 4, index + 1


def read_warmup_requests(path: Path) -> list[WarmupRequest]:
    """The predict, classify and regress requests of a warmup file, in file order.

    Raises:
        OSError: the file cannot be read.
        ValueError: a record is corrupt or is not a PredictionLog of those kinds.
    """
    requests = []
    for index, raw in enumerate(read_tfrecords(path)):
        try:
            log = _PredictionLog.FromString(raw)
            which = log.WhichOneof("log_type")
            if which is None:
                raise ValueError(
                    f"{path}: record {index} holds no predict, classify or regress log"
                )
            kind, request_class = _REQUESTS[which]
            request = request_class.FromString(getattr(log, which).request)
        except DecodeError as err:
            raise ValueError(f"{path}: record {index} is not a PredictionLog") from err
        requests.append(WarmupRequest(kind, request))  # type: ignore[arg-type]
    return requests
