"""The adapter's state: sessions kept in memory, every change committed to the core first.

A change to a session runs as a `Tx` under the session's lock: the change is computed on
copy-on-write records, turned into ONE core `Commit` (a journal event on the session instance with
the full records it touched, result data as `DataObject`s, jobs created/cancelled/finished), and
only once that commit succeeded is it applied to memory and published to event subscribers. A
commit that fails (a lost job lease, storage down) leaves memory untouched, so nothing of a failed
change leaks. At start, `load()` replays the journals and requeues the jobs a dead process held.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from gateway.errors import LeaseLost, NotFound
from gateway.model import (
    Commit,
    DataObject,
    Instance,
    InstanceQuery,
    InstanceStatus,
    InstanceUpdate,
    Job,
    JobOutcome,
    JobRef,
    JobStatus,
    NewEvent,
    NewInstance,
    Payload,
)
from gateway.ports import Scheduler

from .records import (
    ResultRec,
    ResultStatus,
    Session,
    SessionMeta,
    SessionStatus,
    TaskRec,
    TaskStatus,
    meta_from_dict,
    meta_to_dict,
    result_from_dict,
    result_to_dict,
    task_from_dict,
    task_to_dict,
)

log = logging.getLogger("gateway.armonik")

ENGINE = "armonik"
JOURNAL = "armonik.journal"
#: A job's lease covers the task's max_duration plus this much for the health check and staging.
LEASE_MARGIN = 60.0

_INSTANCE_STATUS = {
    SessionStatus.RUNNING: InstanceStatus.RUNNING,
    SessionStatus.PAUSED: InstanceStatus.SUSPENDED,
    SessionStatus.CANCELLED: InstanceStatus.CANCELED,
    SessionStatus.CLOSED: InstanceStatus.COMPLETED,
    SessionStatus.PURGED: InstanceStatus.COMPLETED,
}

T = TypeVar("T")
_WAITING_TASK = (TaskStatus.CREATING, TaskStatus.PENDING)

#: An event for subscribers: (kind, record, status at the time, previous owner, current owner).
Ev = tuple[str, Any, int, str, str]


def queue_name(partition: str) -> str:
    return f"armonik/{partition}"


class Tx:
    """One change to one session, on copy-on-write records (see the module docstring)."""

    def __init__(self, store: Store, session: Session, now: float) -> None:
        self.store = store
        self.session = session
        self.now = now
        self.meta: SessionMeta | None = None
        self.tasks: dict[str, TaskRec] = {}
        self.results: dict[str, ResultRec] = {}
        self.events: list[Ev] = []
        self.commit = Commit()
        #: Results that reached COMPLETED or ABORTED: their waiting lists are spent.
        self.resolved: set[str] = set()
        self.new_waits: dict[str, set[str]] = {}
        self.pending: dict[str, int] = {}
        self.deleted = False

    # --- reads see this change's own writes first
    @property
    def sid(self) -> str:
        return self.session.meta.id

    def get_meta(self) -> SessionMeta:
        return self.meta if self.meta is not None else self.session.meta

    def task(self, tid: str) -> TaskRec | None:
        t = self.tasks.get(tid)
        return t if t is not None else self.session.tasks.get(tid)

    def result(self, rid: str) -> ResultRec | None:
        r = self.results.get(rid)
        return r if r is not None else self.session.results.get(rid)

    def pending_inputs(self, tid: str) -> int:
        n = self.pending.get(tid)
        return n if n is not None else self.session.pending.get(tid, 0)

    def waiters(self, rid: str) -> set[str]:
        return self.session.waiting.get(rid, set()) | self.new_waits.get(rid, set())

    # --- writes
    def wmeta(self) -> SessionMeta:
        if self.meta is None:
            m = self.session.meta
            self.meta = SessionMeta(**{k: getattr(m, k) for k in m.__dataclass_fields__})
            self.meta.partition_ids = list(m.partition_ids)
            self.meta.options = m.options.copy()
        return self.meta

    def wtask(self, tid: str) -> TaskRec:
        t = self.tasks.get(tid)
        if t is None:
            t = self.session.tasks[tid].copy()
            self.tasks[tid] = t
        return t

    def wresult(self, rid: str) -> ResultRec:
        r = self.results.get(rid)
        if r is None:
            r = self.session.results[rid].copy()
            self.results[rid] = r
        return r

    def add_task(self, t: TaskRec) -> None:
        self.tasks[t.id] = t

    def add_result(self, r: ResultRec) -> None:
        self.results[r.id] = r

    def emit(self, kind: str, rec: Any, status: int = 0, prev: str = "", cur: str = "") -> None:
        self.events.append((kind, rec, status, prev, cur))

    def put_data(self, rid: str, data: bytes) -> None:
        self.commit.data.append(
            DataObject(rid, self.sid, "COMPLETED", Payload(data, "application/octet-stream"))
        )

    def enqueue(self, t: TaskRec) -> None:
        """Give a SUBMITTED task its job in the partition's queue (core job priority = task's)."""
        self.commit.new_jobs.append(
            Job(
                id=t.id,
                instance_id=self.sid,
                queue=queue_name(t.options.partition_id),
                kind="armonik.task",
                priority=t.options.priority,
                timeout=t.options.max_duration + LEASE_MARGIN,
                origin=ENGINE,
            )
        )

    def finish_job(self, ref: JobRef, action: str = "complete") -> None:
        # No inbox event: the adapter is the only one interested and it commits the outcome here.
        self.commit.jobs.append(JobOutcome(ref, action, post_event=False))


class Store:
    """Every session of this gateway, with global indexes by task and result id."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.sessions: dict[str, Session] = {}
        self.task_index: dict[str, str] = {}
        self.result_index: dict[str, str] = {}
        #: Task id -> how to stop its running Process (set by the dispatcher).
        self.running: dict[str, Callable[[], None]] = {}
        #: Called after each applied change (events hub).
        self.listeners: list[Callable[[Session, list[Ev]], None]] = []

    # ------------------------------------------------------------------ lookups
    def session(self, sid: str) -> Session:
        s = self.sessions.get(sid)
        if s is None:
            raise NotFound(f"session {sid!r} not found")
        return s

    def session_of_task(self, tid: str) -> Session:
        sid = self.task_index.get(tid)
        if sid is None or sid not in self.sessions:
            raise NotFound(f"task {tid!r} not found")
        return self.sessions[sid]

    def session_of_result(self, rid: str) -> Session:
        sid = self.result_index.get(rid)
        if sid is None or sid not in self.sessions:
            raise NotFound(f"result {rid!r} not found")
        return self.sessions[sid]

    # ------------------------------------------------------------------ changes
    async def create_session(self, meta: SessionMeta) -> None:
        inst = Instance(
            id=meta.id, engine=ENGINE, definition="armonik.session", status=InstanceStatus.RUNNING,
            created_at=meta.created_at,
        )
        record = {"s": meta_to_dict(meta)}
        await self.scheduler.commit(
            Commit(
                create_instances=[NewInstance(inst)],
                history=[NewEvent(meta.id, JOURNAL, _dumps(record))],
            )
        )
        self.sessions[meta.id] = Session(meta)

    async def change(self, session: Session, fn: Callable[[Tx], T]) -> T:
        """Run `fn` on a new Tx under the session lock, commit it, apply it; return fn's value.

        `fn` raises a GatewayError to refuse the change: then nothing is committed or applied.
        """
        async with session.lock:
            if self.sessions.get(session.meta.id) is not session:
                raise NotFound(f"session {session.meta.id!r} not found")
            tx = Tx(self, session, self.scheduler.clock.now())
            out = fn(tx)
            await self._commit(tx)
            return out

    async def _commit(self, tx: Tx) -> None:
        c = tx.commit
        sid = tx.sid
        if tx.deleted:
            c.delete_instances.append(sid)
        else:
            record: dict[str, Any] = {}
            if tx.meta is not None:
                record["s"] = meta_to_dict(tx.meta)
                status = _INSTANCE_STATUS.get(tx.meta.status)
                if status is not None and tx.meta.status is not tx.session.meta.status:
                    c.updates.append(InstanceUpdate(sid, status=status))
            if tx.tasks:
                record["t"] = [task_to_dict(t) for t in tx.tasks.values()]
            if tx.results:
                record["r"] = [result_to_dict(r) for r in tx.results.values()]
            if record:
                c.history.append(NewEvent(sid, JOURNAL, _dumps(record)))
        if not c.empty():
            await self.scheduler.commit(c)
        self._apply(tx)

    def _apply(self, tx: Tx) -> None:
        s = tx.session
        if tx.deleted:
            self.sessions.pop(s.meta.id, None)
            for tid in s.tasks:
                self.task_index.pop(tid, None)
            for rid in s.results:
                self.result_index.pop(rid, None)
            self._publish(s, tx.events)
            return
        if tx.meta is not None:
            s.meta = tx.meta
        for tid, t in tx.tasks.items():
            s.tasks[tid] = t
            self.task_index[tid] = s.meta.id
        for rid, r in tx.results.items():
            s.results[rid] = r
            self.result_index[rid] = s.meta.id
        for rid, tids in tx.new_waits.items():
            s.waiting.setdefault(rid, set()).update(tids)
        for rid in tx.resolved:
            s.waiting.pop(rid, None)
        for tid, n in tx.pending.items():
            if n > 0:
                s.pending[tid] = n
            else:
                s.pending.pop(tid, None)
        for tid, t in tx.tasks.items():
            if t.status not in _WAITING_TASK:
                s.pending.pop(tid, None)
        self._publish(s, tx.events)

    def _publish(self, s: Session, events: list[Ev]) -> None:
        if events:
            for listener in self.listeners:
                listener(s, events)

    def publish_now(self, s: Session, events: list[Ev]) -> None:
        """Events of in-memory-only transitions (DISPATCHED, PROCESSING)."""
        self._publish(s, events)

    # ------------------------------------------------------------------ recovery
    async def load(self) -> None:
        """Replay every session's journal, then requeue what a dead process left leased."""
        after: str | None = None
        while True:
            page = await self.scheduler.query_instances(InstanceQuery(engine=ENGINE, after_id=after, limit=500))
            for inst in page.items:
                await self._load_session(inst.id)
            if page.next_after is None:
                break
            after = page.next_after
        n = 0
        for s in self.sessions.values():
            for t in list(s.tasks.values()):
                if t.status is TaskStatus.SUBMITTED:
                    n += await self._requeue(s, t)
        if self.sessions:
            log.info("armonik: loaded %d session(s); %d leased task(s) requeued", len(self.sessions), n)

    async def _load_session(self, sid: str) -> None:
        session: Session | None = None
        for ev in await self.scheduler.history(sid):
            if ev.kind != JOURNAL:
                continue
            record = json.loads(ev.data)
            if "s" in record:
                meta = meta_from_dict(record["s"])
                if session is None:
                    session = Session(meta)
                else:
                    session.meta = meta
            if session is None:
                continue
            for d in record.get("t", ()):
                t = task_from_dict(d)
                session.tasks[t.id] = t
            for d in record.get("r", ()):
                r = result_from_dict(d)
                session.results[r.id] = r
        if session is None:
            return
        self.sessions[sid] = session
        for rid in session.results:
            self.result_index[rid] = sid
        for t in session.tasks.values():
            self.task_index[t.id] = sid
            if t.status in _WAITING_TASK:
                remaining = [
                    rid for rid in dict.fromkeys([t.payload_id, *t.data_dependencies])
                    if (res := session.results.get(rid)) is None or res.status is not ResultStatus.COMPLETED
                ]
                if remaining:
                    session.pending[t.id] = len(remaining)
                for rid in remaining:
                    session.waiting.setdefault(rid, set()).add(t.id)

    async def _requeue(self, s: Session, t: TaskRec) -> int:
        job = await self.scheduler.get_job(t.id)
        if job is None:
            # Cannot happen through this adapter (the job is created in the same commit); heal it.
            await self.change(s, lambda tx: tx.enqueue(tx.wtask(t.id)))
            return 0
        if job.status is JobStatus.LEASED:
            try:
                await self.scheduler.release(job.ref)
            except LeaseLost:
                return 0
            return 1
        return 0


def _dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def iter_sessions(store: Store, ids: Iterable[str] | None) -> Iterable[Session]:
    """The sessions named (skipping unknown ones), or all of them."""
    if ids is None:
        return list(store.sessions.values())
    return [store.sessions[i] for i in ids if i in store.sessions]
