"""ArmoniK's own records (sessions, tasks, results) as plain dataclasses, and their journal form.

The durable truth is the core's storage: a session is an `Instance` whose history holds one journal
event per committed change (the full records it touched, as JSON), result data are `DataObject`s,
and each task attempt ready to run is a `Job`. These records are the adapter's in-memory projection
of that journal, rebuilt by replaying it at start. Status numbers are the wire numbers, so
conversions to and from the protos are identity maps.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field, fields, replace
from typing import Any


class TaskStatus(enum.IntEnum):
    UNSPECIFIED = 0
    CREATING = 1
    SUBMITTED = 2
    DISPATCHED = 3
    COMPLETED = 4
    ERROR = 5
    TIMEOUT = 6
    CANCELLING = 7
    CANCELLED = 8
    PROCESSING = 9
    PROCESSED = 10
    RETRIED = 11
    PENDING = 12
    PAUSED = 13


class ResultStatus(enum.IntEnum):
    UNSPECIFIED = 0
    CREATED = 1
    COMPLETED = 2
    ABORTED = 3
    DELETED = 4
    NOTFOUND = 127


class SessionStatus(enum.IntEnum):
    UNSPECIFIED = 0
    RUNNING = 1
    CANCELLED = 2
    PAUSED = 3
    CLOSED = 4
    PURGED = 5
    DELETED = 6


FINAL_TASK = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.ERROR, TaskStatus.TIMEOUT, TaskStatus.CANCELLED, TaskStatus.RETRIED}
)
#: States in which a task has a job in the core's queue (leased or not).
QUEUED_TASK = frozenset({TaskStatus.SUBMITTED, TaskStatus.DISPATCHED, TaskStatus.PROCESSING})


@dataclass(slots=True)
class Options:
    """Merged task options (see `adapters.armonik.options`). `max_duration` is in seconds."""

    options: dict[str, str] = field(default_factory=dict)
    max_duration: float = 0.0
    max_retries: int = 0
    priority: int = 0
    partition_id: str = ""
    application_name: str = ""
    application_version: str = ""
    application_namespace: str = ""
    application_service: str = ""
    engine_type: str = ""

    def copy(self) -> Options:
        return replace(self, options=dict(self.options))


@dataclass(slots=True)
class SessionMeta:
    id: str
    status: SessionStatus = SessionStatus.RUNNING
    partition_ids: list[str] = field(default_factory=list)
    options: Options = field(default_factory=Options)
    created_at: float = 0.0
    cancelled_at: float = 0.0
    closed_at: float = 0.0
    purged_at: float = 0.0
    deleted_at: float = 0.0
    client_submission: bool = True
    worker_submission: bool = True


@dataclass(slots=True)
class TaskRec:
    id: str
    session_id: str
    options: Options
    payload_id: str
    data_dependencies: list[str] = field(default_factory=list)
    expected_output_ids: list[str] = field(default_factory=list)
    parent_task_ids: list[str] = field(default_factory=list)
    retry_of_ids: list[str] = field(default_factory=list)
    initial_task_id: str = ""
    created_by: str = ""
    status: TaskStatus = TaskStatus.CREATING
    status_message: str = ""
    output_success: bool = False
    output_error: str = ""
    owner_pod_id: str = ""
    pod_hostname: str = ""
    created_at: float = 0.0
    submitted_at: float = 0.0
    received_at: float = 0.0
    acquired_at: float = 0.0
    fetched_at: float = 0.0
    started_at: float = 0.0
    processed_at: float = 0.0
    ended_at: float = 0.0

    def copy(self) -> TaskRec:
        return replace(
            self,
            options=self.options.copy(),
            data_dependencies=list(self.data_dependencies),
            expected_output_ids=list(self.expected_output_ids),
            parent_task_ids=list(self.parent_task_ids),
            retry_of_ids=list(self.retry_of_ids),
        )


@dataclass(slots=True)
class ResultRec:
    id: str
    session_id: str
    name: str
    owner_task_id: str = ""
    status: ResultStatus = ResultStatus.CREATED
    created_at: float = 0.0
    completed_at: float = 0.0
    size: int = 0
    created_by: str = ""
    opaque_id: str = ""  # hex
    manual_deletion: bool = False

    def copy(self) -> ResultRec:
        return replace(self)


class Session:
    """One session's projection: its metadata, tasks and results, and the dependency index.

    `lock` serialises every change to the session (compute, commit, apply), so a change is always
    computed from the state the previous commit left.
    """

    def __init__(self, meta: SessionMeta) -> None:
        self.meta = meta
        self.tasks: dict[str, TaskRec] = {}
        self.results: dict[str, ResultRec] = {}
        #: result id -> ids of tasks still waiting for it.
        self.waiting: dict[str, set[str]] = {}
        #: CREATING/PENDING task id -> how many of its inputs are not COMPLETED yet. Kept out of the
        #: task record so that a completion does not copy and re-journal every task waiting for it
        #: (a fan-in task with 1,000 dependencies would be re-encoded 1,000 times).
        self.pending: dict[str, int] = {}
        self.lock = asyncio.Lock()
        self.subscribers: set[Any] = set()


# ---------------------------------------------------------------------------------------------
# Journal form
# ---------------------------------------------------------------------------------------------


# Field names computed once: `dataclasses.asdict` recurses and deep-copies, which made encoding
# the journal a visible part of every commit.
_OPTION_FIELDS = tuple(f.name for f in fields(Options))
_TASK_FIELDS = tuple(f.name for f in fields(TaskRec) if f.name not in ("options", "status"))
_RESULT_FIELDS = tuple(f.name for f in fields(ResultRec) if f.name != "status")
_META_FIELDS = tuple(f.name for f in fields(SessionMeta) if f.name not in ("options", "status"))


def options_to_dict(o: Options) -> dict[str, Any]:
    return {k: getattr(o, k) for k in _OPTION_FIELDS}


def options_from_dict(d: dict[str, Any]) -> Options:
    return Options(**d)


def task_to_dict(t: TaskRec) -> dict[str, Any]:
    d = {k: getattr(t, k) for k in _TASK_FIELDS}
    d["options"] = options_to_dict(t.options)
    d["status"] = int(t.status)
    return d


def task_from_dict(d: dict[str, Any]) -> TaskRec:
    d = dict(d)
    d["options"] = options_from_dict(d["options"])
    d["status"] = TaskStatus(d["status"])
    return TaskRec(**d)


def result_to_dict(r: ResultRec) -> dict[str, Any]:
    d = {k: getattr(r, k) for k in _RESULT_FIELDS}
    d["status"] = int(r.status)
    return d


def result_from_dict(d: dict[str, Any]) -> ResultRec:
    d = dict(d)
    d["status"] = ResultStatus(d["status"])
    return ResultRec(**d)


def meta_to_dict(m: SessionMeta) -> dict[str, Any]:
    d = {k: getattr(m, k) for k in _META_FIELDS}
    d["options"] = options_to_dict(m.options)
    d["status"] = int(m.status)
    return d


def meta_from_dict(d: dict[str, Any]) -> SessionMeta:
    d = dict(d)
    d["status"] = SessionStatus(d["status"])
    d["options"] = options_from_dict(d["options"])
    return SessionMeta(**d)
