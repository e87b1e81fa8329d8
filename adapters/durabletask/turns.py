"""Committing an orchestrator turn: `CompleteOrchestratorTask` -> one atomic commit.

The commit completes the turn job (under its lease: a stale or duplicate token is refused with
`LeaseLost` and nothing is applied), drops the inbox events the turn covered, appends
[orchestratorStarted, newEvents..., one event per action, orchestratorCompleted,
executionCompleted?] to the history and applies every action's effect.
"""

from __future__ import annotations

import uuid

from gateway.errors import InvalidArgument, LeaseLost, ResourceExhausted
from gateway.model import Commit, InstanceStatus, InstanceUpdate, Job, JobOutcome, JobRef, NewEvent, Payload, Timer
from gateway.ports import Scheduler

from ._pb import orchestrator_service_pb2 as pb
from .convert import (
    ACTIVITY_QUEUE,
    ENGINE,
    EVENT_KIND,
    WAKE_KIND,
    DtState,
    Token,
    failure_from_wire,
    from_ts,
    payload_of,
    status_from_wire,
    sv_of,
)
from .effects import Effects, Env, commit_with_retry
from .history import (
    action_event,
    child_result,
    exec_ref,
    execution_completed,
    execution_started,
    new_event,
    orchestrator_completed,
    parse_all,
    timer_fired,
    turn_new_events,
)

CAN = pb.ORCHESTRATION_STATUS_CONTINUED_AS_NEW


async def complete_turn(env: Env, resp: pb.OrchestratorResponse) -> None:
    token = Token.decode(resp.completionToken, "o")

    async def build() -> Commit:
        return await build_turn_commit(env, token, resp)

    await commit_with_retry(env, build)


async def build_turn_commit(env: Env, token: Token, resp: pb.OrchestratorResponse) -> Commit:
    sched = env.scheduler
    now = env.clock.now()
    iid = token.instance_id
    inst = await sched.get_instance(iid)
    if inst is None or inst.execution_id != token.execution_id:
        raise LeaseLost(f"orchestration work item for {iid!r} is no longer current")
    inbox = [e for e in await sched.inbox(iid) if e.seq <= token.upto]
    new_events = turn_new_events(inbox, inst.execution_id, token.os_ns)
    st = DtState.load(inst.state)
    if st.turn != token.job_id:
        raise LeaseLost(f"orchestration work item for {iid!r} is not the turn in flight")
    st.turn = ""
    st.set_otc(resp.orchestrationTraceContext if resp.HasField("orchestrationTraceContext") else None)

    fx = Effects(env, now)
    commit = fx.commit
    commit.jobs.append(JobOutcome(JobRef(token.job_id, token.attempt), "complete", post_event=False))
    upd = InstanceUpdate(iid, drop_upto=token.upto, seen_upto=token.upto)
    if resp.HasField("customStatus"):
        upd.custom_status = Payload(resp.customStatus.value.encode())
    if inst.status is InstanceStatus.PENDING:
        upd.status = InstanceStatus.RUNNING
    exec_id = inst.execution_id
    history: list[pb.HistoryEvent] = list(new_events)
    final: pb.OrchestratorAction | None = None
    rewind: pb.RewindOrchestrationAction | None = None

    for action in resp.actions:
        kind = action.WhichOneof("orchestratorActionType")
        if kind == "completeOrchestration":
            final = action
            continue
        if kind == "rewindOrchestration":
            rewind = action.rewindOrchestration
            continue
        he = action_event(action, now)
        if he is not None:
            history.append(he)
        if kind == "scheduleTask":
            commit.new_jobs.append(_activity_job(env, iid, exec_id, action))
        elif kind == "createTimer":
            fire_at = action.createTimer.fireAt
            commit.timers.append(
                Timer(
                    iid, exec_ref(exec_id, f":t{action.id}"), from_ts(fire_at), EVENT_KIND,
                    timer_fired(action.id, fire_at).SerializeToString(),
                )
            )
        elif kind == "createSubOrchestration":
            await _start_child(fx, inst.definition, inst.version, iid, exec_id, action)
        elif kind == "sendEvent":
            s = action.sendEvent
            raised = pb.HistoryEvent(eventId=-1, timestamp=he.timestamp if he else None)
            raised.eventRaised.name = s.name
            if s.HasField("data"):
                raised.eventRaised.input.CopyFrom(s.data)
            await fx.post(s.instance.instanceId, raised)
        elif kind == "terminateOrchestration":
            t = action.terminateOrchestration
            await fx.terminate(t.instanceId, sv_of(t, "reason"), t.recurse)
        elif kind == "sendEntityMessage":
            await _send_entity_message(fx, iid, exec_id, action.sendEntityMessage, now)
    history.append(orchestrator_completed(now))

    if rewind is not None:
        # The SDK's answer to executionRewound: the history is replaced and the instance runs again.
        upd.reset_history = True
        upd.status = InstanceStatus.RUNNING
        upd.clear_output = True
        history = list(rewind.newHistory)
        # ...and is replayed over the clean history at once: a wake-up that is no HistoryEvent
        # arms the next turn, whose newEvents are then just [orchestratorStarted].
        commit.inbox.append(NewEvent(iid, WAKE_KIND, b"", exec_ref(exec_id)))
    if final is not None:
        # The execution ends (or continues as new): its unfinished activities and timers go too,
        # instead of running to a result nobody will read.
        await _cancel_outstanding(sched, commit, iid, exec_id, history)
        c = final.completeOrchestration
        if c.orchestrationStatus == CAN:
            _continue_as_new(fx, inst.definition, inst.version, inst.tags, inst.parent_id, st, upd, c, now)
            history = []  # the old execution's records go with it
        else:
            status = status_from_wire(c.orchestrationStatus)
            if not status.terminal:
                raise InvalidArgument(f"completeOrchestration with non-terminal status {status}")
            upd.status = status
            if c.HasField("result"):
                upd.output = Payload(c.result.value.encode())
            if c.HasField("failureDetails"):
                upd.failure = failure_from_wire(c.failureDetails)
            history.append(execution_completed(c, now, final.id))
            await _notify_parent(fx, inst.parent_id, st, status, c, now)
    upd.state = st.dump()
    commit.updates.append(upd)
    commit.history.extend(new_event(iid, he) for he in history)
    if env.history_limit and len(commit.history) > env.history_limit:
        raise ResourceExhausted(f"history of {iid!r} would exceed {env.history_limit} events")
    return commit


