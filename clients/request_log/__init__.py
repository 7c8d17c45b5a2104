"""Request logging for the client: a sample of its calls as TF Serving PredictionLog records.

    from clients.request_log import RequestLog
    with RequestLog("logs/", sampling_rate=0.01) as request_log:
        client = GrpcClient("localhost:8500", request_log=request_log)

The log itself (format, files, writer, reader) is the `requestlog` package, which the server
writes with too; this package holds the client's side of it (`calls`: a call's request id,
timing and sampled record; `rest_messages`: a REST call as the gRPC messages TF Serving logs)
and names the log's public API for the client's users. Names load on first use, so a client
that logs nothing never imports the writer or the record format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from requestlog import (
        LOG_SUFFIX,
        LoggedCall,
        RequestLog,
        RequestLogStats,
        decode_logged_call,
        log_files,
        prediction_log,
        read_request_logs,
    )

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


def __getattr__(name: str) -> Any:
    if name in __all__:
        import requestlog

        return getattr(requestlog, name)
    raise AttributeError(f"module 'clients.request_log' has no attribute {name!r}")
