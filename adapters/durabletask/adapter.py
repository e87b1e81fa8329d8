"""`DurableTaskAdapter`: registers the engine and the `TaskHubSidecarService` with the gateway.

Config section `[adapters.durabletask]` (every key optional):
  ping_interval_seconds = 10.0   HealthPing on a quiet GetWorkItems stream (the SDK gives up at 120 s)
  lease_seconds = 30.0           work-item lease, extended while the worker's stream lives
  abandon_delay_seconds = 1.0    how long an abandoned work item waits before it is offered again
  history_limit = 100000         events per execution; a turn that would exceed it gets RESOURCE_EXHAUSTED
"""

from __future__ import annotations

from typing import Any

from gateway.errors import ConfigError
from gateway.ports import AdapterContext

from ._pb import orchestrator_service_pb2 as pb
from .effects import Env
from .engine import DurableTaskEngine
from .servicer import TaskHubSidecarServicer, add_to_server
from .workitems import WorkItemStreams

SERVICE_NAME = "TaskHubSidecarService"

_KEYS: dict[str, tuple[str, type]] = {
    "ping_interval_seconds": ("ping_interval", float),
    "lease_seconds": ("lease_seconds", float),
    "abandon_delay_seconds": ("abandon_delay", float),
    "history_limit": ("history_limit", int),
}


def build_env(ctx: AdapterContext) -> Env:
    """Validate `[adapters.durabletask]` and build the shared `Env`."""
    env = Env(ctx.scheduler, ctx.clock)
    for key, value in (ctx.settings or {}).items():
        if key in ("enabled", "module"):
            continue
        if key not in _KEYS:
            raise ConfigError(f"adapters.durabletask.{key}: unknown key (known: {', '.join(sorted(_KEYS))})")
        attr, kind = _KEYS[key]
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"adapters.durabletask.{key}: expected a number, got {value!r}") from None
        if isinstance(value, bool) or number < 0 or (number == 0 and attr != "abandon_delay"):
            raise ConfigError(f"adapters.durabletask.{key}: must be positive, got {value!r}")
        setattr(env, attr, number)
    return env


class DurableTaskAdapter:
    """The Durable Task front-end: the gateway as the `TaskHubSidecarService` sidecar."""

    name = "durabletask"

    def __init__(self) -> None:
        self.streams: WorkItemStreams | None = None

    async def start(self, ctx: AdapterContext) -> None:
        env = build_env(ctx)
        ctx.scheduler.register_engine(DurableTaskEngine(env))
        self.streams = WorkItemStreams(env, ctx.metrics)
        servicer = TaskHubSidecarServicer(env, self.streams)

        def register(server: Any) -> None:
            add_to_server(servicer, server)

        ctx.add_grpc_service(register, [SERVICE_NAME])
        # Our own descriptor pool would clash with nothing here, but the file lives in the default pool.
        ctx.add_reflection_files(pb.DESCRIPTOR.pool)

    async def stop(self) -> None:
        if self.streams is not None:
            await self.streams.close()
