"""Pure conversions between the Durable Task wire types and the core model.

Timestamps, StringValue <-> Payload (an unset StringValue stays distinct from ""), statuses,
`OrchestrationState`, the opaque completion token and the adapter's per-instance bookkeeping
(`DtState`, kept as JSON in `Instance.state`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import timestamp_pb2, wrappers_pb2

from gateway.errors import InvalidArgument
from gateway.model import Failure, Instance, InstanceStatus, Payload

from ._pb import orchestrator_service_pb2 as pb

ENGINE = "durabletask"
ORCH_QUEUE = "durabletask/orchestrator"
ACTIVITY_QUEUE = "durabletask/activity"
ENTITY_QUEUE = "durabletask/entity"
EVENT_KIND = "dt"
WAKE_KIND = "dt.wake"  # an inbox event that only arms a turn (it never becomes a HistoryEvent)

_TO_WIRE: dict[InstanceStatus, Any] = {
    InstanceStatus.PENDING: pb.ORCHESTRATION_STATUS_PENDING,
    InstanceStatus.RUNNING: pb.ORCHESTRATION_STATUS_RUNNING,
    InstanceStatus.SUSPENDED: pb.ORCHESTRATION_STATUS_SUSPENDED,
    InstanceStatus.COMPLETED: pb.ORCHESTRATION_STATUS_COMPLETED,
    InstanceStatus.FAILED: pb.ORCHESTRATION_STATUS_FAILED,
    InstanceStatus.TERMINATED: pb.ORCHESTRATION_STATUS_TERMINATED,
    InstanceStatus.CANCELED: pb.ORCHESTRATION_STATUS_CANCELED,
}
_FROM_WIRE: dict[Any, InstanceStatus] = {v: k for k, v in _TO_WIRE.items()}
# CONTINUED_AS_NEW is transient on the wire: the instance keeps running under a new execution.
_FROM_WIRE[pb.ORCHESTRATION_STATUS_CONTINUED_AS_NEW] = InstanceStatus.RUNNING


def status_to_wire(status: InstanceStatus) -> Any:
    return _TO_WIRE[status]


def status_from_wire(value: int) -> InstanceStatus:
    try:
        return _FROM_WIRE[value]
    except KeyError:
        raise InvalidArgument(f"unknown orchestration status {value}") from None


def statuses_from_wire(values: Any) -> frozenset[InstanceStatus] | None:
    """A runtimeStatus filter; empty means 'any'."""
    if not values:
        return None
    return frozenset(status_from_wire(v) for v in values)


# ---------------------------------------------------------------- time


def ts(seconds: float) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromNanoseconds(round(seconds * 1e9))
    return out


def ts_ns(nanos: int) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromNanoseconds(nanos)
    return out


def from_ts(value: timestamp_pb2.Timestamp) -> float:
    return float(value.ToNanoseconds()) / 1e9


# ---------------------------------------------------------------- payloads


def sv(value: str | None) -> wrappers_pb2.StringValue | None:
    return None if value is None else wrappers_pb2.StringValue(value=value)


def sv_of(msg: Any, name: str) -> str | None:
    """The StringValue field `name` of `msg`, None when unset (distinct from "")."""
    return getattr(msg, name).value if msg.HasField(name) else None


def payload_of(msg: Any, name: str) -> Payload | None:
    value = sv_of(msg, name)
    return None if value is None else Payload(value.encode())


def payload_sv(payload: Payload | None) -> wrappers_pb2.StringValue | None:
    return None if payload is None else wrappers_pb2.StringValue(value=payload.data.decode(errors="replace"))


def failure_from_wire(details: pb.TaskFailureDetails) -> Failure:
    """Keep the TaskFailureDetails verbatim in `Failure.details`."""
    return Failure(details.errorMessage, details.errorType, details.SerializeToString())


def failure_to_wire(failure: Failure | None) -> pb.TaskFailureDetails | None:
    if failure is None:
        return None
    if failure.details:
        try:
            return pb.TaskFailureDetails.FromString(failure.details)
        except Exception:  # written by another front-end: fall back to the neutral fields
            pass
    return pb.TaskFailureDetails(errorType=failure.kind, errorMessage=failure.message)


# ---------------------------------------------------------------- per-instance bookkeeping


@dataclass
class DtState:
    """The adapter's bookkeeping in `Instance.state` (JSON).

    turn: the job id of the orchestrator turn (or entity batch) in flight, "" if none.
    start_at: scheduled start (POSIX s, 0 = now). parent_task/parent_exec: where to report completion.
    otc: the worker's OrchestrationTraceContext (base64), handed back on the next turn.
    entity: this instance is a durable entity; estate its serialized state (None = no state);
    locked_by/lock_owner: the critical section holding it; lock_queue: waiting lock requests (base64 HE);
    held: operations from others than the lock owner, held back until the unlock (base64 HE).
    """

    turn: str = ""
    start_at: float = 0.0
    parent_task: int = -1
    parent_exec: str = ""
    otc: str = ""
    entity: bool = False
    estate: str | None = None
    locked_by: str = ""
    lock_owner: str = ""
    lock_queue: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, data: bytes) -> DtState:
        # Read on every turn, step and status answer: keep it to one json.loads and one __init__.
        if not data:
            return cls()
        try:
            raw = json.loads(data)
        except ValueError:
            return cls()
        try:
            return cls(**raw)
        except TypeError:  # a key this version does not know (written by a newer one)
            return cls(**{k: v for k, v in raw.items() if k in _DT_FIELDS})

    def dump(self) -> bytes:
        # Only the fields that differ from their defaults (most are defaults on most instances);
        # `dataclasses.asdict` deep-copies every value and was ~7% of the gateway's CPU under load.
        out = {k: v for k, default in _DT_DEFAULTS if (v := getattr(self, k)) != default}
        return json.dumps(out, separators=(",", ":")).encode()

    def set_otc(self, otc: pb.OrchestrationTraceContext | None) -> None:
        self.otc = base64.b64encode(otc.SerializeToString()).decode() if otc is not None else ""

    def get_otc(self) -> pb.OrchestrationTraceContext | None:
        if not self.otc:
            return None
        return pb.OrchestrationTraceContext.FromString(base64.b64decode(self.otc))


_DT_FIELDS = frozenset(DtState.__dataclass_fields__)
_DT_DEFAULTS: tuple[tuple[str, Any], ...] = tuple((k, getattr(DtState(), k)) for k in DtState.__dataclass_fields__)


# ---------------------------------------------------------------- completion tokens


@dataclass(frozen=True, slots=True)
class Token:
    """What a work item's opaque completionToken carries.

    kind: "o" orchestrator turn, "a" activity, "e" entity batch; attempt: the lease's fencing
    token; upto: last inbox seq the item covers; os_ns: the orchestratorStarted timestamp (ns)
    persisted when the turn commits; execution_id: the execution it belongs to.
    """

    kind: str
    job_id: str
    attempt: int
    instance_id: str
    execution_id: str = ""
    upto: int = 0
    os_ns: int = 0

    def encode(self) -> str:
        # The instance id is free text, so it goes last and the split is bounded.
        return "|".join(
            [self.kind, str(self.attempt), str(self.upto), str(self.os_ns), self.execution_id, self.job_id,
             self.instance_id]
        )

    @classmethod
    def decode(cls, text: str, kind: str | None = None) -> Token:
        parts = text.split("|", 6)
        if len(parts) != 7 or parts[0] not in ("o", "a", "e"):
            raise InvalidArgument("malformed completionToken")
        try:
            attempt, upto, os_ns = int(parts[1]), int(parts[2]), int(parts[3])
        except ValueError:
            raise InvalidArgument("malformed completionToken") from None
        if kind is not None and parts[0] != kind:
            raise InvalidArgument("completionToken belongs to another kind of work item")
        return cls(parts[0], parts[5], attempt, parts[6], parts[4], upto, os_ns)


# ---------------------------------------------------------------- OrchestrationState


def is_entity_id(instance_id: str) -> bool:
    return instance_id.startswith("@")


def orchestration_state(inst: Instance, payloads: bool) -> pb.OrchestrationState:
    st = DtState.load(inst.state)
    out = pb.OrchestrationState(
        instanceId=inst.id,
        name=inst.definition,
        orchestrationStatus=status_to_wire(inst.status),
        createdTimestamp=ts(inst.created_at),
        lastUpdatedTimestamp=ts(inst.updated_at),
        customStatus=payload_sv(inst.custom_status),
        failureDetails=failure_to_wire(inst.failure),
        tags=inst.tags,
    )
    if inst.version:
        out.version.value = inst.version
    if inst.execution_id:
        out.executionId.value = inst.execution_id
    if st.start_at:
        out.scheduledStartTimestamp.CopyFrom(ts(st.start_at))
    if inst.completed_at:
        out.completedTimestamp.CopyFrom(ts(inst.completed_at))
    if inst.parent_id:
        out.parentInstanceId.value = inst.parent_id
    if payloads:
        if inst.input is not None:
            out.input.value = inst.input.data.decode(errors="replace")
        if inst.output is not None:
            out.output.value = inst.output.data.decode(errors="replace")
    return out
