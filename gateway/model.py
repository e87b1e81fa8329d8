"""The protocol-neutral core model: instances, events, jobs, timers, messages and data objects.

Every front-end translates its protocol into these plain dataclasses; the scheduler core and the
storage backends know nothing else. Payloads are opaque bytes (plus a content type): the core never
parses them, adapters convert at their edges, and JSON is the lingua franca when a payload crosses
protocols.

Times are POSIX seconds (float) read from the one `gateway.clock.Clock`, so tests can move time.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Placeholder for "no time set" in fields that are always present.
NEVER = 0.0


class InstanceStatus(enum.StrEnum):
    """Lifecycle of an instance; the last four are terminal."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TERMINATED = "TERMINATED"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {InstanceStatus.COMPLETED, InstanceStatus.FAILED, InstanceStatus.TERMINATED, InstanceStatus.CANCELED}
)


class JobStatus(enum.StrEnum):
    """Lifecycle of a job. DONE jobs are not kept: completing a job deletes it."""

    READY = "READY"
    LEASED = "LEASED"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


@dataclass(slots=True, frozen=True)
class Payload:
    """Opaque bytes with a content type. The core never looks inside."""

    data: bytes = b""
    content_type: str = "application/json"


@dataclass(slots=True, frozen=True)
class Failure:
    """Why something failed, in protocol-neutral form (adapters keep richer detail in `details`)."""

    message: str
    kind: str = ""
    details: bytes = b""


@dataclass(slots=True)
class Instance:
    """Anything with a lifecycle that a client starts and observes.

    A Durable Task orchestration, a Zeebe process instance, an ArmoniK session, a Restate
    invocation/virtual-object key/workflow. `engine` names the decider that owns it (the adapter's
    engine name, e.g. "durabletask", "zeebe").

    Inbox bookkeeping: every event (inbox post or history append) takes the next `last_seq`; an
    inbox post also sets `inbox_seq`; a step that has looked at the inbox up to some seq records it
    in `seen_seq`. The instance needs a step while `inbox_seq > seen_seq` (`Instance.runnable`).
    """

    id: str
    engine: str
    definition: str = ""
    version: str = ""
    status: InstanceStatus = InstanceStatus.PENDING
    input: Payload | None = None
    output: Payload | None = None
    failure: Failure | None = None
    custom_status: Payload | None = None
    parent_id: str | None = None
    #: Opaque per-engine execution id (Durable Task executionId, Zeebe process definition key...).
    execution_id: str = ""
    #: Engine-private state (BPMN token positions and scopes, turn bookkeeping...), opaque to the core.
    state: bytes = b""
    tags: dict[str, str] = field(default_factory=dict)
    created_at: float = NEVER
    updated_at: float = NEVER
    completed_at: float = NEVER
    #: Sequence number of the last event posted to this instance (inbox and history share it).
    last_seq: int = 0
    #: Sequence number of the last event posted to the inbox.
    inbox_seq: int = 0
    #: Inbox events with seq <= seen_seq have been looked at by a step.
    seen_seq: int = 0
    #: Single-writer step lease: owner and expiry (NEVER = not leased).
    step_owner: str = ""
    step_expires: float = NEVER
    #: Bumped on every committed change; a fencing token for step leases.
    revision: int = 0

    @property
    def runnable(self) -> bool:
        return self.inbox_seq > self.seen_seq


@dataclass(slots=True, frozen=True)
class Event:
    """A fact about an instance: first in its inbox, then (once consumed) in its history.

    `seq` orders all events of one instance. History is append-only; consuming an inbox event
    moves it to the history keeping its seq.
    """

    instance_id: str
    seq: int
    kind: str
    data: bytes = b""
    #: What the event answers, for the engine to match: a job id, timer key, subscription key...
    ref: str = ""
    created_at: float = NEVER
    in_history: bool = False


