"""Building and reading `HistoryEvent`s: inbox events, the records of a committed turn.

Inbox and history events of a Durable Task instance are core events of kind "dt" whose data is a
serialized `HistoryEvent`. An event that belongs to one execution (a timer, an activity or child
result, an entity response) carries `ref = "x:<executionId>..."`, so events of an execution that
ended with continue-as-new are recognised as stale and never reach the new execution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from google.protobuf import timestamp_pb2

from gateway.model import Event, NewEvent

from ._pb import orchestrator_service_pb2 as pb
from .convert import EVENT_KIND, ts, ts_ns

HE = pb.HistoryEvent


def exec_ref(execution_id: str, suffix: str = "") -> str:
    """The ref that scopes an inbox event to one execution."""
    return f"x:{execution_id}{suffix}"


def is_stale(event: Event, execution_id: str) -> bool:
    if not event.ref.startswith("x:"):
        return False
    return event.ref[2:].split(":", 1)[0] != execution_id


def new_event(instance_id: str, he: pb.HistoryEvent, ref: str = "") -> NewEvent:
    return NewEvent(instance_id, EVENT_KIND, he.SerializeToString(), ref)


def parse(event: Event) -> pb.HistoryEvent | None:
    """The HistoryEvent of a core event; None for events of other kinds or undecodable data."""
    if event.kind != EVENT_KIND:
        return None
    try:
        return pb.HistoryEvent.FromString(event.data)
    except Exception:
        return None


def parse_all(events: Iterable[Event]) -> list[pb.HistoryEvent]:
    return [he for he in map(parse, events) if he is not None]


def stamped(now: float, event_id: int = -1) -> pb.HistoryEvent:
    """An empty HistoryEvent with its id and timestamp set."""
    return HE(eventId=event_id, timestamp=ts(now))


def orchestrator_started(os_ns: int) -> pb.HistoryEvent:
    return HE(eventId=-1, timestamp=ts_ns(os_ns), orchestratorStarted=pb.OrchestratorStartedEvent())


def orchestrator_completed(now: float) -> pb.HistoryEvent:
    he = stamped(now)
    he.orchestratorCompleted.SetInParent()
    return he


def turn_new_events(inbox: Sequence[Event], execution_id: str, os_ns: int) -> list[pb.HistoryEvent]:
    """newEvents of a turn: orchestratorStarted, then the live inbox events with executionStarted first.

    Continue-as-new posts the new executionStarted after events that arrived during the last turn;
    the SDK needs it before anything else of the execution, so it is moved to the front.
    """
    live = [he for e in inbox if not is_stale(e, execution_id) and (he := parse(e)) is not None]
    started = [he for he in live if he.HasField("executionStarted")]
    rest = [he for he in live if not he.HasField("executionStarted")]
    return [orchestrator_started(os_ns), *started[:1], *rest]


def action_event(action: pb.OrchestratorAction, now: float) -> pb.HistoryEvent | None:
    """The history record of one action (eventId = action.id), None for actions not recorded here.

    completeOrchestration is recorded as executionCompleted at the end of the turn instead.
    """
    he = stamped(now, action.id)
    kind = action.WhichOneof("orchestratorActionType")
    if kind == "scheduleTask":
        a = action.scheduleTask
        he.taskScheduled.name = a.name
        if a.HasField("version"):
            he.taskScheduled.version.CopyFrom(a.version)
        if a.HasField("input"):
            he.taskScheduled.input.CopyFrom(a.input)
        if a.HasField("parentTraceContext"):
            he.taskScheduled.parentTraceContext.CopyFrom(a.parentTraceContext)
        he.taskScheduled.tags.update(a.tags)
    elif kind == "createSubOrchestration":
        c = action.createSubOrchestration
        e = he.subOrchestrationInstanceCreated
        e.instanceId, e.name = c.instanceId, c.name
        if c.HasField("version"):
            e.version.CopyFrom(c.version)
        if c.HasField("input"):
            e.input.CopyFrom(c.input)
        if c.HasField("parentTraceContext"):
            e.parentTraceContext.CopyFrom(c.parentTraceContext)
        e.tags.update(c.tags)
    elif kind == "createTimer":
        he.timerCreated.fireAt.CopyFrom(action.createTimer.fireAt)
    elif kind == "sendEvent":
        s = action.sendEvent
        he.eventSent.instanceId = s.instance.instanceId
        he.eventSent.name = s.name
        if s.HasField("data"):
            he.eventSent.input.CopyFrom(s.data)
    elif kind == "sendEntityMessage":
        m = action.sendEntityMessage
        which = m.WhichOneof("EntityMessageType")
        if which is None:
            return None
        getattr(he, which).CopyFrom(getattr(m, which))
    else:
        return None
    return he


def execution_completed(
    action: pb.CompleteOrchestrationAction, now: float, event_id: int
) -> pb.HistoryEvent:
    he = stamped(now, event_id)
    e = he.executionCompleted
    e.orchestrationStatus = action.orchestrationStatus
    if action.HasField("result"):
        e.result.CopyFrom(action.result)
    if action.HasField("failureDetails"):
        e.failureDetails.CopyFrom(action.failureDetails)
    return he


def execution_started(
    name: str,
    instance_id: str,
    execution_id: str,
    now: float,
    *,
    version: str | None = None,
    input: str | None = None,
    parent: pb.ParentInstanceInfo | None = None,
    tags: dict[str, str] | None = None,
    trace: pb.TraceContext | None = None,
    scheduled_start: float = 0.0,
) -> pb.HistoryEvent:
    he = stamped(now)
    e = he.executionStarted
    e.name = name
    e.orchestrationInstance.instanceId = instance_id
    e.orchestrationInstance.executionId.value = execution_id
    if version:
        e.version.value = version
    if input is not None:
        e.input.value = input
    if parent is not None:
        e.parentInstance.CopyFrom(parent)
    if tags:
        e.tags.update(tags)
    if trace is not None:
        e.parentTraceContext.CopyFrom(trace)
    if scheduled_start:
        e.scheduledStartTimestamp.CopyFrom(ts(scheduled_start))
    return he


def event_raised(name: str, input: str | None, now: float) -> pb.HistoryEvent:
    he = stamped(now)
    he.eventRaised.name = name
    if input is not None:
        he.eventRaised.input.value = input
    return he


def execution_terminated(reason: str | None, recurse: bool, now: float) -> pb.HistoryEvent:
    he = stamped(now)
    he.executionTerminated.recurse = recurse
    if reason is not None:
        he.executionTerminated.input.value = reason
    return he


def suspended(reason: str | None, now: float, resume: bool = False) -> pb.HistoryEvent:
    he = stamped(now)
    target = he.executionResumed if resume else he.executionSuspended
    target.SetInParent()
    if reason is not None:
        target.input.value = reason
    return he


def timer_fired(timer_id: int, fire_at: timestamp_pb2.Timestamp) -> pb.HistoryEvent:
    he = HE(eventId=-1)
    he.timestamp.CopyFrom(fire_at)
    he.timerFired.timerId = timer_id
    he.timerFired.fireAt.CopyFrom(fire_at)
    return he


def child_result(
    task_id: int, now: float, result: str | None, failure: pb.TaskFailureDetails | None
) -> pb.HistoryEvent:
    he = stamped(now)
    if failure is None:
        he.subOrchestrationInstanceCompleted.taskScheduledId = task_id
        if result is not None:
            he.subOrchestrationInstanceCompleted.result.value = result
    else:
        he.subOrchestrationInstanceFailed.taskScheduledId = task_id
        he.subOrchestrationInstanceFailed.failureDetails.CopyFrom(failure)
    return he


def task_result(
    task_id: int, now: float, result: str | None, failure: pb.TaskFailureDetails | None
) -> pb.HistoryEvent:
    he = stamped(now)
    if failure is None:
        he.taskCompleted.taskScheduledId = task_id
        if result is not None:
            he.taskCompleted.result.value = result
    else:
        he.taskFailed.taskScheduledId = task_id
        he.taskFailed.failureDetails.CopyFrom(failure)
    return he


def chunks(events: Sequence[pb.HistoryEvent], size: int = 100) -> list[list[pb.HistoryEvent]]:
    return [list(events[i : i + size]) for i in range(0, len(events), size)] or [[]]
