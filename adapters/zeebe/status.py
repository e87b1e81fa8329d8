"""The one place where core errors become gRPC statuses, as Zeebe's gateway maps them.

Broker rejections read `Command '<INTENT>' rejected with code '<TYPE>': <reason>`; INVALID_STATE
rejections travel as FAILED_PRECONDITION. Requests the gateway refuses before any command exists
(`BadRequest`) carry just their reason.
"""

from __future__ import annotations

import grpc

from gateway.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    LeaseLost,
    NotFound,
    ResourceExhausted,
    Unavailable,
)


class BadRequest(InvalidArgument):
    """The gateway refuses the request itself (no command was written)."""


class Unimplemented(Exception):
    """An rpc this gateway does not serve."""


def to_status(exc: BaseException, intent: str) -> tuple[grpc.StatusCode, str]:
    """Map an exception raised while serving `intent` to (status code, message)."""
    if isinstance(exc, BadRequest):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    rejections: tuple[tuple[type[BaseException], grpc.StatusCode, str], ...] = (
        (NotFound, grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
        (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS"),
        (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE"),
        (LeaseLost, grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE"),
    )
    for kind, code, rejection in rejections:
        if isinstance(exc, kind):
            return code, f"Command '{intent}' rejected with code '{rejection}': {exc}"
    if isinstance(exc, PermissionError):
        return grpc.StatusCode.PERMISSION_DENIED, str(exc)
    if isinstance(exc, DeadlineExceeded | TimeoutError):
        return grpc.StatusCode.DEADLINE_EXCEEDED, f"Time out between gateway and broker: {exc}"
    if isinstance(exc, ResourceExhausted):
        return grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc)
    if isinstance(exc, Unavailable):
        return grpc.StatusCode.UNAVAILABLE, str(exc)
    if isinstance(exc, Unimplemented):
        return grpc.StatusCode.UNIMPLEMENTED, str(exc)
    if isinstance(exc, ConnectionAbortedError):
        return grpc.StatusCode.ABORTED, str(exc)
    return grpc.StatusCode.INTERNAL, f"Unexpected error: {type(exc).__name__}: {exc}"
