"""Durable entities: `@<name>@<key>` instances that run one operation batch at a time.

Operations (entityOperationSignaled/Called events) queue in the entity's inbox; the engine turns
them into one batch job dispatched as `entityRequestV2`. Lock messages are decided here, by the
gateway, without a worker: a lock request is granted FIFO and forwarded along its lock set, the
last entity granting it to the orchestration; an unlock hands the entity to the next waiter.
"""

from __future__ import annotations

import base64
import uuid

from gateway.errors import LeaseLost
from gateway.model import Commit, InstanceUpdate, Job, JobOutcome, JobRef, Payload, StepClaim

from ._pb import orchestrator_service_pb2 as pb
from .convert import ENGINE, ENTITY_QUEUE, DtState, Token, from_ts, sv, sv_of
from .effects import Effects, Env, commit_with_retry
from .history import exec_ref, new_event, parse, stamped

OPS = ("entityOperationSignaled", "entityOperationCalled")


async def decide(env: Env, claim: StepClaim, now: float) -> Commit:
    """Process lock messages locally and start an operation batch if none is in flight."""
    inst = claim.instance
    st = DtState.load(inst.state)
    if st.turn:
        return Commit()
    fx = Effects(env, now)
    has_ops = False
    held_now = False
    upto = 0
    for event in claim.inbox:
        he = parse(event)
        which = he.WhichOneof("eventType") if he is not None else None
        if he is not None and which in OPS:
            if _held_back(st, he):
                if has_ops:
                    break  # a batch never spans a held-back operation: it stays in the inbox
                st.held.append(_b64(he))
                held_now = True
            elif held_now:
                break  # the held prefix is dropped first; this operation starts the next batch
            else:
                has_ops = True
            upto = event.seq
            continue
        if he is None:  # undecodable: consumed with whatever comes next
            upto = event.seq
            continue
        if has_ops:
            break  # a lock message after operations waits for their batch to finish
        if which == "entityLockRequested":
            if st.locked_by:
                st.lock_queue.append(_b64(he))
            else:
                await _grant(fx, st, he.entityLockRequested)
        elif which == "entityUnlockSent" and st.locked_by == he.entityUnlockSent.criticalSectionId:
            st.locked_by = st.lock_owner = ""
            # What others sent meanwhile runs now, behind whatever already waits in the inbox.
            fx.commit.inbox.extend(new_event(inst.id, _unb64(h)) for h in st.held)
            st.held = []
            while st.lock_queue and not st.locked_by:
                await _grant(fx, st, _unb64(st.lock_queue.pop(0)).entityLockRequested)
        upto = event.seq
    upd = InstanceUpdate(inst.id, seen_upto=upto)
    if has_ops:
        job = Job(
            id=uuid.uuid4().hex, instance_id=inst.id, queue=ENTITY_QUEUE, kind="entity",
            payload=Payload(str(upto).encode(), "text/plain"), timeout=env.lease_seconds, origin=ENGINE,
        )
        st.turn = job.id
        fx.commit.new_jobs.append(job)
    else:
        upd.drop_upto = upto
    upd.state = st.dump()
    fx.commit.updates.append(upd)
    return fx.commit


def _b64(he: pb.HistoryEvent) -> str:
    return base64.b64encode(he.SerializeToString()).decode()


def _unb64(text: str) -> pb.HistoryEvent:
    return pb.HistoryEvent.FromString(base64.b64decode(text))


def _held_back(st: DtState, he: pb.HistoryEvent) -> bool:
    """While a critical section holds the entity, only its owner's calls run; everything else
    (calls of other orchestrations, signals, which carry no sender) waits for the unlock."""
    if not st.locked_by:
        return False
    if he.HasField("entityOperationCalled"):
        return he.entityOperationCalled.parentInstanceId.value != st.lock_owner
    return True


async def _grant(fx: Effects, st: DtState, req: pb.EntityLockRequestedEvent) -> None:
    st.locked_by = req.criticalSectionId
    st.lock_owner = req.parentInstanceId.value
    if req.position + 1 < len(req.lockSet):
        nxt = stamped(fx.now)
        nxt.entityLockRequested.CopyFrom(req)
        nxt.entityLockRequested.position = req.position + 1
        await fx.post_entity(req.lockSet[req.position + 1], nxt)
    else:
        granted = stamped(fx.now)
        granted.entityLockGranted.criticalSectionId = req.criticalSectionId
        await fx.post(req.parentInstanceId.value, granted)


async def work_item(env: Env, job: Job) -> pb.WorkItem | None:
    """The entityRequestV2 work item of a batch job; None if the entity is gone."""
    inst = await env.scheduler.get_instance(job.instance_id)
    if inst is None:
        return None
    upto = int(job.payload.data or b"0")
    st = DtState.load(inst.state)
    req = pb.EntityRequest(instanceId=inst.id, executionId=inst.execution_id, entityState=sv(st.estate))
    for event in await env.scheduler.inbox(inst.id):
        if event.seq > upto:
            break
        he = parse(event)
        if he is not None and he.WhichOneof("eventType") in OPS:
            req.operationRequests.append(he)
    token = Token("e", job.id, job.attempt, inst.id, inst.execution_id, upto)
    return pb.WorkItem(entityRequestV2=req, completionToken=token.encode())


