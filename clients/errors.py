"""The client's errors, and the one table per transport that maps the server's answers onto them.

Every error carries the server's text as ``message``, the transport's code as ``code`` (a
``grpc.StatusCode``, an HTTP status, or None when the client detected the problem itself
or no answer came) and the original exception as ``__cause__``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DeadlineExceededError",
    "GRPC_ERRORS",
    "HTTP_ERRORS",
    "InvalidInputError",
    "ModelNotFoundError",
    "ResourceExhaustedError",
    "ServerError",
    "ServerUnavailableError",
    "ServingClientError",
    "error_for_grpc_status",
    "error_for_http_status",
]


class ServingClientError(Exception):
    """Base of every error a client raises for a failed call."""

    def __init__(self, message: str, code: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        code = getattr(self.code, "name", self.code)
        return self.message if code is None else f"{self.message} ({code})"


class ModelNotFoundError(ServingClientError):
    """The model, or the requested version of it, is not being served."""


class InvalidInputError(ServingClientError):
    """The server refused the request: bad inputs, unknown signature or label, malformed body."""


class ServerUnavailableError(ServingClientError):
    """No server answered (refused, reset, TLS failure) or it said it is unavailable/overloaded."""


class DeadlineExceededError(ServingClientError):
    """The call did not finish before its deadline."""


class ResourceExhaustedError(ServingClientError):
    """The server refused the request for its size or for lack of capacity (quota)."""


class ServerError(ServingClientError):
    """The server failed while handling the request (an internal or unknown error)."""


# gRPC status code name -> error. TF Serving keeps TF's code when it answers, so these are
# also the names in a StatusProto's error_code. FAILED_PRECONDITION is TF Serving's code for
# an unknown predict signature, which REST reports as 400. UNIMPLEMENTED on gRPC means the
# server lacks the RPC, a server-side gap. Codes not listed (CANCELLED, ALREADY_EXISTS,
# PERMISSION_DENIED, ABORTED, UNAUTHENTICATED) raise the base ServingClientError.
GRPC_ERRORS: dict[str, type[ServingClientError]] = {
    "INVALID_ARGUMENT": InvalidInputError,
    "FAILED_PRECONDITION": InvalidInputError,
    "OUT_OF_RANGE": InvalidInputError,
    "NOT_FOUND": ModelNotFoundError,
    "DEADLINE_EXCEEDED": DeadlineExceededError,
    "RESOURCE_EXHAUSTED": ResourceExhaustedError,
    "UNAVAILABLE": ServerUnavailableError,
    "UNKNOWN": ServerError,
    "INTERNAL": ServerError,
    "DATA_LOSS": ServerError,
    "UNIMPLEMENTED": ServerError,
}

# HTTP status -> error, following TF Serving's ToHTTPStatusCode. Its 501 means a JSON value
# cannot be converted to the input's dtype (half, bfloat16, complex): the request must change
# (send it over gRPC), so it is InvalidInputError. 413 is a body over the server's (or a
# proxy's) size limit, like gRPC's RESOURCE_EXHAUSTED for an oversized message; 502 is a
# gateway that could not reach the server. Other 5xx are ServerError; other 4xx (401, 403,
# 409, 499) the base ServingClientError.
HTTP_ERRORS: dict[int, type[ServingClientError]] = {
    400: InvalidInputError,
    404: ModelNotFoundError,
    413: ResourceExhaustedError,
    429: ResourceExhaustedError,
    501: InvalidInputError,
    502: ServerUnavailableError,
    503: ServerUnavailableError,
    504: DeadlineExceededError,
}


def error_for_grpc_status(code: Any, message: str) -> ServingClientError:
    """The error for a gRPC status: code is a grpc.StatusCode or a status name such as "NOT_FOUND"."""
    name = getattr(code, "name", code)
    return GRPC_ERRORS.get(name, ServingClientError)(message, code)


def error_for_http_status(status: int, message: str) -> ServingClientError:
    """The error for an HTTP error status and the message of its body."""
    fallback = ServerError if status >= 500 else ServingClientError
    return HTTP_ERRORS.get(status, fallback)(message, status)
