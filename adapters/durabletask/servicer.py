"""`TaskHubSidecarService`: the 29 rpcs, each translated into core calls.

Handlers validate at the edge (InvalidArgument), read and commit through the scheduler, and let
`errors.unary`/`errors.streaming` turn every gateway error into its gRPC status.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf import empty_pb2, message_factory
from google.protobuf.message import DecodeError

from gateway.errors import AlreadyExists, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound
from gateway.model import Commit, Instance, InstanceStatus, InstanceUpdate, JobOutcome, JobRef

from . import entities
from ._pb import orchestrator_service_pb2 as pb
from ._pb import orchestrator_service_pb2_grpc as pb_grpc
from .convert import DtState, Token, is_entity_id, orchestration_state, status_from_wire, sv_of
from .effects import TERMINAL, Effects, Env, commit_with_retry
from .errors import streaming, unary
from .history import chunks, event_raised, exec_ref, new_event, parse_all, stamped, suspended, task_result
from .queries import clean_entities, list_instance_ids, purge, query_entities, query_instances
from .turns import complete_turn
from .workitems import WorkItemStreams

_MAX_WAIT = 3600.0


def _require_id(instance_id: str) -> str:
    if not instance_id:
        raise InvalidArgument("instanceId is required")
    return instance_id


class TaskHubSidecarServicer(pb_grpc.TaskHubSidecarServiceServicer):
    """The Durable Task sidecar on the gateway core."""

    def __init__(self, env: Env, streams: WorkItemStreams) -> None:
        self.env = env
        self.sched = env.scheduler
        self.streams = streams

    async def _get(self, instance_id: str) -> Instance:
        inst = await self.sched.get_instance(_require_id(instance_id))
        if inst is None or is_entity_id(inst.id):
            raise NotFound(f"no orchestration instance {instance_id!r}")
        return inst

    # ------------------------------------------------------------ worker side

    @unary
    async def Hello(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    @streaming
    async def GetWorkItems(self, request: pb.GetWorkItemsRequest, context: Any) -> AsyncIterator[pb.WorkItem]:
        async for item in self.streams.serve(request):
            yield item

    @unary
    async def CompleteOrchestratorTask(self, request: pb.OrchestratorResponse, context: Any) -> Any:
        token = Token.decode(request.completionToken, "o")
        try:
            await complete_turn(self.env, request)
        finally:
            self.streams.finished(token.job_id)
        return pb.CompleteTaskResponse()

    @unary
    async def CompleteActivityTask(self, request: pb.ActivityResponse, context: Any) -> Any:
        token = Token.decode(request.completionToken, "a")
        failure = request.failureDetails if request.HasField("failureDetails") else None
        he = task_result(request.taskId, self.env.clock.now(), sv_of(request, "result"), failure)
        outcome = JobOutcome(JobRef(token.job_id, token.attempt), "complete", post_event=False)
        try:
            try:
                await self.sched.commit(
                    Commit(jobs=[outcome], inbox=[new_event(token.instance_id, he, exec_ref(token.execution_id))])
                )
            except NotFound:  # the orchestration was purged meanwhile: just finish the job
                await self.sched.commit(Commit(jobs=[outcome]))
        finally:
            self.streams.finished(token.job_id)
        return pb.CompleteTaskResponse()

    @unary
    async def CompleteEntityTask(self, request: pb.EntityBatchResult, context: Any) -> Any:
        token = Token.decode(request.completionToken, "e")
        try:
            await entities.complete(self.env, request)
        finally:
            self.streams.finished(token.job_id)
        return pb.CompleteTaskResponse()

    async def _abandon(self, token_text: str, kind: str) -> None:
        token = Token.decode(token_text, kind)
        try:
            await self.sched.release(JobRef(token.job_id, token.attempt), self.env.abandon_delay)
        finally:
            self.streams.finished(token.job_id)

    @unary
    async def AbandonTaskActivityWorkItem(self, request: Any, context: Any) -> Any:
        await self._abandon(request.completionToken, "a")
        return pb.AbandonActivityTaskResponse()

    @unary
    async def AbandonTaskOrchestratorWorkItem(self, request: Any, context: Any) -> Any:
        await self._abandon(request.completionToken, "o")
        return pb.AbandonOrchestrationTaskResponse()

    @unary
    async def AbandonTaskEntityWorkItem(self, request: Any, context: Any) -> Any:
        await self._abandon(request.completionToken, "e")
        return pb.AbandonEntityTaskResponse()

    # ------------------------------------------------------------ client side

    @unary
    async def StartInstance(self, request: pb.CreateInstanceRequest, context: Any) -> Any:
        iid = request.instanceId or uuid.uuid4().hex
        if not request.name:
            raise InvalidArgument("name is required")
        if is_entity_id(iid):
            raise InvalidArgument("instance ids starting with '@' are reserved for entities")
        replace = frozenset(status_from_wire(s) for s in request.orchestrationIdReusePolicy.replaceableStatus)
        now = self.env.clock.now()
        start_at = request.scheduledStartTimestamp.ToNanoseconds() / 1e9 if request.HasField(
            "scheduledStartTimestamp") else 0.0

        async def build() -> Commit:
            fx = Effects(self.env, now)
            ok = await fx.start_orchestration(
                iid, request.name, version=sv_of(request, "version"), input=sv_of(request, "input"),
                tags=dict(request.tags), start_at=start_at, replace=replace,
                trace=request.parentTraceContext if request.HasField("parentTraceContext") else None,
                execution_id=sv_of(request, "executionId"),
            )
            if not ok:
                raise AlreadyExists(f"an orchestration with id {iid!r} already exists")
            return fx.commit

        await commit_with_retry(self.env, build)
        return pb.CreateInstanceResponse(instanceId=iid)

    @unary
    async def GetInstance(self, request: pb.GetInstanceRequest, context: Any) -> Any:
        inst = await self.sched.get_instance(_require_id(request.instanceId))
        if inst is None or is_entity_id(inst.id):
            return pb.GetInstanceResponse(exists=False)
        return pb.GetInstanceResponse(exists=True, orchestrationState=orchestration_state(
            inst, request.getInputsAndOutputs))

    async def _wait(self, request: pb.GetInstanceRequest, context: Any, done: Any) -> Any:
        iid = _require_id(request.instanceId)
        remaining = context.time_remaining()
        timeout = _MAX_WAIT if remaining is None else max(0.0, remaining - 0.05)
        try:
            inst = await self.sched.wait_instance(iid, lambda i: i is None or done(i), timeout)
        except DeadlineExceeded:
            raise DeadlineExceeded(f"instance {iid!r} did not reach the awaited state in time") from None
        if inst is None or is_entity_id(inst.id):
            return pb.GetInstanceResponse(exists=False)
        return pb.GetInstanceResponse(exists=True, orchestrationState=orchestration_state(
            inst, request.getInputsAndOutputs))

    @unary
    async def WaitForInstanceStart(self, request: pb.GetInstanceRequest, context: Any) -> Any:
        return await self._wait(request, context, lambda i: i.status is not InstanceStatus.PENDING)

    @unary
    async def WaitForInstanceCompletion(self, request: pb.GetInstanceRequest, context: Any) -> Any:
        return await self._wait(request, context, lambda i: i.status.terminal)

    @unary
    async def RaiseEvent(self, request: pb.RaiseEventRequest, context: Any) -> Any:
        inst = await self._get(request.instanceId)
        if not request.name:
            raise InvalidArgument("name is required")
        he = event_raised(request.name, sv_of(request, "input"), self.env.clock.now())
        await self.sched.commit(Commit(inbox=[new_event(inst.id, he)]))
        return pb.RaiseEventResponse()

    @unary
    async def TerminateInstance(self, request: pb.TerminateRequest, context: Any) -> Any:
        await self._get(request.instanceId)
        now = self.env.clock.now()

        async def build() -> Commit:
            fx = Effects(self.env, now)
            await fx.terminate(request.instanceId, sv_of(request, "output"), request.recursive)
            return fx.commit

        await commit_with_retry(self.env, build)
        return pb.TerminateResponse()

    async def _suspend_resume(self, request: Any, resume: bool) -> None:
        inst = await self._get(request.instanceId)
        if inst.status.terminal:
            raise FailedPrecondition(f"instance {inst.id!r} is {inst.status.value}")
        target = InstanceStatus.RUNNING if resume else InstanceStatus.SUSPENDED
        if inst.status is target or (resume and inst.status is InstanceStatus.PENDING):
            return  # idempotent
        he = suspended(sv_of(request, "reason"), self.env.clock.now(), resume=resume)
        await self.sched.commit(
            Commit(updates=[InstanceUpdate(inst.id, status=target)], inbox=[new_event(inst.id, he)])
        )

    @unary
    async def SuspendInstance(self, request: pb.SuspendRequest, context: Any) -> Any:
        await self._suspend_resume(request, resume=False)
        return pb.SuspendResponse()

    @unary
    async def ResumeInstance(self, request: pb.ResumeRequest, context: Any) -> Any:
        await self._suspend_resume(request, resume=True)
        return pb.ResumeResponse()

    @unary
    async def QueryInstances(self, request: pb.QueryInstancesRequest, context: Any) -> Any:
        return await query_instances(self.env, request.query)

    @unary
    async def ListInstanceIds(self, request: pb.ListInstanceIdsRequest, context: Any) -> Any:
        return await list_instance_ids(self.env, request)

    @unary
    async def PurgeInstances(self, request: pb.PurgeInstancesRequest, context: Any) -> Any:
        return await purge(self.env, request)

    @streaming
    async def StreamInstanceHistory(self, request: Any, context: Any) -> AsyncIterator[pb.HistoryChunk]:
        inst = await self._get(request.instanceId)
        if request.HasField("executionId") and request.executionId.value not in ("", inst.execution_id):
            raise NotFound(f"execution {request.executionId.value!r} of {inst.id!r} is not the current one")
        events = parse_all(await self.sched.history(inst.id))
        for chunk in chunks(events, 100):
            yield pb.HistoryChunk(events=chunk)

    @unary
    async def RewindInstance(self, request: pb.RewindInstanceRequest, context: Any) -> Any:
        inst = await self._get(request.instanceId)
        if inst.status is not InstanceStatus.FAILED:
            raise FailedPrecondition(f"only FAILED instances can be rewound ({inst.id!r} is {inst.status.value})")
        he = stamped(self.env.clock.now())
        he.executionRewound.SetInParent()
        if request.HasField("reason"):
            he.executionRewound.reason.CopyFrom(request.reason)
        await self.sched.commit(Commit(
            updates=[InstanceUpdate(inst.id, status=InstanceStatus.RUNNING)], inbox=[new_event(inst.id, he)]
        ))
        return pb.RewindInstanceResponse()

    @unary
    async def RestartInstance(self, request: pb.RestartInstanceRequest, context: Any) -> Any:
        inst = await self._get(request.instanceId)
        if not inst.status.terminal:
            raise FailedPrecondition(f"only ended instances can be restarted ({inst.id!r} is {inst.status.value})")
        new_id = uuid.uuid4().hex if request.restartWithNewInstanceId else inst.id
        now = self.env.clock.now()

        async def build() -> Commit:
            fx = Effects(self.env, now)
            ok = await fx.start_orchestration(
                new_id, inst.definition, version=inst.version or None,
                input=None if inst.input is None else inst.input.data.decode(), tags=inst.tags,
            )
            if not ok:
                raise FailedPrecondition(f"instance {new_id!r} is running")
            return fx.commit

        await commit_with_retry(self.env, build)
        return pb.RestartInstanceResponse(instanceId=new_id)

    @unary
    async def CreateTaskHub(self, request: Any, context: Any) -> Any:
        return pb.CreateTaskHubResponse()

    @unary
    async def DeleteTaskHub(self, request: Any, context: Any) -> Any:
        return pb.DeleteTaskHubResponse()

    @unary
    async def SkipGracefulOrchestrationTerminations(self, request: Any, context: Any) -> Any:
        ids = list(request.instanceBatch.instanceIds)
        if len(ids) > 500:
            ids, rest = ids[:500], ids[500:]
        else:
            rest = []
        commit = Commit()
        for iid in dict.fromkeys(ids):
            inst = await self.sched.get_instance(iid)
            if inst is None or is_entity_id(iid) or inst.status in TERMINAL:
                continue
            commit.updates.append(InstanceUpdate(iid, status=InstanceStatus.TERMINATED))
        if not commit.empty():
            await self.sched.commit(commit)
        return pb.SkipGracefulOrchestrationTerminationsResponse(unterminatedInstanceIds=rest)

    # ------------------------------------------------------------ entities

    @unary
    async def SignalEntity(self, request: pb.SignalEntityRequest, context: Any) -> Any:
        if not is_entity_id(request.instanceId) or request.instanceId.count("@") < 2:
            raise InvalidArgument(f"entity ids look like @name@key, not {request.instanceId!r}")
        if not request.name:
            raise InvalidArgument("name (the operation) is required")
        await entities.signal(self.env, request)
        return pb.SignalEntityResponse()

    @unary
    async def GetEntity(self, request: pb.GetEntityRequest, context: Any) -> Any:
        inst = await self.sched.get_instance(_require_id(request.instanceId))
        if inst is None or not is_entity_id(inst.id):
            return pb.GetEntityResponse(exists=False)
        st = DtState.load(inst.state)
        if st.estate is None and not st.locked_by:
            return pb.GetEntityResponse(exists=False)
        backlog = len(await self.sched.inbox(inst.id))
        meta = entities.metadata(inst.id, st, inst.updated_at, backlog, request.includeState)
        return pb.GetEntityResponse(exists=True, entity=meta)

    @unary
    async def QueryEntities(self, request: pb.QueryEntitiesRequest, context: Any) -> Any:
        return await query_entities(self.env, request.query)

    @unary
    async def CleanEntityStorage(self, request: pb.CleanEntityStorageRequest, context: Any) -> Any:
        return await clean_entities(self.env, request)


def add_to_server(servicer: TaskHubSidecarServicer, server: grpc.aio.Server) -> None:
    """Register every rpc with raw-bytes deserialization, so a request that does not parse gets
    INVALID_ARGUMENT from us instead of grpc's UNKNOWN "Unexpected DecodeError"."""
    service = pb.DESCRIPTOR.services_by_name["TaskHubSidecarService"]
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in service.methods:
        req_cls = message_factory.GetMessageClass(method.input_type)
        fn = getattr(servicer, method.name)
        if method.server_streaming:
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                _parsing_stream(fn, req_cls), response_serializer=_serialize
            )
        else:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                _parsing_unary(fn, req_cls), response_serializer=_serialize
            )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


async def _parse(req_cls: Any, raw: bytes, context: Any) -> Any:
    try:
        return req_cls.FromString(raw)
    except DecodeError as exc:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"malformed {req_cls.__name__}: {exc}")


def _parsing_unary(fn: Any, req_cls: Any) -> Any:
    async def handler(raw: bytes, context: Any) -> Any:
        return await fn(await _parse(req_cls, raw, context), context)

    return handler


def _parsing_stream(fn: Any, req_cls: Any) -> Any:
    async def handler(raw: bytes, context: Any) -> AsyncIterator[Any]:
        async for item in fn(await _parse(req_cls, raw, context), context):
            yield item

    return handler
