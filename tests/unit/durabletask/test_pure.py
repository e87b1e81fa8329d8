"""Pure parts of the Durable Task adapter: tokens, statuses, payloads, history building, error mapping."""

from __future__ import annotations

import grpc
import pytest

from adapters.durabletask._pb import orchestrator_service_pb2 as pb
from adapters.durabletask.convert import (
    DtState,
    Token,
    failure_from_wire,
    failure_to_wire,
    orchestration_state,
    payload_of,
    status_from_wire,
    status_to_wire,
    statuses_from_wire,
    ts,
)
from adapters.durabletask.errors import to_status
from adapters.durabletask.history import (
    action_event,
    exec_ref,
    execution_completed,
    execution_started,
    is_stale,
    new_event,
    turn_new_events,
)
from gateway import errors
from gateway.model import Event, Instance, InstanceStatus, Payload


def test_token_round_trip_keeps_free_text_instance_ids() -> None:
    tok = Token("o", "job1", 3, "weird|id|with|bars", "exec1", 42, 1_700_000_000_123_456_789)
    assert Token.decode(tok.encode()) == tok
    assert Token.decode(tok.encode(), "o") == tok


@pytest.mark.parametrize("text", ["", "garbage", "x|1|2|3|e|j|i", "o|a|2|3|e|j|i", "o|1|2"])
def test_malformed_tokens_are_invalid_arguments(text: str) -> None:
    with pytest.raises(errors.InvalidArgument):
        Token.decode(text)


def test_token_of_another_kind_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument):
        Token.decode(Token("a", "j", 1, "i").encode(), "o")


def test_status_mapping_round_trips_and_continued_as_new_is_running() -> None:
    for status in InstanceStatus:
        assert status_from_wire(status_to_wire(status)) is status
    assert status_to_wire(InstanceStatus.PENDING) == pb.ORCHESTRATION_STATUS_PENDING
    assert status_to_wire(InstanceStatus.CANCELED) == pb.ORCHESTRATION_STATUS_CANCELED
    assert status_from_wire(pb.ORCHESTRATION_STATUS_CONTINUED_AS_NEW) is InstanceStatus.RUNNING
    assert statuses_from_wire([]) is None
    with pytest.raises(errors.InvalidArgument):
        status_from_wire(99)


def test_unset_string_value_stays_distinct_from_empty() -> None:
    req = pb.RaiseEventRequest(instanceId="i", name="n")
    assert payload_of(req, "input") is None
    req.input.value = ""
    assert payload_of(req, "input") == Payload(b"")


def test_failure_details_are_kept_verbatim() -> None:
    tfd = pb.TaskFailureDetails(errorType="builtins.ValueError", errorMessage="kaboom")
    tfd.stackTrace.value = "trace"
    failure = failure_from_wire(tfd)
    assert failure.kind == "builtins.ValueError" and failure.message == "kaboom"
    assert failure_to_wire(failure) == tfd


def test_state_json_round_trip_and_tolerates_garbage() -> None:
    st = DtState(turn="t", start_at=5.0, parent_task=3, parent_exec="e", estate=None, lock_queue=["x"])
    assert DtState.load(st.dump()) == st
    assert DtState.load(b"not json") == DtState()
    assert DtState.load(b"") == DtState()


def test_orchestration_state_payloads_only_on_request() -> None:
    inst = Instance("i", "durabletask", definition="parent", status=InstanceStatus.COMPLETED,
                    input=Payload(b'"World"'), output=Payload(b"42"), parent_id="p", execution_id="e",
                    created_at=10.0, updated_at=11.0, completed_at=11.0, tags={"a": "b"})
    full = orchestration_state(inst, True)
    assert full.input.value == '"World"' and full.output.value == "42"
    assert full.parentInstanceId.value == "p" and full.executionId.value == "e"
    assert full.orchestrationStatus == pb.ORCHESTRATION_STATUS_COMPLETED and dict(full.tags) == {"a": "b"}
    bare = orchestration_state(inst, False)
    assert not bare.HasField("input") and not bare.HasField("output")


def _ev(seq: int, he: pb.HistoryEvent, ref: str = "") -> Event:
    ne = new_event("i", he, ref)
    return Event("i", seq, ne.kind, ne.data, ne.ref)


def test_turn_new_events_start_with_os_then_execution_started_and_drop_stale() -> None:
    raised = pb.HistoryEvent(eventId=-1, eventRaised=pb.EventRaisedEvent(name="go"))
    started = execution_started("orch", "i", "e2", 1.0, input="1")
    stale = pb.HistoryEvent(eventId=-1, timerFired=pb.TimerFiredEvent(timerId=1))
    inbox = [_ev(1, raised), _ev(2, stale, exec_ref("e1", ":t1")), _ev(3, started)]
    out = turn_new_events(inbox, "e2", 5_000_000_000)
    kinds = [e.WhichOneof("eventType") for e in out]
    assert kinds == ["orchestratorStarted", "executionStarted", "eventRaised"]
    assert out[0].timestamp.ToNanoseconds() == 5_000_000_000 and all(e.eventId == -1 for e in out)
    assert is_stale(inbox[1], "e2") and not is_stale(inbox[0], "e2")


def test_action_events_carry_the_action_id() -> None:
    action = pb.OrchestratorAction(id=7, scheduleTask=pb.ScheduleTaskAction(name="say_hello"))
    action.scheduleTask.input.value = '"World"'
    he = action_event(action, 1.0)
    assert he is not None and he.eventId == 7 and he.taskScheduled.name == "say_hello"
    assert he.taskScheduled.input.value == '"World"'
    timer = pb.OrchestratorAction(id=2, createTimer=pb.CreateTimerAction(fireAt=ts(3.0)))
    assert action_event(timer, 1.0).timerCreated.fireAt == ts(3.0)  # type: ignore[union-attr]
    done = pb.OrchestratorAction(id=4, completeOrchestration=pb.CompleteOrchestrationAction(
        orchestrationStatus=pb.ORCHESTRATION_STATUS_COMPLETED))
    assert action_event(done, 1.0) is None
    ec = execution_completed(done.completeOrchestration, 1.0, done.id)
    assert ec.eventId == 4 and ec.executionCompleted.orchestrationStatus == pb.ORCHESTRATION_STATUS_COMPLETED


def test_execution_started_sets_parent_instance() -> None:
    parent = pb.ParentInstanceInfo(taskScheduledId=3)
    parent.orchestrationInstance.instanceId = "p"
    he = execution_started("child", "c", "e", 1.0, input='"x"', parent=parent)
    assert he.executionStarted.parentInstance.orchestrationInstance.instanceId == "p"
    assert he.executionStarted.orchestrationInstance.executionId.value == "e"


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.NotFound("x"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists("x"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.FailedPrecondition("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.InvalidArgument("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.LeaseLost("x"), grpc.StatusCode.NOT_FOUND),
        (errors.ResourceExhausted("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.Unavailable("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.DeadlineExceeded("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (RuntimeError("boom"), grpc.StatusCode.INTERNAL),
    ],
)
def test_error_mapping(exc: Exception, code: grpc.StatusCode) -> None:
    assert to_status(exc)[0] is code
