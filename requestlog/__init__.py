"""Request logs: sampled calls as TF Serving PredictionLog records in rotating TFRecord files.

One home for the format (`records`), the files (`files`), the writer (`writer`) and the reader
(`records.read_request_logs`): the client and the server write with it, monitoring reads with
it. TensorFlow-free; it imports only `wire`.

Names load on first use, so a process that logs nothing never imports the writer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from requestlog.records import (
        LOG_SUFFIX,
        LoggedCall,
        decode_logged_call,
        log_files,
        prediction_log,
        read_request_logs,
    )
    from requestlog.stats import RequestLogStats
    from requestlog.writer import RequestLog

__all__ = [
    "LOG_SUFFIX",
    "REQUEST_ID_HEADER",
    "REQUEST_ID_METADATA",
    "LoggedCall",
    "RequestLog",
    "RequestLogStats",
    "decode_logged_call",
    "log_files",
    "prediction_log",
    "read_request_logs",
]

# How a call's request id travels, so that server-side and client-side logs share it.
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_METADATA = "x-request-id"  # gRPC metadata keys are lower-case

_LAZY = {
    "LOG_SUFFIX": "requestlog.records",
    "LoggedCall": "requestlog.records",
    "decode_logged_call": "requestlog.records",
    "log_files": "requestlog.records",
    "prediction_log": "requestlog.records",
    "read_request_logs": "requestlog.records",
    "RequestLog": "requestlog.writer",
    "RequestLogStats": "requestlog.stats",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'requestlog' has no attribute {name!r}")
