"""The composition root: settings -> storage (+ notifier) -> policy -> scheduler -> adapters -> servers.

This is the only module that picks concrete classes. `Gateway.start()` fails fast and clearly:
`ConfigError` (exit 2) for configuration, `Unavailable` (exit 1) for a taken port or an unreachable
database. `run()` serves until SIGTERM/SIGINT, then stops gracefully.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.clock import SystemClock
from gateway.errors import ConfigError, Unavailable
from gateway.http import HttpListener
from gateway.notifier import LocalNotifier
from gateway.observability import GatewayMetrics
from gateway.ports import Adapter, Clock, GrpcRegistrar, HttpEndpoint, Metrics, Notifier, Scheduler, Storage
from gateway.settings import Settings

log = logging.getLogger("gateway")

#: Built-in front-ends by config name. Only enabled ones are imported.
BUILTIN_ADAPTERS: dict[str, str] = {
    "durabletask": "adapters.durabletask:DurableTaskAdapter",
    "zeebe": "adapters.zeebe:ZeebeAdapter",
    "armonik": "adapters.armonik:ArmoniKAdapter",
    "azure_functions": "adapters.azure_functions:AzureFunctionsAdapter",
    "restate": "adapters.restate:RestateAdapter",
}


def gateway_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("unified-gateway")
    except PackageNotFoundError:
        return "0.0.0+unknown"


@dataclass(slots=True)
class AdapterSpec:
    """An enabled adapter: its config name, class and config table."""

    name: str
    cls: type
    table: dict[str, Any] = field(default_factory=dict)


def resolve_adapters(settings: Settings) -> list[AdapterSpec]:
    """Import every enabled adapter's class; ConfigError naming the key if one cannot be loaded."""
    specs = []
    for name, section in settings.adapters.items():
        if not section.enabled:
            continue
        target = section.module or BUILTIN_ADAPTERS.get(name)
        key = f"adapters.{name}.module" if section.module else f"adapters.{name}.enabled"
        if target is None:
            raise ConfigError(f'{key}: no built-in adapter {name!r}; set module = "pkg.mod:Class"')
        module_name, _, attr = target.partition(":")
        # `module = "tests.support..."` must resolve from the working directory even when started
        # through the console script (whose sys.path[0] is the venv's bin folder).
        if section.module and os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"{key}: cannot load adapter {target!r}: {exc}") from None
        specs.append(AdapterSpec(name, cls, section.table()))
    return specs


