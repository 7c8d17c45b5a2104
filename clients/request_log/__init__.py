"""Request logs: a sample of a client's calls as TF Serving PredictionLog records in TFRecords.

    from clients.request_log import RequestLog
    with RequestLog("logs/", sampling_rate=0.01) as request_log:
        client = GrpcClient("localhost:8500", request_log=request_log)

Names load on first use, so a client that logs nothing never imports the writer or the
record format.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clients.request_log.records import (
        LOG_SUFFIX,
        LoggedCall,
        decode_logged_call,
        log_files,
        prediction_log,
        read_request_logs,
    )
    from clients.request_log.stats import RequestLogStats
    from clients.request_log.writer import RequestLog

__all__ = [
    "LOG_SUFFIX",
    "LoggedCall",
    "RequestLog",
    "RequestLogStats",
    "decode_logged_call",
    "log_files",
    "prediction_log",
    "read_request_logs",
]

_LAZY = {
    "LOG_SUFFIX": "clients.request_log.records",
    "LoggedCall": "clients.request_log.records",
    "decode_logged_call": "clients.request_log.records",
    "log_files": "clients.request_log.records",
    "prediction_log": "clients.request_log.records",
    "read_request_logs": "clients.request_log.records",
    "RequestLog": "clients.request_log.writer",
    "RequestLogStats": "clients.request_log.stats",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'clients.request_log' has no attribute {name!r}")