def activity_job_id(exec_id: str, task_id: int) -> str:
    """Activity job ids are derived from (execution, task id), so the end of an execution can
    cancel its unfinished activities from the history alone."""
    return f"{exec_id}:a{task_id}"


async def _cancel_outstanding(
    sched: Scheduler, commit: Commit, iid: str, exec_id: str, turn: list[pb.HistoryEvent]
) -> None:
    """Cancel the jobs of scheduled-but-unanswered activities and the durable timers not yet fired
    of execution `exec_id` (read once per execution, at its end)."""
    tasks: set[int] = set()
    timers: set[int] = set()
    for he in [*parse_all(await sched.history(iid)), *turn]:
        which = he.WhichOneof("eventType")
        if which == "taskScheduled":
            tasks.add(he.eventId)
        elif which == "taskCompleted":
            tasks.discard(he.taskCompleted.taskScheduledId)
        elif which == "taskFailed":
            tasks.discard(he.taskFailed.taskScheduledId)
        elif which == "timerCreated":
            timers.add(he.eventId)
        elif which == "timerFired":
            timers.discard(he.timerFired.timerId)
    doomed = {activity_job_id(exec_id, t) for t in tasks}
    # Jobs this very turn scheduled are simply not created.
    commit.new_jobs = [j for j in commit.new_jobs if j.id not in doomed]
    commit.cancel_jobs.extend(sorted(doomed))
    commit.cancel_timers.extend((iid, exec_ref(exec_id, f":t{t}")) for t in sorted(timers))


def _activity_job(env: Env, iid: str, exec_id: str, action: pb.OrchestratorAction) -> Job:
    a = action.scheduleTask
    req = pb.ActivityRequest(name=a.name, taskId=action.id, tags=a.tags)
    req.orchestrationInstance.instanceId = iid
    req.orchestrationInstance.executionId.value = exec_id
    if a.HasField("version"):
        req.version.CopyFrom(a.version)
    if a.HasField("input"):
        req.input.CopyFrom(a.input)
    if a.HasField("parentTraceContext"):
        req.parentTraceContext.CopyFrom(a.parentTraceContext)
    return Job(
        id=activity_job_id(exec_id, action.id), instance_id=iid, queue=ACTIVITY_QUEUE, kind="activity",
        payload=Payload(req.SerializeToString(), "application/x-protobuf"),
        headers={"name": a.name, "version": sv_of(a, "version") or ""},
        timeout=env.lease_seconds, origin=ENGINE, on_complete=EVENT_KIND, on_fail=EVENT_KIND,
    )


