"""The one mapping from `gateway.errors` to gRPC status codes, and the handler wrappers using it."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError

import gateway.errors as errors

log = logging.getLogger("adapters.durabletask")

_CODES: dict[type[errors.GatewayError], grpc.StatusCode] = {
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    # A stale or duplicate completion token: the work item is no longer this worker's.
    errors.LeaseLost: grpc.StatusCode.NOT_FOUND,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def to_status(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The gRPC status and message for an exception raised while serving a call."""
    for cls in type(exc).__mro__:
        code = _CODES.get(cls)
        if code is not None:
            return code, str(exc) or cls.__name__
    if isinstance(exc, DecodeError | ValueError | UnicodeError):
        return grpc.StatusCode.INVALID_ARGUMENT, f"malformed request: {exc}"
    return grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}"


F = TypeVar("F", bound=Callable[..., Any])


def unary(fn: F) -> F:
    """Wrap a unary handler: gateway errors (and garbage) become a clean gRPC status."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await fn(self, request, context)
        except Exception as exc:
            await _abort(context, exc, fn.__name__)

    return wrapper  # type: ignore[return-value]


def streaming(fn: F) -> F:
    """Wrap a server-streaming handler (an async generator) the same way."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for item in fn(self, request, context):
                yield item
        except Exception as exc:
            await _abort(context, exc, fn.__name__)

    return wrapper  # type: ignore[return-value]


async def _abort(context: grpc.aio.ServicerContext, exc: Exception, method: str) -> None:
    if isinstance(exc, grpc.aio.AbortError):
        raise exc
    code, message = to_status(exc)
    if code is grpc.StatusCode.INTERNAL:
        log.exception("durabletask %s failed", method)
    else:
        log.debug("durabletask %s: %s %s", method, code.name, message)
    await context.abort(code, message)
