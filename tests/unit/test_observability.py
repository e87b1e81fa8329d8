"""The gRPC server metrics carry go-grpc-prometheus names and values; the gateway_* series behave."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc import aio

from gateway.model import InstanceStatus, Job
from gateway.observability import GatewayMetrics
from gateway.ports import CommitResult, TickResult

SVC = "test.v1.Svc"


async def _ok(request: bytes, context: Any) -> bytes:
    return request


async def _not_found(request: bytes, context: Any) -> bytes:
    await context.abort(grpc.StatusCode.NOT_FOUND, "nope")
    raise AssertionError("unreachable")


async def _boom(request: bytes, context: Any) -> bytes:
    raise RuntimeError("bug")


async def _three(request: bytes, context: Any) -> AsyncIterator[bytes]:
    for i in range(3):
        yield bytes([i])


async def _three_written(request: bytes, context: Any) -> None:
    for i in range(3):
        await context.write(bytes([i]))


async def _echo_all(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    async for msg in requests:
        yield msg


async def _sum(requests: AsyncIterator[bytes], context: Any) -> bytes:
    return b"".join([m async for m in requests])


async def _hang(request: bytes, context: Any) -> AsyncIterator[bytes]:
    yield b"first"
    await asyncio.sleep(30)


@pytest.fixture
async def served() -> AsyncIterator[tuple[GatewayMetrics, aio.Channel]]:
    metrics = GatewayMetrics("1.2.3")
    server = aio.server(interceptors=[metrics.grpc_interceptor()])
    handlers = {
        "Ok": grpc.unary_unary_rpc_method_handler(_ok),
        "NotFound": grpc.unary_unary_rpc_method_handler(_not_found),
        "Boom": grpc.unary_unary_rpc_method_handler(_boom),
        "Three": grpc.unary_stream_rpc_method_handler(_three),
        "ThreeWritten": grpc.unary_stream_rpc_method_handler(_three_written),
        "Bidi": grpc.stream_stream_rpc_method_handler(_echo_all),
        "Sum": grpc.stream_unary_rpc_method_handler(_sum),
        "Hang": grpc.unary_stream_rpc_method_handler(_hang),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SVC, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield metrics, channel
    finally:
        await channel.close()
        await server.stop(None)


def _value(metrics: GatewayMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def _labels(grpc_type: str, method: str) -> dict[str, str]:
    return {"grpc_type": grpc_type, "grpc_service": SVC, "grpc_method": method}


async def test_unary_ok_and_abort(served: tuple[GatewayMetrics, aio.Channel]) -> None:
    metrics, channel = served
    assert await channel.unary_unary(f"/{SVC}/Ok")(b"hi") == b"hi"
    with pytest.raises(aio.AioRpcError) as err:
        await channel.unary_unary(f"/{SVC}/NotFound")(b"x")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    ok, nf = _labels("unary", "Ok"), _labels("unary", "NotFound")
    assert _value(metrics, "grpc_server_started_total", **ok) == 1
    assert _value(metrics, "grpc_server_handled_total", **ok, grpc_code="OK") == 1
    assert _value(metrics, "grpc_server_msg_received_total", **ok) == 1
    assert _value(metrics, "grpc_server_msg_sent_total", **ok) == 1
    assert _value(metrics, "grpc_server_started_total", **nf) == 1
    assert _value(metrics, "grpc_server_handled_total", **nf, grpc_code="NotFound") == 1
    assert _value(metrics, "grpc_server_msg_received_total", **nf) == 1
    # Go counts a unary response as sent only on success.
    assert _value(metrics, "grpc_server_msg_sent_total", **nf) == 0


async def test_uncaught_exception_is_unknown(served: tuple[GatewayMetrics, aio.Channel]) -> None:
    metrics, channel = served
    with pytest.raises(aio.AioRpcError):
        await channel.unary_unary(f"/{SVC}/Boom")(b"x")
    assert _value(metrics, "grpc_server_handled_total", **_labels("unary", "Boom"), grpc_code="Unknown") == 1


@pytest.mark.parametrize("method", ["Three", "ThreeWritten"])
async def test_server_stream_counts_each_message(served: tuple[GatewayMetrics, aio.Channel], method: str) -> None:
    metrics, channel = served
    got = [m async for m in channel.unary_stream(f"/{SVC}/{method}")(b"go")]
    assert got == [b"\x00", b"\x01", b"\x02"]
    labels = _labels("server_stream", method)
    assert _value(metrics, "grpc_server_started_total", **labels) == 1
    assert _value(metrics, "grpc_server_msg_received_total", **labels) == 1
    assert _value(metrics, "grpc_server_msg_sent_total", **labels) == 3
    assert _value(metrics, "grpc_server_handled_total", **labels, grpc_code="OK") == 1


async def test_bidi_and_client_stream(served: tuple[GatewayMetrics, aio.Channel]) -> None:
    metrics, channel = served
    call = channel.stream_stream(f"/{SVC}/Bidi")(iter([b"a", b"b", b"c"]))
    assert [m async for m in call] == [b"a", b"b", b"c"]
    assert await channel.stream_unary(f"/{SVC}/Sum")(iter([b"a", b"b"])) == b"ab"
    bidi, cs = _labels("bidi_stream", "Bidi"), _labels("client_stream", "Sum")
    assert _value(metrics, "grpc_server_msg_received_total", **bidi) == 3
    assert _value(metrics, "grpc_server_msg_sent_total", **bidi) == 3
    assert _value(metrics, "grpc_server_handled_total", **bidi, grpc_code="OK") == 1
    assert _value(metrics, "grpc_server_msg_received_total", **cs) == 2
    assert _value(metrics, "grpc_server_msg_sent_total", **cs) == 1


async def test_client_cancel_is_canceled(served: tuple[GatewayMetrics, aio.Channel]) -> None:
    metrics, channel = served
    call = channel.unary_stream(f"/{SVC}/Hang")(b"x")
    assert await call.read() == b"first"
    call.cancel()
    labels = _labels("server_stream", "Hang")
    for _ in range(100):
        if _value(metrics, "grpc_server_handled_total", **labels, grpc_code="Canceled"):
            break
        await asyncio.sleep(0.02)
    assert _value(metrics, "grpc_server_handled_total", **labels, grpc_code="Canceled") == 1
    assert _value(metrics, "grpc_server_msg_sent_total", **labels) == 1


async def test_unknown_method_not_counted(served: tuple[GatewayMetrics, aio.Channel]) -> None:
    metrics, channel = served
    with pytest.raises(aio.AioRpcError) as err:
        await channel.unary_unary(f"/{SVC}/Missing")(b"x")
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    text = metrics.render().decode()
    assert "Missing" not in text


async def test_exposition_names(served: tuple[GatewayMetrics, aio.Channel]) -> None:
    metrics, channel = served
    await channel.unary_unary(f"/{SVC}/Ok")(b"hi")
    text = metrics.render().decode()
    assert not re.search(r"^\w+_created[{ ]", text, re.M)
    assert 'gateway_build_info{version="1.2.3"} 1.0' in text
    for name in ("started", "handled", "msg_received", "msg_sent"):
        assert f"grpc_server_{name}_total{{" in text
    assert 'grpc_type="unary"' in text and 'grpc_code="OK"' in text
    assert "grpc_server_handling_seconds" not in text  # opt-in


def test_go_code_names() -> None:
    from gateway.grpc_metrics import GO_CODES

    assert sorted(GO_CODES.values()) == sorted(
        "OK Canceled Unknown InvalidArgument DeadlineExceeded NotFound AlreadyExists PermissionDenied "
        "ResourceExhausted FailedPrecondition Aborted OutOfRange Unimplemented Internal Unavailable "
        "DataLoss Unauthenticated".split()
    )


def _job(queue: str, origin: str = "zeebe", **kw: Any) -> Job:
    return Job(id=f"j-{queue}", instance_id="i", queue=queue, origin=origin, **kw)


def test_gateway_series_and_queue_label_limit() -> None:
    m = GatewayMetrics("0", queue_label_limit=2)
    now = 1000.0
    jobs = [_job("a", created_at=now - 2), _job("b", created_at=now - 1)]
    jobs.append(_job("c", origin="", created_at=now))
    m.on_commit(CommitResult(created_jobs=jobs), now)
    m.on_leased(jobs, now)
    done = _job("a", attempt=2, lease_expires=now + 25, timeout=30.0)  # leased elsewhere: estimated
    m.on_commit(CommitResult(finished_jobs=[(done, "completed")]), now)
    here = _job("b", attempt=1)
    m.on_leased([here], now)
    m.on_commit(CommitResult(finished_jobs=[(here, "failed")]), now + 1.5)  # leased here: measured
    m.on_tick(TickResult(fired_timers=2, expired_jobs=[_job("a")]))
    m.set_gauges(
        {"a": 3, "c": 1, "d": 2},
        {("zeebe", InstanceStatus.RUNNING): 4, ("zeebe", InstanceStatus.COMPLETED): 5},
    )
    v = m.registry.get_sample_value
    assert v("gateway_jobs_created_total", {"protocol": "zeebe", "queue": "a"}) == 1
    assert v("gateway_jobs_created_total", {"protocol": "other", "queue": "other"}) == 1
    assert v("gateway_jobs_leased_total", {"protocol": "zeebe", "queue": "b"}) == 2
    assert v("gateway_job_queue_wait_seconds_sum", {"protocol": "zeebe"}) == 3.0
    assert v("gateway_jobs_finished_total", {"protocol": "zeebe", "queue": "a", "outcome": "completed"}) == 1
    assert v("gateway_job_execution_seconds_sum", {"protocol": "zeebe", "outcome": "completed"}) == 5.0
    assert v("gateway_job_execution_seconds_sum", {"protocol": "zeebe", "outcome": "failed"}) == 1.5
    assert v("gateway_timers_fired_total") == 2
    assert v("gateway_job_lease_expired_total", {"protocol": "zeebe"}) == 1
    assert v("gateway_queue_depth", {"queue": "a"}) == 3
    assert v("gateway_queue_depth", {"queue": "other"}) == 3  # c and d beyond the limit of 2
    assert v("gateway_instances", {"protocol": "zeebe", "status": "RUNNING"}) == 4
    assert v("gateway_instances_active", {"protocol": "zeebe"}) == 4
    m.set_gauges({}, {})
    assert v("gateway_queue_depth", {"queue": "a"}) == 0
    assert v("gateway_instances_active", {"protocol": "zeebe"}) == 0
    m.worker_connected("zeebe", 2)
    m.worker_connected("zeebe", -1)
    assert v("gateway_workers_connected", {"protocol": "zeebe"}) == 1
    m.observe_step("probe", 0.01)
    m.observe_storage_commit("sqlite", 4, 0.002)
    assert v("gateway_storage_commit_batch_size_sum", {"backend": "sqlite"}) == 4
    with pytest.raises(ValueError):
        m.counter("zeebe_jobs", "not ours")
    assert m.counter("gateway_x", "adapter series", ["k"]) is not None
