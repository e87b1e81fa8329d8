"""The task graph: result and task creation, dependency resolution, outcomes, cascades.

Every function works on a `Tx` (copy-on-write, committed as one core commit by the store), so a
change such as "commit this worker's side effects" is all-or-nothing. The rules follow
ArmoniK.Core (TaskLifeCycleHelper, TaskHandler):
- a task runs once its payload and every data dependency are COMPLETED (the payload is a dependency);
- a task's expected outputs are owned by it; a subtask claiming one takes it over;
- a worker error or timeout ends the task and ABORTS its CREATED outputs, which fails (ERROR) every
  CREATING/PENDING task depending on them, transitively;
- an RPC failure retries the task as `<initial>###<n>` while `len(retry_of_ids) < max_retries`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.errors import FailedPrecondition, NotFound
from gateway.model import JobRef

from .records import (
    FINAL_TASK,
    QUEUED_TASK,
    Options,
    ResultRec,
    ResultStatus,
    SessionStatus,
    TaskRec,
    TaskStatus,
)
from .store import Tx


def new_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


def create_result(
    tx: Tx,
    name: str,
    *,
    data: bytes | None = None,
    created_by: str = "",
    manual_deletion: bool = False,
    rid: str | None = None,
) -> ResultRec:
    """A new result of the session: CREATED, or COMPLETED at once when `data` is given."""
    r = ResultRec(
        id=rid or new_id(), session_id=tx.sid, name=name, created_at=tx.now, created_by=created_by,
        manual_deletion=manual_deletion,
    )
    tx.add_result(r)
    tx.emit("new_result", r, ResultStatus.CREATED)
    if data is not None:
        complete_result(tx, r.id, data)
    return r


def complete_result(tx: Tx, rid: str, data: bytes) -> None:
    """Store a CREATED result's data (write-once), then release the tasks waiting for it."""
    cur = tx.result(rid)
    if cur is None:
        raise NotFound(f"result {rid!r} not found in session {tx.sid!r}")
    if cur.status is not ResultStatus.CREATED:
        raise FailedPrecondition(f"result {rid!r} is {cur.status.name}, not CREATED: results are write-once")
    r = tx.wresult(rid)
    r.status = ResultStatus.COMPLETED
    r.completed_at = tx.now
    r.size = len(data)
    tx.put_data(rid, data)
    tx.emit("result_status", r, ResultStatus.COMPLETED)
    tx.resolved.add(rid)
    for tid in sorted(tx.waiters(rid)):
        t = tx.task(tid)
        if t is None or t.status not in (TaskStatus.CREATING, TaskStatus.PENDING):
            continue
        n = tx.pending[tid] = tx.pending_inputs(tid) - 1
        if n <= 0:
            make_ready(tx, tx.wtask(tid))


def abort_result(tx: Tx, rid: str, why: str) -> None:
    """CREATED -> ABORTED, and fail every task still waiting for it (transitively)."""
    cur = tx.result(rid)
    if cur is None or cur.status is not ResultStatus.CREATED:
        return
    r = tx.wresult(rid)
    r.status = ResultStatus.ABORTED
    tx.emit("result_status", r, ResultStatus.ABORTED)
    tx.resolved.add(rid)
    for tid in sorted(tx.waiters(rid)):
        t = tx.task(tid)
        if t is not None and t.status in (TaskStatus.CREATING, TaskStatus.PENDING):
            end_task(tx, tx.wtask(tid), TaskStatus.ERROR, f"dependency {rid} was aborted ({why})")


def check_inputs(tx: Tx, ids: Iterable[str], buffered: set[str] | None = None) -> None:
    """Payload and dependencies: NOT_FOUND if unknown, FAILED_PRECONDITION if aborted or deleted."""
    for rid in ids:
        if buffered is not None and rid in buffered:
            continue
        r = tx.result(rid)
        if r is None:
            raise NotFound(f"result {rid!r} not found in session {tx.sid!r}")
        if r.status in (ResultStatus.ABORTED, ResultStatus.DELETED):
            raise FailedPrecondition(f"result {rid!r} is {r.status.name}: a task cannot depend on it")


def check_outputs(tx: Tx, ids: Iterable[str], buffered: set[str] | None = None) -> None:
    for rid in ids:
        if (buffered is None or rid not in buffered) and tx.result(rid) is None:
            raise NotFound(f"result {rid!r} not found in session {tx.sid!r}")


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class NewTask:
    """A task to create (validated by the caller: references exist, options are merged)."""

    options: Options
    payload_id: str
    data_dependencies: list[str]
    expected_output_ids: list[str]
    id: str = field(default_factory=new_id)
    parent_task_ids: list[str] = field(default_factory=list)
    created_by: str = ""
    retry_of_ids: list[str] = field(default_factory=list)
    initial_task_id: str = ""


