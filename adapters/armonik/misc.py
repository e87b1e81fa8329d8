"""The small services: Partitions, Versions, HealthChecksService, Applications, Authentication."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc

from gateway.errors import NotFound

from ._pb import (
    applications_service_pb2,
    applications_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
    health_checks_service_pb2,
    health_checks_service_pb2_grpc,
    partitions_common_pb2,
    partitions_service_pb2_grpc,
    versions_service_pb2,
    versions_service_pb2_grpc,
)
from .errors import guard
from .filters import compile_filters, page, sort_spec
from .plane import Plane
from .resources import application_field, partition_field

#: The ArmoniK.Api release whose wire contract the protos follow.
API_VERSION = "3.29.4"


def gateway_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("unified-gateway")
    except PackageNotFoundError:
        return "0.0.0+unknown"


@dataclass
class PartitionInfo:
    id: str
    parent_partition_ids: list[str] = field(default_factory=list)
    pod_reserved: int = 0
    pod_max: int = 0
    preemption_percentage: int = 0
    priority: int = 1


class PartitionsServicer(partitions_service_pb2_grpc.PartitionsServicer):
    def __init__(self, plane: Plane, workers_per_partition: dict[str, int]) -> None:
        self.p = plane
        self.infos = {
            pid: PartitionInfo(pid, pod_reserved=workers_per_partition.get(pid, 0),
                               pod_max=workers_per_partition.get(pid, 0))
            for pid in plane.partitions
        }

    @staticmethod
    def _raw(i: PartitionInfo) -> partitions_common_pb2.PartitionRaw:
        return partitions_common_pb2.PartitionRaw(
            id=i.id, parent_partition_ids=i.parent_partition_ids, pod_reserved=i.pod_reserved, pod_max=i.pod_max,
            preemption_percentage=i.preemption_percentage, priority=i.priority,
        )

    @guard
    async def ListPartitions(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        pred = compile_filters(request.filters if request.HasField("filters") else None, partition_field)
        key, desc = sort_spec(request.sort, partition_field, request.HasField("sort"))
        items, total = page(self.infos.values(), pred, key, desc, request.page, request.page_size)
        return partitions_common_pb2.ListPartitionsResponse(
            partitions=[self._raw(i) for i in items], page=request.page, page_size=request.page_size, total=total
        )

    @guard
    async def GetPartition(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        info = self.infos.get(request.id)
        if info is None:
            raise NotFound(f"partition {request.id!r} not found")
        return partitions_common_pb2.GetPartitionResponse(partition=self._raw(info))


class VersionsServicer(versions_service_pb2_grpc.VersionsServicer):
    @guard
    async def ListVersions(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return versions_service_pb2.ListVersionsResponse(core=gateway_version(), api=API_VERSION)


class HealthChecksServicer(health_checks_service_pb2_grpc.HealthChecksServiceServicer):
    @guard
    async def CheckHealth(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        resp = health_checks_service_pb2.CheckHealthResponse
        return resp(services=[resp.ServiceHealth(name="control_plane", message="ok", healthy=1)])  # type: ignore[arg-type]


@dataclass(frozen=True)
class AppInfo:
    name: str
    version: str
    namespace: str
    service: str


class ApplicationsServicer(applications_service_pb2_grpc.ApplicationsServicer):
    """The distinct applications named in task options."""

    def __init__(self, plane: Plane) -> None:
        self.p = plane

    @guard
    async def ListApplications(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        apps = {
            AppInfo(o.application_name, o.application_version, o.application_namespace, o.application_service)
            for s in self.p.store.sessions.values() for t in s.tasks.values() if (o := t.options).application_name
        }
        pred = compile_filters(request.filters if request.HasField("filters") else None, application_field)
        key = None
        desc = False
        if request.HasField("sort") and request.sort.fields:
            getters = [application_field(f) for f in request.sort.fields]
            key, desc = (lambda a: tuple(g(a) for g in getters)), request.sort.direction == 2
        else:
            key, desc = sort_spec(request.sort, application_field, False)
        items, total = page(sorted(apps, key=lambda a: (a.name, a.version)), pred, key, desc,
                            request.page, request.page_size)
        raw = applications_service_pb2.ApplicationRaw
        return applications_service_pb2.ListApplicationsResponse(
            applications=[raw(name=a.name, version=a.version, namespace=a.namespace, service=a.service)
                          for a in items],
            page=request.page, page_size=request.page_size, total=total,
        )


class AuthenticationServicer(auth_service_pb2_grpc.AuthenticationServicer):
    """No authentication: everyone is the anonymous user."""

    @guard
    async def GetCurrentUser(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return auth_service_pb2.GetCurrentUserResponse(user=auth_service_pb2.User(username="anonymous"))
