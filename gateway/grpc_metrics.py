"""The gRPC server metrics of go-grpc-prometheus, same names, labels and semantics, for grpc.aio.

`grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`, `grpc_server_msg_received_total`,
`grpc_server_msg_sent_total` (and the opt-in `grpc_server_handling_seconds`), labelled `grpc_type`
(unary|client_stream|server_stream|bidi_stream), `grpc_service`, `grpc_method`, with grpc_code as Go
prints it (OK, Canceled, NotFound, ...). Exposed by `gateway.observability.GatewayMetrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

#: Go's codes.Code.String() for each Python status code (CANCELLED -> "Canceled").
GO_CODES: dict[grpc.StatusCode, str] = {
    code: "".join(part.capitalize() for part in code.name.split("_")) for code in grpc.StatusCode
}
GO_CODES[grpc.StatusCode.OK] = "OK"
GO_CODES[grpc.StatusCode.CANCELLED] = "Canceled"

_HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _code_after_error(exc: BaseException, context: Any) -> str:
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
        remaining = context.time_remaining()
        return "DeadlineExceeded" if remaining is not None and remaining <= 0 else "Canceled"
    # abort(code) raises AbortError with the code set; a handler may also set_code then raise.
    code = context.code()
    return GO_CODES.get(code, "Unknown") if code not in (None, grpc.StatusCode.OK) else "Unknown"


def _code_after_return(context: Any) -> str:
    code = context.code()
    return "OK" if code is None else GO_CODES.get(code, "Unknown")


class _MethodSeries:
    """Label children of one method, resolved once (the hot path only increments)."""

    __slots__ = (
        "_handled",
        "_handled_children",
        "_labels",
        "handler",
        "received",
        "seconds",
        "sent",
        "started",
        "wrapped",
    )

    def __init__(self, owner: GrpcServerMetrics, method: str, grpc_type: str, handler: Any) -> None:
        service, _, name = method[1:].rpartition("/")
        labels = (grpc_type, service, name)
        self.started = owner.started.labels(*labels)
        self.received = owner.received.labels(*labels)
        self.sent = owner.sent.labels(*labels)
        self.seconds = owner.seconds.labels(*labels) if owner.seconds is not None else None
        self._handled = owner.handled
        self._handled_children: dict[str, Any] = {}
        self.handler = handler
        self.wrapped: Any = None
        self._labels = labels

    def done(self, code: str, started_at: float) -> None:
        child = self._handled_children.get(code)
        if child is None:
            child = self._handled_children[code] = self._handled.labels(*self._labels, code)
        child.inc()
        if self.seconds is not None:
            self.seconds.observe(time.perf_counter() - started_at)


class _CountingIterator:
    """Counts each request message the handler actually takes."""

    __slots__ = ("_inc", "_it")

    def __init__(self, iterable: Any, inc: Callable[[], None]) -> None:
        self._it = iterable.__aiter__()
        self._inc = inc

    def __aiter__(self) -> _CountingIterator:
        return self

    async def __anext__(self) -> Any:
        msg = await self._it.__anext__()
        self._inc()
        return msg


class _CountingContext:
    """Context proxy for reader/writer-style streaming handlers (context.read()/write())."""

    __slots__ = ("_ctx", "_m")

    def __init__(self, context: Any, series: _MethodSeries) -> None:
        self._ctx = context
        self._m = series

    async def read(self) -> Any:
        msg = await self._ctx.read()
        if msg is not grpc.aio.EOF:
            self._m.received.inc()
        return msg

    async def write(self, message: Any) -> None:
        await self._ctx.write(message)
        self._m.sent.inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


class GrpcServerMetrics(grpc.aio.ServerInterceptor):
    """`grpc_server_{started,handled,msg_received,msg_sent}_total` with Go semantics.

    Unary requests count one message received before the handler and one sent only on success;
    streams count each message. Unknown methods (no handler) are not counted. Sync handlers (run in
    a thread pool by grpc.aio) are passed through uncounted: the gateway's handlers are async.
    """

    def __init__(self, registry: CollectorRegistry, *, handling_histogram: bool = False) -> None:
        labels = ["grpc_type", "grpc_service", "grpc_method"]
        self.started = Counter(
            "grpc_server_started", "Total number of RPCs started on the server.", labels, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            [*labels, "grpc_code"],
            registry=registry,
        )
        self.received = Counter(
            "grpc_server_msg_received",
            "Total number of RPC stream messages received on the server.",
            labels,
            registry=registry,
        )
        self.sent = Counter(
            "grpc_server_msg_sent",
            "Total number of gRPC stream messages sent by the server.",
            labels,
            registry=registry,
        )
        self.seconds = (
            Histogram(
                "grpc_server_handling_seconds",
                "Histogram of response latency (seconds) of gRPC that had been application-level handled.",
                labels,
                buckets=_HANDLING_BUCKETS,
                registry=registry,
            )
            if handling_histogram
            else None
        )
        self._methods: dict[str, _MethodSeries] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method: str = handler_call_details.method
        series = self._methods.get(method)
        if series is None or series.handler is not handler:
            series = self._wrap(method, handler)
        return series.wrapped

    def _wrap(self, method: str, handler: Any) -> _MethodSeries:
        rs, ss = handler.request_streaming, handler.response_streaming
        grpc_type = ("bidi_stream" if ss else "client_stream") if rs else ("server_stream" if ss else "unary")
        series = _MethodSeries(self, method, grpc_type, handler)
        behaviour = (
            (handler.stream_stream if ss else handler.stream_unary)
            if rs
            else (handler.unary_stream if ss else handler.unary_unary)
        )
        if not (inspect.iscoroutinefunction(behaviour) or inspect.isasyncgenfunction(behaviour)):
            series.wrapped = handler
        else:
            make = {
                (False, False): grpc.unary_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler,
            }[(rs, ss)]
            series.wrapped = make(
                _instrument(behaviour, series, rs, ss),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        self._methods[method] = series
        return series


def _instrument(behaviour: Any, m: _MethodSeries, rs: bool, ss: bool) -> Any:
    if not ss:

        async def unary_response(request: Any, context: Any) -> Any:
            t0 = time.perf_counter()
            m.started.inc()
            if rs:
                request = _CountingIterator(request, m.received.inc)
                ctx = _CountingContext(context, m)
            else:
                m.received.inc()
                ctx = context
            try:
                response = await behaviour(request, ctx)
            except BaseException as exc:
                m.done(_code_after_error(exc, context), t0)
                raise
            code = _code_after_return(context)
            if code == "OK":
                m.sent.inc()
            m.done(code, t0)
            return response

        return unary_response

    if inspect.isasyncgenfunction(behaviour):

        async def stream_response(request: Any, context: Any) -> AsyncIterator[Any]:
            t0 = time.perf_counter()
            m.started.inc()
            if rs:
                request = _CountingIterator(request, m.received.inc)
            else:
                m.received.inc()
            try:
                async with contextlib.aclosing(behaviour(request, context)) as responses:
                    async for response in responses:
                        yield response
                        # Resumed: the server has sent it.
                        m.sent.inc()
            except BaseException as exc:
                m.done(_code_after_error(exc, context), t0)
                raise
            m.done(_code_after_return(context), t0)

        return stream_response

    async def writer_response(request: Any, context: Any) -> None:
        t0 = time.perf_counter()
        m.started.inc()
        if rs:
            request = _CountingIterator(request, m.received.inc)
        else:
            m.received.inc()
        try:
            await behaviour(request, _CountingContext(context, m))
        except BaseException as exc:
            m.done(_code_after_error(exc, context), t0)
            raise
        m.done(_code_after_return(context), t0)

    return writer_response
