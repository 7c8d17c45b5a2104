"""Request logs: a sample of a client's calls as TF Serving PredictionLog records in TFRecords."""

from __future__ import annotations

from clients.request_log.records import (
    LOG_SUFFIX,
    LoggedCall,
    decode_logged_call,
    log_files,
    prediction_log,
    read_request_logs,
)

__all__ = [
    "LOG_SUFFIX",
    "LoggedCall",
    "decode_logged_call",
    "log_files",
    "prediction_log",
    "read_request_logs",
]