def build_storage(settings: Settings, metrics: Metrics) -> tuple[Storage, Notifier]:
    cfg = settings.storage
    try:
        if cfg.backend == "memory":
            from gateway.storage.memory import MemoryStorage

            return MemoryStorage(metrics=metrics), LocalNotifier()
        if cfg.backend == "sqlite":
            from gateway.storage.sqlite import SqliteStorage

            Path(cfg.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            storage: Storage = SqliteStorage(cfg.sqlite_path, synchronous=cfg.synchronous, metrics=metrics)
            return storage, LocalNotifier()
        from gateway.storage.postgres import PostgresNotifier, PostgresStorage
    except ImportError as exc:
        raise ConfigError(f"storage.backend = {cfg.backend!r}: backend not available: {exc}") from None
    except OSError as exc:
        raise Unavailable(f"storage.sqlite_path = {cfg.sqlite_path!r}: {exc.strerror}") from None
    storage = PostgresStorage(cfg.postgres_dsn, schema=cfg.postgres_schema, pool_size=cfg.pool_size, metrics=metrics)
    return storage, PostgresNotifier(cfg.postgres_dsn, cfg.postgres_schema)


def build_policy(name: str) -> Any:
    from gateway.scheduler.policy import POLICIES

    return POLICIES[name]()


class _ChainedPool:
    """Reflection over the default descriptor pool plus adapters' own pools (first hit wins)."""

    def __init__(self, pools: list[Any]) -> None:
        self._pools = pools

    def _first(self, method: str, *args: Any) -> Any:
        for pool in self._pools:
            try:
                return getattr(pool, method)(*args)
            except KeyError:
                continue
        raise KeyError(args[-1] if args else method)

    def __getattr__(self, method: str) -> Any:
        if not method.startswith("Find"):
            raise AttributeError(method)
        return lambda *args: self._first(method, *args)


class _AdapterContext:
    """`gateway.ports.AdapterContext` for one adapter."""

    def __init__(self, gateway: Gateway, name: str, table: dict[str, Any]) -> None:
        self._gateway = gateway
        self.name = name
        self.scheduler: Scheduler = gateway.scheduler
        self.clock: Clock = gateway.clock
        self.metrics: Metrics = gateway.metrics
        self.settings = table

    def add_grpc_service(self, registrar: GrpcRegistrar, service_names: Any) -> None:
        if self._gateway.grpc_started:
            raise RuntimeError(f"adapter {self.name}: gRPC services must be added in start()")
        registrar(self._gateway.grpc_server)
        self._gateway.grpc_services.extend(service_names)

    def add_reflection_files(self, descriptor_pool: Any) -> None:
        self._gateway.reflection_pools.append(descriptor_pool)

    def add_http_route(self, listener: str, path: str, endpoint: HttpEndpoint, methods: Any = None) -> None:
        target = self._gateway.http.get(listener)
        if target is None:
            raise ValueError(f"adapter {self.name}: no HTTP listener {listener!r} ({sorted(self._gateway.http)})")
        target.add_route(path, endpoint, methods)


class Gateway:
    """One running gateway process: storage, scheduler, adapters, gRPC and HTTP servers."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.version = gateway_version()
        self.clock: Clock = clock or SystemClock()
        self.metrics = GatewayMetrics(
            self.version,
            queue_label_limit=settings.metrics.queue_label_limit,
            grpc_handling_histogram=settings.metrics.grpc_handling_histogram,
        )
        self.grpc_server: grpc.aio.Server | None = None
        self.grpc_ports: list[int] = []
        self.grpc_services: list[str] = []
        self.grpc_started = False
        self.reflection_pools: list[Any] = []
        self.health = health.aio.HealthServicer()
        self.http: dict[str, HttpListener] = {}
        self.adapters: list[Any] = []
        self.serving = False
        self._storage_open = False

    # ------------------------------------------------------------------ start

    async def start(self) -> None:
        """Bring everything up, or raise ConfigError / Unavailable having released what was taken."""
        s = self.settings
        specs = resolve_adapters(s)
        try:
            self._bind_grpc()
            self._bind_http()
            self.storage, self.notifier = build_storage(s, self.metrics)
            await self.storage.open()
            self._storage_open = True
            try:
                await _maybe(self.notifier, "start")
            except Exception as exc:
                raise Unavailable(f"cannot start wake-ups (LISTEN/NOTIFY): {exc}") from None
            from gateway.scheduler import CoreScheduler

            self.scheduler = CoreScheduler(
                self.storage,
                self.clock,
                self.notifier,
                policy=build_policy(s.scheduler.policy),
                metrics=self.metrics,
                step_lease=s.scheduler.step_lease_seconds,
                poll_interval=s.scheduler.poll_interval_seconds,
            )
            for spec in specs:
                adapter = spec.cls()
                if not isinstance(adapter, Adapter):
                    raise ConfigError(f"adapters.{spec.name}: {spec.cls.__qualname__} is not an Adapter")
                await adapter.start(_AdapterContext(self, spec.name, spec.table))
                self.adapters.append(adapter)
            await self._register_health_and_reflection()
            await self.scheduler.start()
            assert self.grpc_server is not None
            await self.grpc_server.start()
            self.grpc_started = True
            for listener in self.http.values():
                listener.start()
        except BaseException:
            await self._stop_adapters()
            await self._release()
            raise
        self.serving = True
        log.info(self._summary())

    def _bind_grpc(self) -> None:
        g = self.settings.grpc
        options = [
            ("grpc.max_send_message_length", g.max_message_bytes),
            ("grpc.max_receive_message_length", g.max_message_bytes),
            # Without this gRPC sets SO_REUSEPORT and a second process "binds" a taken port silently.
            ("grpc.so_reuseport", 0),
            *g.keepalive.options(),
        ]
        self.grpc_server = grpc.aio.server(interceptors=[self.metrics.grpc], options=options)
        for port in g.ports:
            try:
                bound = self.grpc_server.add_insecure_port(f"{g.host}:{port}")
            except RuntimeError:
                raise Unavailable(
                    f"cannot listen on {g.host}:{port} (gRPC): port in use or address not available"
                ) from None
            self.grpc_ports.append(bound)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc_server)

    def _bind_http(self) -> None:
        h = self.settings.http
        grace = self.settings.scheduler.shutdown_grace_seconds
        for name, port in h.listeners().items():
            listener = HttpListener(name, h.host, port, graceful_timeout=grace)
            self.http[name] = listener
            listener.bind()
        metrics = self.http["metrics"]
        metrics.add_route("/metrics", self._metrics_endpoint, ["GET"])
        metrics.add_route("/healthz", self._healthz_endpoint, ["GET"])

    async def _register_health_and_reflection(self) -> None:
        assert self.grpc_server is not None
        for name in self.grpc_services:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        names = (*self.grpc_services, health.SERVICE_NAME, reflection.SERVICE_NAME)
        pool = None
        if self.reflection_pools:
            pool = _ChainedPool([descriptor_pool.Default(), *self.reflection_pools])
        reflection.enable_server_reflection(names, self.grpc_server, pool=pool)

    def _summary(self) -> str:
        s = self.settings
        http = ", ".join(f"{n} {s.http.host}:{listener.port}" for n, listener in self.http.items())
        adapters = ", ".join(a.name for a in self.adapters) or "none"
        where = {
            "sqlite": f" {s.storage.sqlite_path}",
            "postgres": f" schema {s.storage.postgres_schema}",
        }.get(s.storage.backend, "")
        return (
            f"gateway {self.version} serving: gRPC {s.grpc.host}:{','.join(map(str, self.grpc_ports))}; "
            f"HTTP {http} (/metrics, /healthz); storage {s.storage.backend}{where}; "
            f"policy {s.scheduler.policy}; adapters: {adapters}"
        )

    # ------------------------------------------------------------------ HTTP endpoints

    async def _metrics_endpoint(self, request: Request) -> Response:
        try:
            self.metrics.set_gauges(await self.storage.queue_depths(), await self.storage.count_instances())
        except Exception as exc:
            # A scrape still gets the counters when the database hiccups.
            log.warning("metrics: cannot refresh gauges: %s", exc)
        return Response(self.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def _healthz_endpoint(self, request: Request) -> Response:
        if self.serving:
            return JSONResponse({"status": "serving", "version": self.version})
        return JSONResponse({"status": "shutting down"}, status_code=503)

    # ------------------------------------------------------------------ stop

    async def stop(self) -> None:
        """Refuse new work, let in-flight calls finish within the grace period, flush storage."""
        self.serving = False
        await self.health.enter_graceful_shutdown()
        await self._stop_adapters()
        await self._release()

    async def _stop_adapters(self) -> None:
        grace = self.settings.scheduler.shutdown_grace_seconds
        for adapter in reversed(self.adapters):
            try:
                await asyncio.wait_for(adapter.stop(), grace or None)
            except Exception:
                log.exception("adapter %s did not stop cleanly", adapter.name)
        self.adapters.clear()

    async def _release(self) -> None:
        grace = self.settings.scheduler.shutdown_grace_seconds
        waits = [listener.stop() for listener in self.http.values()]
        if self.grpc_server is not None:
            waits.append(self.grpc_server.stop(grace))
        await asyncio.gather(*waits, return_exceptions=True)
        self.http.clear()
        self.grpc_server = None
        if getattr(self, "scheduler", None) is not None:
            await self.scheduler.stop(grace)
        if self._storage_open:
            self._storage_open = False
            await _maybe(self.notifier, "close")
            await self.storage.close()

    # ------------------------------------------------------------------ run

    async def run(self) -> None:
        """Start, serve until SIGTERM/SIGINT, stop."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _on_signal, stop, sig)
        await self.start()
        await stop.wait()
        log.info("stopping (grace %.1fs)", self.settings.scheduler.shutdown_grace_seconds)
        await self.stop()
        log.info("stopped")


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    if stop.is_set():
        log.warning("second %s: exiting now", sig.name)
        os._exit(1)
    stop.set()


async def _maybe(obj: Any, method: str) -> None:
    """Call an optional async lifecycle hook (PostgresNotifier has start/close, LocalNotifier not)."""
    fn = getattr(obj, method, None)
    if fn is not None:
        result = fn()
        if asyncio.iscoroutine(result):
            await result


def check_protobuf_backend() -> None:
    from google.protobuf.internal import api_implementation

    kind = api_implementation.Type()
    if kind != "upb":
        log.warning("protobuf runs on the %r backend, not 'upb': message handling will be slow", kind)