async def complete(env: Env, result: pb.EntityBatchResult) -> None:
    token = Token.decode(result.completionToken, "e")

    async def build() -> Commit:
        return await _build_completion(env, token, result)

    await commit_with_retry(env, build)


async def _build_completion(env: Env, token: Token, result: pb.EntityBatchResult) -> Commit:
    sched = env.scheduler
    now = env.clock.now()
    inst = await sched.get_instance(token.instance_id)
    if inst is None:
        raise LeaseLost(f"entity work item for {token.instance_id!r} is no longer current")
    ops = [
        he for e in await sched.inbox(inst.id)
        if e.seq <= token.upto and (he := parse(e)) is not None and he.WhichOneof("eventType") in OPS
    ]
    st = DtState.load(inst.state)
    st.turn = ""
    st.estate = sv_of(result, "entityState")
    fx = Effects(env, now)
    fx.commit.jobs.append(JobOutcome(JobRef(token.job_id, token.attempt), "complete", post_event=False))
    for i, op in enumerate(ops):
        dest, request_id = _destination(op, result, i)
        if not dest.instanceId:
            continue
        he = stamped(now)
        res = result.results[i] if i < len(result.results) else None
        if res is not None and res.HasField("success"):
            he.entityOperationCompleted.requestId = request_id
            if res.success.HasField("result"):
                he.entityOperationCompleted.output.CopyFrom(res.success.result)
        else:
            he.entityOperationFailed.requestId = request_id
            failure = res.failure.failureDetails if res is not None else result.failureDetails
            he.entityOperationFailed.failureDetails.CopyFrom(failure)
        ref = exec_ref(dest.executionId.value) if dest.executionId.value else ""
        await fx.post(dest.instanceId, he, ref)
    for action in result.actions:
        await _entity_action(fx, action)
    fx.commit.updates.append(
        InstanceUpdate(inst.id, drop_upto=token.upto, seen_upto=token.upto, state=st.dump())
    )
    return fx.commit


def _destination(op: pb.HistoryEvent, result: pb.EntityBatchResult, i: int) -> tuple[pb.OrchestrationInstance, str]:
    if i < len(result.operationInfos):
        info = result.operationInfos[i]
        return info.responseDestination, info.requestId
    if op.HasField("entityOperationCalled"):
        called = op.entityOperationCalled
        dest = pb.OrchestrationInstance(instanceId=called.parentInstanceId.value)
        if called.HasField("parentExecutionId"):
            dest.executionId.CopyFrom(called.parentExecutionId)
        return dest, called.requestId
    return pb.OrchestrationInstance(), op.entityOperationSignaled.requestId


async def _entity_action(fx: Effects, action: pb.OperationAction) -> None:
    kind = action.WhichOneof("operationActionType")
    if kind == "sendSignal":
        s = action.sendSignal
        he = stamped(fx.now)
        sig = he.entityOperationSignaled
        sig.requestId = uuid.uuid4().hex
        sig.operation = s.name
        sig.targetInstanceId.value = s.instanceId
        if s.HasField("input"):
            sig.input.CopyFrom(s.input)
        at = 0.0
        if s.HasField("scheduledTime"):
            sig.scheduledTime.CopyFrom(s.scheduledTime)
            at = from_ts(s.scheduledTime)
        await fx.post_entity(s.instanceId, he, at)
    elif kind == "startNewOrchestration":
        o = action.startNewOrchestration
        await fx.start_orchestration(
            o.instanceId or uuid.uuid4().hex, o.name, version=sv_of(o, "version"), input=sv_of(o, "input"),
            start_at=from_ts(o.scheduledTime) if o.HasField("scheduledTime") else 0.0,
        )


async def signal(env: Env, req: pb.SignalEntityRequest) -> None:
    """SignalEntity: deliver (or schedule) one signal, creating the entity on first use."""
    now = env.clock.now()
    he = stamped(now)
    sig = he.entityOperationSignaled
    sig.requestId = req.requestId or uuid.uuid4().hex
    sig.operation = req.name
    sig.targetInstanceId.value = req.instanceId
    if req.HasField("input"):
        sig.input.CopyFrom(req.input)
    at = 0.0
    if req.HasField("scheduledTime"):
        sig.scheduledTime.CopyFrom(req.scheduledTime)
        at = from_ts(req.scheduledTime)

    async def build() -> Commit:
        fx = Effects(env, now)
        await fx.post_entity(req.instanceId, he, at)
        return fx.commit

    await commit_with_retry(env, build)


def metadata(inst_id: str, st: DtState, updated_at: float, backlog: int, include_state: bool) -> pb.EntityMetadata:
    meta = pb.EntityMetadata(instanceId=inst_id, backlogQueueSize=backlog)
    meta.lastModifiedTime.FromNanoseconds(int(updated_at * 1e9))
    if st.locked_by:
        meta.lockedBy.value = st.lock_owner or st.locked_by
    if include_state and st.estate is not None:
        meta.serializedState.value = st.estate
    return meta


__all__ = ["complete", "decide", "metadata", "new_event", "signal", "work_item"]