@dataclass(slots=True)
class Job:
    """One unit of remote work, whatever the protocol calls it.

    An activity, an orchestrator turn, a service task, an ArmoniK task, a function invocation, a
    Restate attempt. `queue` is the routing key (activity name, job type, function name,
    `Service/handler`, partition). `attempt` counts leases and is the lease's fencing token: a
    completion carries the attempt it was leased under and is refused (`LeaseLost`) otherwise.
    """

    id: str
    instance_id: str
    queue: str
    kind: str = ""
    payload: Payload = field(default_factory=Payload)
    headers: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    not_before: float = NEVER
    attempt: int = 0
    #: Attempts left, counting the current one (Zeebe's meaning): a failure with retries-1 > 0 is
    #: retried, otherwise the job is FAILED. None = unlimited.
    retries: int | None = None
    #: Lease duration handed out when leased, in seconds.
    timeout: float = 30.0
    status: JobStatus = JobStatus.READY
    lease_owner: str = ""
    lease_expires: float = NEVER
    origin: str = ""
    executor: str = ""
    created_at: float = NEVER
    #: Global creation order, assigned by storage; FIFO tiebreak.
    seq: int = 0
    #: Event kinds posted to the instance inbox on completion / final failure.
    on_complete: str = "job.completed"
    on_fail: str = "job.failed"
    last_error: str = ""

    @property
    def ref(self) -> JobRef:
        return JobRef(self.id, self.attempt)


@dataclass(slots=True, frozen=True)
class JobRef:
    """A job as leased: id plus the attempt (fencing token) it was leased under."""

    job_id: str
    attempt: int


@dataclass(slots=True)
class Timer:
    """At `due_at`, post event (`kind`, `data`, ref=`key`) into the inbox of `instance_id`.

    `key` names the timer within its instance so an engine can cancel it.
    """

    instance_id: str
    key: str
    due_at: float
    kind: str = "timer.fired"
    data: bytes = b""


@dataclass(slots=True)
class Subscription:
    """An instance waiting for a message (name, correlation key).

    A message correlates with at most one open subscription per `group` (Zeebe: per process id);
    when it does, event (`kind`, data = the message payload's bytes, ref = `key`) is posted to
    the instance and the subscription is closed. `key` names it within its instance.
    """

    instance_id: str
    key: str
    name: str
    correlation_key: str
    group: str = ""
    kind: str = "message.correlated"
    created_at: float = NEVER


@dataclass(slots=True)
class Message:
    """A published message; buffered until `expires_at` if nothing correlates.

    `message_id` (when non-empty) is unique among buffered messages with the same name and
    correlation key. `correlated_groups` records the subscription groups it already reached so
    that a buffered message is delivered at most once per group.
    """

    id: str
    name: str
    correlation_key: str
    payload: Payload = field(default_factory=Payload)
    message_id: str = ""
    expires_at: float = NEVER
    created_at: float = NEVER
    correlated_groups: frozenset[str] = frozenset()


@dataclass(slots=True)
class DataObject:
    """A named blob owned by an instance: an ArmoniK result, a large payload, a Restate promise."""

    id: str
    owner_id: str
    status: str = "CREATED"
    payload: Payload | None = None
    meta: dict[str, str] = field(default_factory=dict)
    created_at: float = NEVER
    updated_at: float = NEVER


# ---------------------------------------------------------------------------------------------
# Writes: what a step, a job completion or a client call commits atomically.
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class NewEvent:
    """An event to post into an instance's inbox (or append straight to its history)."""

    instance_id: str
    kind: str
    data: bytes = b""
    ref: str = ""


@dataclass(slots=True)
class NewInstance:
    """An instance to create with its first inbox events.

    If the id exists: `AlreadyExists`, unless the existing instance's status is in `replace`, in
    which case the old one (history, inbox, jobs, timers, subscriptions) is dropped first.
    """

    instance: Instance
    events: list[NewEvent] = field(default_factory=list)
    replace: frozenset[InstanceStatus] = frozenset()