async def _start_child(
    fx: Effects, name: str, version: str, iid: str, exec_id: str, action: pb.OrchestratorAction
) -> None:
    c = action.createSubOrchestration
    child_id = c.instanceId or f"{iid}:{action.id:04x}"
    parent = pb.ParentInstanceInfo(taskScheduledId=action.id)
    parent.name.value = name
    if version:
        parent.version.value = version
    parent.orchestrationInstance.instanceId = iid
    parent.orchestrationInstance.executionId.value = exec_id
    ok = await fx.start_orchestration(
        child_id, c.name, version=sv_of(c, "version"), input=sv_of(c, "input"), tags=dict(c.tags),
        trace=c.parentTraceContext if c.HasField("parentTraceContext") else None, parent=parent,
    )
    if not ok:
        failure = pb.TaskFailureDetails(
            errorType="OrchestrationAlreadyExists",
            errorMessage=f"an orchestration with id {child_id!r} is already running",
        )
        fx.commit.inbox.append(new_event(iid, child_result(action.id, fx.now, None, failure), exec_ref(exec_id)))


async def _send_entity_message(
    fx: Effects, iid: str, exec_id: str, msg: pb.SendEntityMessageAction, now: float
) -> None:
    which = msg.WhichOneof("EntityMessageType")
    if which is None:
        return
    he = pb.HistoryEvent(eventId=-1)
    he.timestamp.FromNanoseconds(int(now * 1e9))
    body = getattr(he, which)
    body.CopyFrom(getattr(msg, which))
    at = 0.0
    if which == "entityOperationSignaled":
        target = body.targetInstanceId.value
        at = from_ts(body.scheduledTime) if body.HasField("scheduledTime") else 0.0
    elif which == "entityOperationCalled":
        target = body.targetInstanceId.value
        if not body.parentInstanceId.value:
            body.parentInstanceId.value = iid
        if not body.parentExecutionId.value:
            body.parentExecutionId.value = exec_id
        at = from_ts(body.scheduledTime) if body.HasField("scheduledTime") else 0.0
    elif which == "entityLockRequested":
        if not 0 <= body.position < len(body.lockSet):
            return
        if not body.parentInstanceId.value:
            body.parentInstanceId.value = iid
        target = body.lockSet[body.position]
    else:
        target = body.targetInstanceId.value
        if not body.parentInstanceId.value:
            body.parentInstanceId.value = iid
    if target:
        await fx.post_entity(target, he, at)


def _continue_as_new(
    fx: Effects,
    name: str,
    version: str,
    tags: dict[str, str],
    parent_id: str | None,
    st: DtState,
    upd: InstanceUpdate,
    c: pb.CompleteOrchestrationAction,
    now: float,
) -> None:
    iid = upd.instance_id
    new_exec = uuid.uuid4().hex
    upd.reset_history = True
    upd.execution_id = new_exec
    upd.input = payload_of(c, "result")
    new_version = sv_of(c, "newVersion") or version
    parent = None
    if parent_id and st.parent_task >= 0:
        parent = pb.ParentInstanceInfo(taskScheduledId=st.parent_task)
        parent.orchestrationInstance.instanceId = parent_id
        parent.orchestrationInstance.executionId.value = st.parent_exec
    started = execution_started(
        name, iid, new_exec, now, version=new_version, input=sv_of(c, "result"), parent=parent, tags=tags
    )
    fx.commit.inbox.append(new_event(iid, started))
    fx.commit.inbox.extend(new_event(iid, ev) for ev in c.carryoverEvents)


async def _notify_parent(
    fx: Effects,
    parent_id: str | None,
    st: DtState,
    status: InstanceStatus,
    c: pb.CompleteOrchestrationAction,
    now: float,
) -> None:
    if not parent_id or st.parent_task < 0:
        return
    parent = await fx.instance(parent_id)
    if parent is None or parent.status.terminal or (st.parent_exec and parent.execution_id != st.parent_exec):
        return
    failure = None
    if status is InstanceStatus.FAILED:
        failure = c.failureDetails if c.HasField("failureDetails") else pb.TaskFailureDetails(
            errorType="OrchestrationFailed", errorMessage="sub-orchestration failed"
        )
    elif status is not InstanceStatus.COMPLETED:
        failure = pb.TaskFailureDetails(
            errorType=f"Orchestration{status.value.title()}",
            errorMessage=f"sub-orchestration was {status.value.lower()}",
        )
    he = child_result(st.parent_task, now, sv_of(c, "result"), failure)
    fx.commit.inbox.append(new_event(parent_id, he, exec_ref(parent.execution_id)))
