"""The composition root in-process: adapters plug in through the context; reflection reaches their pools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.errors import ConfigError
from gateway.server import BUILTIN_ADAPTERS, Gateway, resolve_adapters
from gateway.settings import Settings

POOL_SERVICE = "test.pool.v1.Pooled"


def _own_pool() -> descriptor_pool.DescriptorPool:
    """A pool holding one file with one service, as an adapter with private generated code has."""
    fdp = descriptor_pb2.FileDescriptorProto(name="test/pooled.proto", package="test.pool.v1", syntax="proto3")
    fdp.message_type.add(name="Msg")
    svc = fdp.service.add(name="Pooled")
    svc.method.add(name="Call", input_type=".test.pool.v1.Msg", output_type=".test.pool.v1.Msg")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return pool


class PooledAdapter:
    """Registers a service whose descriptors live in its own pool, and an HTTP route."""

    name = "pooled"

    async def start(self, ctx: Any) -> None:
        assert ctx.settings["flavour"] == "x"

        async def call(request: bytes, context: Any) -> bytes:
            return request

        handler = grpc.method_handlers_generic_handler(
            POOL_SERVICE, {"Call": grpc.unary_unary_rpc_method_handler(call)}
        )
        ctx.add_grpc_service(lambda server: server.add_generic_rpc_handlers((handler,)), [POOL_SERVICE])
        ctx.add_reflection_files(_own_pool())

        async def hello(request: Any) -> Any:
            from starlette.responses import JSONResponse

            return JSONResponse({"hello": ctx.settings["flavour"]})

        ctx.add_http_route("functions", "/hello", hello, ["GET"])
        with pytest.raises(ValueError, match="no HTTP listener"):
            ctx.add_http_route("nowhere", "/x", hello)

    async def stop(self) -> None:
        pass


def _settings(**adapters: dict[str, Any]) -> Settings:
    return Settings(
        storage={"backend": "memory"},
        grpc={"ports": [0]},
        http={"ingress_port": 0, "admin_port": 0, "functions_port": 0, "metrics_port": 0},
        scheduler={"shutdown_grace_seconds": 0.5},
        adapters=adapters,
    )


@pytest.fixture
async def gateway(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    import os

    for key in list(os.environ):
        if key.startswith("GATEWAY_"):
            monkeypatch.delenv(key)
    gw = Gateway(_settings(pooled={"enabled": True, "module": "tests.unit.test_server:PooledAdapter", "flavour": "x"}))
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


async def test_adapter_seam(gateway: Gateway) -> None:
    target = f"127.0.0.1:{gateway.grpc_ports[0]}"
    async with aio.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        resp = await health.Check(health_pb2.HealthCheckRequest(service=POOL_SERVICE))
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        assert await channel.unary_unary(f"/{POOL_SERVICE}/Call")(b"\x08\x01") == b"\x08\x01"
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(file_containing_symbol=POOL_SERVICE),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="grpc.health.v1.Health"),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="no.such.Thing"),
        ]
        answers = [r async for r in stub.ServerReflectionInfo(iter(requests))]
    pooled = descriptor_pb2.FileDescriptorProto.FromString(answers[0].file_descriptor_response.file_descriptor_proto[0])
    assert pooled.name == "test/pooled.proto"
    assert answers[1].file_descriptor_response.file_descriptor_proto
    assert answers[2].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]

    async with httpx.AsyncClient() as http:
        functions = f"http://127.0.0.1:{gateway.http['functions'].port}"
        assert (await http.get(f"{functions}/hello")).json() == {"hello": "x"}
        metrics = f"http://127.0.0.1:{gateway.http['metrics'].port}"
        text = (await http.get(f"{metrics}/metrics")).text
        assert f'grpc_service="{POOL_SERVICE}"' in text
        assert (await http.get(f"{metrics}/healthz")).status_code == 200
        gateway.serving = False
        assert (await http.get(f"{metrics}/healthz")).status_code == 503
        gateway.serving = True


def test_enabled_builtin_that_does_not_exist_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTIN_ADAPTERS, "ghost", "adapters.ghost:GhostAdapter")
    with pytest.raises(ConfigError, match=r"adapters\.ghost\.enabled"):
        resolve_adapters(_settings(ghost={"enabled": True}))
    with pytest.raises(ConfigError, match="no built-in adapter"):
        resolve_adapters(_settings(mystery={"enabled": True}))
    assert resolve_adapters(_settings(zeebe={"enabled": False})) == []