@dataclass(slots=True)
class InstanceUpdate:
    """Changes to one instance; None leaves a field as it is.

    `consume_upto` moves inbox events with seq <= it into the history (in seq order, before
    `Commit.history` appends of this instance); `drop_upto` discards inbox events with seq <= it
    (for an engine that writes its own history records through `Commit.history`); `reset_history`
    then drops the whole history (continue-as-new). `seen_upto` sets how far the inbox has been
    looked at (exactly, clamped to `inbox_seq`): a remote decider that consumed only part of the
    inbox sets it back to what it consumed, so the rest makes the instance runnable again.
    """

    instance_id: str
    status: InstanceStatus | None = None
    output: Payload | None = None
    failure: Failure | None = None
    custom_status: Payload | None = None
    execution_id: str | None = None
    input: Payload | None = None
    tags: Mapping[str, str] | None = None
    state: bytes | None = None
    clear_output: bool = False
    reset_history: bool = False
    consume_upto: int | None = None
    drop_upto: int | None = None
    seen_upto: int | None = None


@dataclass(slots=True, frozen=True)
class JobOutcome:
    """How a leased job ends in a commit.

    action: "complete" (deleted; `on_complete` event posted with `result` unless `post_event` is
    False), "fail" (retried if retries remain, after `backoff` seconds; otherwise FAILED and the
    `on_fail` event posted), "release" (back to READY without consuming a retry, e.g. abandon),
    "cancel" (deleted, nothing posted).
    """

    ref: JobRef
    action: str = "complete"
    result: bytes = b""
    error: str = ""
    retries: int | None = None
    backoff: float = 0.0
    post_event: bool = True


@dataclass(slots=True)
class Commit:
    """One atomic write: everything in it is applied together or not at all.

    Guards first: if `step` names a step lease (instance id + revision) that is no longer held, or
    a `jobs` outcome names a lease that is no longer held, nothing is applied and `LeaseLost` is
    raised. A step commit releases its step lease.

    Every instance the commit changes gets its revision bumped. That is the fencing rule that keeps
    one writer per instance: a step claimed at revision r can only commit while the instance is
    still at r, so a job completion that changed the instance meanwhile makes the step's commit
    fail (`LeaseLost`) and the instance is stepped again with fresh state.

    Order of application: guards, deletes, instance creation, job outcomes, updates (consume or
    drop inbox events, reset history, then fields), history appends, inbox posts, jobs, timers,
    subscriptions (which may correlate buffered messages at once), data.

    A commit that changes an instance (creation, an update, a history append) bumps its revision
    and frees any step lease on it; a mere inbox post does neither.
    """

    step: tuple[str, int] | None = None
    create_instances: list[NewInstance] = field(default_factory=list)
    updates: list[InstanceUpdate] = field(default_factory=list)
    history: list[NewEvent] = field(default_factory=list)
    inbox: list[NewEvent] = field(default_factory=list)
    jobs: list[JobOutcome] = field(default_factory=list)
    new_jobs: list[Job] = field(default_factory=list)
    cancel_jobs: list[str] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    cancel_timers: list[tuple[str, str]] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    close_subscriptions: list[tuple[str, str]] = field(default_factory=list)
    data: list[DataObject] = field(default_factory=list)
    delete_data: list[str] = field(default_factory=list)
    delete_instances: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not any(getattr(self, f) for f in _COMMIT_FIELDS if f != "step") and self.step is None


_COMMIT_FIELDS = tuple(Commit.__dataclass_fields__)


@dataclass(slots=True)
class StepClaim:
    """An instance leased for one step, with the inbox events it has not yet consumed."""

    instance: Instance
    inbox: list[Event]

    @property
    def token(self) -> tuple[str, int]:
        return (self.instance.id, self.instance.revision)


@dataclass(slots=True)
class InstanceQuery:
    """Filter for listing instances; results are ordered by id, paged by `after_id`."""

    engine: str | None = None
    statuses: frozenset[InstanceStatus] | None = None
    definition: str | None = None
    id_prefix: str | None = None
    parent_id: str | None = None
    created_from: float | None = None
    created_to: float | None = None
    completed_from: float | None = None
    completed_to: float | None = None
    after_id: str | None = None
    limit: int = 1000


@dataclass(slots=True)
class Page:
    """One page of a listing; `next_after` is the cursor for the next page (None = last page)."""

    items: list[Any]
    next_after: str | None = None
