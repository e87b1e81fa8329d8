"""The ArmoniK front-end: the gateway as ArmoniK control plane and polling agent.

Control plane (client gRPC services on the gateway's ports): Sessions, Tasks, Results, Events,
Partitions, Versions, HealthChecksService, Applications, Authentication (the deprecated Submitter
is not served: UNIMPLEMENTED). Compute plane: the Agent service on a unix socket (every rpc but
GetCommonData/GetDirectData, which Core does not implement either; the deprecated streamed
CreateTask of C# workers is served too, read by `legacy.py`), and one core push executor per
configured worker, which stages data folders and calls `Worker.HealthCheck`/`Process`.
See `protocols/armonik.md` for the contract and `adapters/armonik/config.py` for the settings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from gateway.ports import AdapterContext

from ._pb import (
    agent_service_pb2_grpc,
    applications_service_pb2_grpc,
    auth_service_pb2_grpc,
    events_service_pb2_grpc,
    health_checks_service_pb2_grpc,
    partitions_service_pb2_grpc,
    results_service_pb2_grpc,
    sessions_service_pb2_grpc,
    tasks_service_pb2_grpc,
    versions_service_pb2_grpc,
)
from .agent import AgentServicer, Tokens
from .config import load, partition_ids
from .dispatch import WorkerExecutor
from .events import EventsHub, EventsServicer
from .folders import Folders
from .misc import (
    ApplicationsServicer,
    AuthenticationServicer,
    HealthChecksServicer,
    PartitionsServicer,
    VersionsServicer,
)
from .plane import Plane
from .results import ResultsServicer
from .sessions import SessionsServicer
from .store import Store
from .tasks import TasksServicer
from .workers import Supervisor

log = logging.getLogger("gateway.armonik")

_V1 = "armonik.api.grpc.v1"
SERVICES = [
    f"{_V1}.sessions.Sessions",
    f"{_V1}.tasks.Tasks",
    f"{_V1}.results.Results",
    f"{_V1}.events.Events",
    f"{_V1}.partitions.Partitions",
    f"{_V1}.versions.Versions",
    f"{_V1}.health_checks.HealthChecksService",
    f"{_V1}.applications.Applications",
    f"{_V1}.auth.Authentication",
]


class ArmoniKAdapter:
    name = "armonik"

    def __init__(self) -> None:
        self.store: Store | None = None
        self.hub: EventsHub | None = None
        self.agent_server: grpc.aio.Server | None = None
        self.executors: list[WorkerExecutor] = []
        self._unregister: list[Callable[[], None]] = []
        self.supervisor: Supervisor | None = None
        self.folders: Folders | None = None

    async def start(self, ctx: AdapterContext) -> None:
        cfg, workers = load(ctx.settings)
        _clear_orphans(cfg.shared_folder)
        store = self.store = Store(ctx.scheduler)
        await store.load()
        plane = Plane(store, cfg, partition_ids(cfg, workers))
        hub = self.hub = EventsHub(store)
        tokens = Tokens()
        per_partition: dict[str, int] = {}
        for w in workers:
            per_partition[w.partition] = per_partition.get(w.partition, 0) + 1

        servicers: list[tuple[Any, Callable[[Any, Any], None]]] = [
            (SessionsServicer(plane), sessions_service_pb2_grpc.add_SessionsServicer_to_server),
            (TasksServicer(plane), tasks_service_pb2_grpc.add_TasksServicer_to_server),
            (ResultsServicer(plane), results_service_pb2_grpc.add_ResultsServicer_to_server),
            (EventsServicer(hub), events_service_pb2_grpc.add_EventsServicer_to_server),
            (PartitionsServicer(plane, per_partition), partitions_service_pb2_grpc.add_PartitionsServicer_to_server),
            (VersionsServicer(), versions_service_pb2_grpc.add_VersionsServicer_to_server),
            (HealthChecksServicer(), health_checks_service_pb2_grpc.add_HealthChecksServiceServicer_to_server),
            (ApplicationsServicer(plane), applications_service_pb2_grpc.add_ApplicationsServicer_to_server),
            (AuthenticationServicer(), auth_service_pb2_grpc.add_AuthenticationServicer_to_server),
        ]

        def register(server: Any) -> None:
            for servicer, add in servicers:
                add(servicer, server)

        ctx.add_grpc_service(register, SERVICES)

        # The agent socket must exist before a worker's first agent call: bind it now.
        _prepare_socket(cfg.agent_socket)
        server = self.agent_server = grpc.aio.server(options=[
            ("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20),
        ])
        agent_service_pb2_grpc.add_AgentServicer_to_server(AgentServicer(store, tokens), server)
        server.add_insecure_port(f"unix://{cfg.agent_socket}")
        await server.start()

        self.supervisor = Supervisor(workers, cfg.agent_socket, cfg.restart_delay)
        self.supervisor.start()
        folders = self.folders = Folders(cfg.shared_folder, ahead=2 * len(workers))
        folders.start()
        for w in workers:
            ex = WorkerExecutor(store, tokens, folders, cfg, w, ctx.metrics)
            self.executors.append(ex)
            self._unregister.append(ctx.scheduler.register_push_executor(ex))
        log.info("armonik: agent on %s; %d worker(s); partitions %s", cfg.agent_socket, len(workers),
                 plane.partitions)

    async def stop(self) -> None:
        if self.hub is not None:
            self.hub.close()
        for unregister in self._unregister:
            unregister()
        self._unregister.clear()
        if self.agent_server is not None:
            await self.agent_server.stop(1.0)
        if self.supervisor is not None:
            await self.supervisor.stop()
        for ex in self.executors:
            await ex.close()
        self.executors.clear()
        if self.folders is not None:
            await self.folders.close()


def _clear_orphans(shared: str) -> None:
    """Data folders of a previous process are orphans: their Process calls are gone."""
    for child in Path(shared).iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)


def _prepare_socket(path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
