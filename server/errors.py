"""The server's one error type and the two tables that map it onto gRPC and HTTP."""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)

# What a client reads when the server fails in a way no check foresaw; the traceback is logged.
INTERNAL_MESSAGE = "Internal error while serving the request; the server log has the details."


class Code(enum.IntEnum):
    """Canonical status codes (absl / TensorFlow); the numbers equal gRPC's."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


# TF Serving's ToHTTPStatusCode (contract section 1.8); anything missing maps to 500.
HTTP_STATUS: dict[Code, int] = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}


class ServingError(Exception):
    """A request or model failure carrying a canonical code and TF Serving's message."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = Code(code)
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)

    def __repr__(self) -> str:
        return f"ServingError({self.code.name}, {self.message!r})"


def invalid_argument(message: str) -> ServingError:
    return ServingError(Code.INVALID_ARGUMENT, message)


def not_found(message: str) -> ServingError:
    return ServingError(Code.NOT_FOUND, message)


def failed_precondition(message: str) -> ServingError:
    return ServingError(Code.FAILED_PRECONDITION, message)


def unavailable(message: str) -> ServingError:
    return ServingError(Code.UNAVAILABLE, message)


def unimplemented(message: str) -> ServingError:
    return ServingError(Code.UNIMPLEMENTED, message)


def tensor_too_large(
    name: str, shape: Sequence[int], dtype: str, needed: int, limit: int
) -> ServingError:
    """INVALID_ARGUMENT for an input whose shape needs more memory than --max_tensor_bytes."""
    return invalid_argument(
        f"Input tensor '{name}' of shape [{','.join(map(str, shape))}] and dtype {dtype} needs "
        f"{needed} bytes, more than the limit of {limit} bytes (--max_tensor_bytes)"
    )


def internal_error(where: str) -> ServingError:
    """INTERNAL with a generic message for an unexpected exception, whose traceback is logged.

    Call it only from an except block: the edges turn whatever escaped a request's work into
    this, so no Python exception text reaches a client.
    """
    logger.exception("Unexpected failure serving %s", where)
    return ServingError(Code.INTERNAL, INTERNAL_MESSAGE)