def create_task(tx: Tx, spec: NewTask) -> TaskRec:
    """Create a task: claim its outputs, then PENDING or straight to SUBMITTED (or PAUSED)."""
    t = TaskRec(
        id=spec.id, session_id=tx.sid, options=spec.options, payload_id=spec.payload_id,
        data_dependencies=list(spec.data_dependencies), expected_output_ids=list(spec.expected_output_ids),
        parent_task_ids=list(spec.parent_task_ids), retry_of_ids=list(spec.retry_of_ids),
        initial_task_id=spec.initial_task_id or spec.id, created_by=spec.created_by,
        status=TaskStatus.CREATING, created_at=tx.now,
    )
    tx.add_task(t)
    tx.emit("new_task", t, TaskStatus.CREATING)
    for rid in t.expected_output_ids:
        r = tx.wresult(rid)
        prev = r.owner_task_id
        if prev != t.id:
            r.owner_task_id = t.id
            tx.emit("result_owner", r, 0, prev, t.id)
    remaining = 0
    for rid in dict.fromkeys([t.payload_id, *t.data_dependencies]):
        dep = tx.result(rid)
        if dep is None or dep.status is not ResultStatus.COMPLETED:
            remaining += 1
            tx.new_waits.setdefault(rid, set()).add(t.id)
    tx.pending[t.id] = remaining
    set_status(tx, t, TaskStatus.PENDING)
    if not remaining:
        make_ready(tx, t)
    return t


def set_status(tx: Tx, t: TaskRec, status: TaskStatus) -> None:
    if t.status is not status:
        t.status = status
        tx.emit("task_status", t, status)


def make_ready(tx: Tx, t: TaskRec) -> None:
    """All inputs are there: queue the task, unless its session is paused."""
    if tx.get_meta().status is SessionStatus.PAUSED:
        set_status(tx, t, TaskStatus.PAUSED)
        return
    t.submitted_at = tx.now
    set_status(tx, t, TaskStatus.SUBMITTED)
    tx.enqueue(t)


def end_task(tx: Tx, t: TaskRec, status: TaskStatus, message: str = "", error: str = "") -> None:
    """Move `t` to a final failure state and abort the CREATED outputs it still owns."""
    t.status_message = message
    t.output_error = error or message
    t.output_success = False
    t.ended_at = tx.now
    set_status(tx, t, status)
    for rid in t.expected_output_ids:
        r = tx.result(rid)
        if r is not None and r.owner_task_id == t.id and r.status is ResultStatus.CREATED:
            abort_result(tx, rid, f"task {t.id} ended {status.name}")


def cancel_task(tx: Tx, tid: str) -> bool:
    """Cancel a non-final task (its job is dropped, a running Process is stopped by the caller)."""
    cur = tx.task(tid)
    if cur is None or cur.status in FINAL_TASK:
        return False
    t = tx.wtask(tid)
    if t.status in QUEUED_TASK:
        tx.commit.cancel_jobs.append(t.id)
    set_status(tx, t, TaskStatus.CANCELLING)
    end_task(tx, t, TaskStatus.CANCELLED, "task cancelled")
    return True


# ---------------------------------------------------------------------------------------------
# Outcomes of one attempt (the job `ref` is finished in the same commit)
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Buffer:
    """What a worker asked for during one Process, applied only if it answers `ok`."""

    results: list[tuple[str, str, bytes | None]] = field(default_factory=list)  # (id, name, data)
    notified: list[str] = field(default_factory=list)
    tasks: list[NewTask] = field(default_factory=list)

    def result_ids(self) -> set[str]:
        return {rid for rid, _, _ in self.results}


def task_ok(tx: Tx, tid: str, ref: JobRef, buf: Buffer, files: dict[str, bytes]) -> None:
    """The commit rule: buffered results, data, subtasks, resolution, then the parent COMPLETED."""
    parent = tx.wtask(tid)
    tx.finish_job(ref)
    for rid, name, _ in buf.results:
        create_result(tx, name, created_by=tid, rid=rid)
    for rid, _, data in buf.results:
        if data is not None:
            complete_result(tx, rid, data)
    for rid in dict.fromkeys(buf.notified):
        r = tx.result(rid)
        if r is not None and r.status is ResultStatus.CREATED:
            complete_result(tx, rid, files[rid])
    for spec in buf.tasks:
        spec.parent_task_ids = [tid]
        spec.created_by = tid
        create_task(tx, spec)
    parent.output_success = True
    parent.output_error = ""
    parent.processed_at = parent.ended_at = tx.now
    set_status(tx, parent, TaskStatus.COMPLETED)


def task_failed(tx: Tx, tid: str, ref: JobRef, status: TaskStatus, details: str) -> None:
    """`Output.error` (ERROR) or a deadline (TIMEOUT): no retry, outputs aborted."""
    tx.finish_job(ref)
    t = tx.wtask(tid)
    t.processed_at = tx.now
    end_task(tx, t, status, details, details)


def task_crashed(tx: Tx, tid: str, ref: JobRef, why: str) -> TaskRec | None:
    """An RPC failure: RETRIED with a new attempt `<initial>###n`, or ERROR when retries are spent."""
    tx.finish_job(ref)
    t = tx.wtask(tid)
    if len(t.retry_of_ids) >= t.options.max_retries:
        end_task(tx, t, TaskStatus.ERROR, why, why)
        return None
    t.status_message = why
    t.output_error = why
    t.ended_at = tx.now
    set_status(tx, t, TaskStatus.RETRIED)
    retry = NewTask(
        options=t.options.copy(), payload_id=t.payload_id, data_dependencies=t.data_dependencies,
        expected_output_ids=[rid for rid in t.expected_output_ids if (r := tx.result(rid)) and r.owner_task_id == t.id],
        id=f"{t.initial_task_id}###{len(t.retry_of_ids) + 1}", parent_task_ids=t.parent_task_ids,
        created_by=t.created_by, retry_of_ids=[*t.retry_of_ids, t.id], initial_task_id=t.initial_task_id,
    )
    new = create_task(tx, retry)
    # Outputs already delegated away keep their owner; the rest move to the retry (create_task).
    new.expected_output_ids = list(t.expected_output_ids)
    return new
