"""Planning a batch of commits for PostgreSQL: read the rows, apply in Python, write the net effect.

Instead of one round trip per row per commit, a batch reads every row its commits can depend on
(instances, leased jobs, buffered messages), either plainly with their xmin (optimistic: the write
re-checks them) or `SELECT ... FOR UPDATE` in a fixed order inside a transaction, then applies each
commit in turn to an in-memory copy of those rows with exactly the rules of
`MemoryStorage._apply` (guards and validation before any mutation, so a refused commit leaves the
copy untouched and does not sink the others), and finally writes the net effect of the whole batch
(`postgres_write`).

Rows the batch does not read (events, timers, subscriptions, data objects, jobs of purged
instances) are only ever written by key or deleted wholesale, so their net effect is computed
without reading them; inbox/history moves of events that existed before the batch are kept as seq
ranges per instance (`_PreEvents`).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import asyncpg

from gateway.errors import AlreadyExists, LeaseLost, NotFound
from gateway.model import (
    NEVER,
    Commit,
    DataObject,
    Instance,
    Job,
    JobOutcome,
    JobStatus,
    Message,
    NewEvent,
    Subscription,
    Timer,
)
from gateway.ports import CommitResult
from gateway.storage import postgres_schema as S

_READY = JobStatus.READY
_LEASED = JobStatus.LEASED
_ACTIONS = frozenset({"complete", "fail", "release", "cancel"})


def advisory_key(schema: str, name: str, correlation_key: str) -> int:
    """The transaction advisory lock that serialises correlation on one (name, correlation key).

    Publishers and commits opening subscriptions both take it, so a message and a subscription
    arriving at the same time always meet (one of them sees the other)."""
    digest = hashlib.blake2b(f"{schema}\x00{name}\x00{correlation_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _make_copier(cls: type) -> Any:
    """A shallow copy for one slotted dataclass (`copy.copy` goes through `__reduce_ex__`)."""
    names = [f.name for f in dataclasses.fields(cls)]
    src = "def _copy(o, _new=_new, _cls=_cls):\n    n = _new(_cls)\n"
    src += "".join(f"    n.{name} = o.{name}\n" for name in names) + "    return n\n"
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    exec(src, ns)
    return ns["_copy"]


_COPIERS: dict[type, Any] = {c: _make_copier(c) for c in (Instance, Job, Timer, Subscription, DataObject)}
_T = TypeVar("_T")


def _clone(obj: _T) -> _T:
    copier = _COPIERS.get(type(obj))
    return copier(obj) if copier is not None else copy.copy(obj)



class Conflict(Exception):
    """An optimistic batch cannot be applied as planned; replay it on the locking path."""


class _PreEvents:
    """What a batch does to the events an instance had before the batch (seq <= `top`)."""

    __slots__ = ("done", "ranges", "reset", "top")

    def __init__(self, top: int) -> None:
        self.top = top
        self.done = 0  # inbox events with seq <= done have been moved or dropped
        self.ranges: list[list[Any]] = []  # [lo, hi, to_history]
        self.reset = False

    def take(self, upto: int, to_history: bool) -> None:
        hi = min(upto, self.top)
        if hi > self.done:
            self.ranges.append([self.done, hi, to_history])
            self.done = hi

    def reset_history(self) -> None:
        self.reset = True
        for r in self.ranges:
            r[2] = False


class Batch:
    """One transaction's worth of commits; `load`, then `apply` each commit, then `write`."""

    def __init__(self, sql: Any, schema: str, strict: bool = False, optimistic: bool = False) -> None:
        self.sql = sql
        self.schema = schema
        # Optimistic: rows are read without locks (no transaction) and the single write statement
        # re-checks their versions (xmin), failing as a whole with `Conflict` if any changed.
        self.optimistic = optimistic
        self.xmin: dict[tuple[str, str], str] = {}
        # Strict mode also reads the ids a commit wants to create, so a duplicate is refused
        # before writing; the fast path lets the unique index catch that rare case instead.
        self.strict = strict
        self.inst: dict[str, Instance] = {}
        self.in_db: set[str] = set()
        self.pre: dict[str, _PreEvents] = {}
        self.events: dict[str, list[list[Any]]] = {}
        self.runnable: set[str] = set()
        self.dirty: dict[str, None] = {}
        self.purged: dict[str, None] = {}
        self.jobs: dict[str, Job | None] = {}
        self.jobs_db: set[str] = set()
        self.jobs_new: dict[str, None] = {}
        self.jobs_dirty: set[str] = set()
        self.timers: dict[tuple[str, str], Timer | None] = {}
        self.subs: dict[tuple[str, str], Subscription | None] = {}
        self.msgs: dict[tuple[str, str], list[Message]] = {}
        self.msgs_dirty: dict[str, Message] = {}
        self.data: dict[str, DataObject | None] = {}
        self.data_deleted: set[str] = set()
        self.topics: set[str] = set()

    # ------------------------------------------------------------------ load and lock

    async def load(self, conn: asyncpg.Connection, commits: Sequence[tuple[Commit, float]]) -> None:
        iids: set[str] = set()
        job_ids: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        min_now = min(now for _, now in commits)
        for c, _ in commits:
            if c.step is not None:
                iids.add(c.step[0])
            iids.update(ni.instance.id for ni in c.create_instances)
            iids.update(c.delete_instances)
            iids.update(u.instance_id for u in c.updates)
            iids.update(e.instance_id for e in itertools.chain(c.history, c.inbox))
            iids.update(j.instance_id for j in c.new_jobs)
            iids.update(t.instance_id for t in c.timers)
            iids.update(k[0] for k in c.cancel_timers)
            iids.update(s.instance_id for s in c.subscriptions)
            iids.update(k[0] for k in c.close_subscriptions)
            job_ids.update(o.ref.job_id for o in c.jobs)
            job_ids.update(c.cancel_jobs)
            if self.strict:
                job_ids.update(j.id for j in c.new_jobs)
            pairs.update((s.name, s.correlation_key) for s in c.subscriptions)
        sql = self.sql
        # Lock order everywhere: advisory locks, instances (by id), jobs (by id), messages.
        if pairs and self.optimistic:
            raise Conflict("correlation needs the locking path")
        if pairs:
            keys = sorted({advisory_key(self.schema, n, k) for n, k in pairs})
            await conn.execute(sql.advisory_locks, keys)
        if iids or job_ids:
            stmt = sql.read_instances_and_jobs if self.optimistic else sql.lock_instances_and_jobs
            for r in await conn.fetch(stmt, list(iids), list(job_ids)):
                ri, rj = r[0], r[1]
                if ri is not None:
                    inst = S.instance_from(ri)
                    self.inst[inst.id] = inst
                    self.in_db.add(inst.id)
                    self.pre[inst.id] = _PreEvents(inst.last_seq)
                    if inst.inbox_seq > inst.seen_seq:
                        self.runnable.add(inst.id)
                    self.xmin[("i", inst.id)] = r[2]
                elif rj is not None:
                    job = S.job_from(rj)
                    self.jobs[job.id] = job
                    self.jobs_db.add(job.id)
                    self.xmin[("j", job.id)] = r[2]
        if pairs:
            names, ckeys = zip(*sorted(pairs), strict=True)
            for r in await conn.fetch(sql.lock_messages, list(names), list(ckeys), min_now):
                msg = S.message_from(r)
                self.msgs.setdefault((msg.name, msg.correlation_key), []).append(msg)

    # ------------------------------------------------------------------ apply one commit

    def apply(self, c: Commit, now: float) -> CommitResult:
        """Apply one commit to the loaded rows, exactly as `MemoryStorage._apply` does."""
        instances = self.inst
        if c.step is not None:
            inst = instances.get(c.step[0])
            if inst is None or inst.revision != c.step[1]:
                raise LeaseLost(f"step lease on instance {c.step[0]!r} lost")
        jobs = self.jobs
        for outcome in c.jobs:
            job = jobs.get(outcome.ref.job_id)
            if job is None or job.status is not _LEASED or job.attempt != outcome.ref.attempt:
                raise LeaseLost(f"lease on job {outcome.ref.job_id!r} (attempt {outcome.ref.attempt}) lost")
            if outcome.action not in _ACTIONS:
                raise ValueError(f"unknown job outcome action {outcome.action!r}")
        deleting = set(c.delete_instances)
        creating: set[str] = set()
        for ni in c.create_instances:
            iid = ni.instance.id
            old = instances.get(iid)
            if iid in creating or (old is not None and iid not in deleting and old.status not in ni.replace):
                raise AlreadyExists(f"instance {iid!r} already exists")
            creating.add(iid)
        if c.updates or c.history or c.inbox or c.new_jobs or c.timers or c.subscriptions:
            for iid in itertools.chain(
                (u.instance_id for u in c.updates),
                (e.instance_id for e in c.history),
                (e.instance_id for e in c.inbox),
                (j.instance_id for j in c.new_jobs),
                (t.instance_id for t in c.timers),
                (s.instance_id for s in c.subscriptions),
            ):
                if iid not in creating and (iid not in instances or iid in deleting):
                    raise NotFound(f"instance {iid!r} not found")
        for job in c.new_jobs:
            if jobs.get(job.id) is not None:
                raise AlreadyExists(f"job {job.id!r} already exists")

        res = CommitResult()
        touched: set[str] = set()
        for iid in c.delete_instances:
            if iid in instances:
                self._purge(iid)
                res.changed_instances.add(iid)
        for ni in c.create_instances:
            inst = _clone(ni.instance)
            if inst.id in instances:
                self._purge(inst.id)
            inst.tags = dict(inst.tags)
            inst.created_at = inst.created_at or now
            inst.updated_at = now
            inst.completed_at = now if inst.status.terminal else NEVER
            inst.last_seq = inst.inbox_seq = inst.seen_seq = 0
            inst.step_owner, inst.step_expires, inst.revision = "", NEVER, 0
            instances[inst.id] = inst
            self.events[inst.id] = []
            self.dirty[inst.id] = None
            touched.add(inst.id)
            for ev in ni.events:
                self._post(ev, now, res)
        for outcome in c.jobs:
            self._finish_job(outcome, now, res)
        for u in c.updates:
            inst = instances[u.instance_id]
            iid = inst.id
            touched.add(iid)
            pending = self.events.setdefault(iid, [])
            pre = self.pre.get(iid)
            if u.consume_upto is not None:
                if pre is not None:
                    pre.take(u.consume_upto, True)
                for e in pending:
                    if e[1] <= u.consume_upto:
                        e[6] = True
            if u.drop_upto is not None:
                if pre is not None:
                    pre.take(u.drop_upto, False)
                pending[:] = [e for e in pending if e[6] or e[1] > u.drop_upto]
            if u.reset_history:
                if pre is not None:
                    pre.reset_history()
                pending[:] = [e for e in pending if not e[6]]
            if u.seen_upto is not None:
                inst.seen_seq = min(u.seen_upto, inst.inbox_seq)
            if u.status is not None and u.status is not inst.status:
                inst.status = u.status
                inst.completed_at = now if u.status.terminal else NEVER
            if u.clear_output:
                inst.output = None
                inst.failure = None
            if u.output is not None:
                inst.output = u.output
            if u.failure is not None:
                inst.failure = u.failure
            if u.custom_status is not None:
                inst.custom_status = u.custom_status
            if u.execution_id is not None:
                inst.execution_id = u.execution_id
            if u.input is not None:
                inst.input = u.input
            if u.tags is not None:
                inst.tags = dict(u.tags)
            if u.state is not None:
                inst.state = u.state
            res.changed_instances.add(iid)
        for ev in c.history:
            inst = instances[ev.instance_id]
            inst.last_seq += 1
            self.events.setdefault(inst.id, []).append(
                [inst.id, inst.last_seq, ev.kind, ev.data, ev.ref, now, True]
            )
            touched.add(inst.id)
        for ev in c.inbox:
            self._post(ev, now, res)
        for job in c.new_jobs:
            self._add_job(job, now, res)
        for job_id in c.cancel_jobs:
            cj = jobs.get(job_id)
            if cj is not None:
                self._drop_job(cj)
                cj = _clone(cj)
                cj.status = JobStatus.CANCELED
                res.finished_jobs.append((cj, "canceled"))
        for t in c.timers:
            t = _clone(t)
            self.timers.pop((t.instance_id, t.key), None)
            self.timers[(t.instance_id, t.key)] = t
            if res.earliest_due is None or t.due_at < res.earliest_due:
                res.earliest_due = t.due_at
        for key in c.cancel_timers:
            self.timers[key] = None
        for key in c.close_subscriptions:
            self.subs[key] = None
        for sub in c.subscriptions:
            self._open_sub(sub, now, res)
        for obj in c.data:
            prev = self.data.get(obj.id)
            obj = _clone(obj)
            obj.meta = dict(obj.meta)
            obj.created_at = prev.created_at if prev is not None else (obj.created_at or now)
            obj.updated_at = now
            self.data[obj.id] = obj
        for obj_id in c.delete_data:
            self.data[obj_id] = None
            self.data_deleted.add(obj_id)

        if c.step is not None and c.step[0] in instances:
            touched.add(c.step[0])
        for iid in touched:
            inst = instances.get(iid)
            if inst is None:
                continue
            # The revision moves on, so any step in flight can no longer commit: free its lease.
            if inst.step_expires:
                inst.step_owner, inst.step_expires = "", NEVER
            inst.revision += 1
            inst.updated_at = now
            self.dirty[iid] = None
            if inst.inbox_seq > inst.seen_seq:
                if iid not in self.runnable:
                    self.runnable.add(iid)
                    res.runnable = True
            else:
                self.runnable.discard(iid)
        self._topics(res)
        return res

    def _topics(self, res: CommitResult) -> None:
        topics = self.topics
        topics.update(f"q:{q}" for q in res.ready_queues)
        if res.runnable:
            topics.add("steps")
        topics.update(f"i:{i}" for i in res.changed_instances)
        if res.earliest_due is not None:
            topics.add("timers")

    def _post(self, ev: NewEvent, now: float, res: CommitResult) -> None:
        # An inbox post does not bump the revision: it never changes what a step in flight read.
        inst = self.inst[ev.instance_id]
        inst.last_seq += 1
        inst.inbox_seq = inst.last_seq
        self.events.setdefault(inst.id, []).append([inst.id, inst.last_seq, ev.kind, ev.data, ev.ref, now, False])
        self.dirty[inst.id] = None
        if inst.id not in self.runnable:
            self.runnable.add(inst.id)
            res.runnable = True
        res.changed_instances.add(inst.id)

    def _purge(self, iid: str) -> None:
        del self.inst[iid]
        self.dirty.pop(iid, None)
        if iid in self.in_db:
            self.purged[iid] = None
        self.pre.pop(iid, None)
        self.events.pop(iid, None)
        self.runnable.discard(iid)
        for job in list(self.jobs.values()):
            if job is not None and job.instance_id == iid:
                self._drop_job(job)
        for tkey in [k for k in self.timers if k[0] == iid]:
            self.timers[tkey] = None
        for skey in [k for k in self.subs if k[0] == iid]:
            self.subs[skey] = None
        for obj_id, obj in list(self.data.items()):
            if obj is not None and obj.owner_id == iid:
                self.data[obj_id] = None

    # ------------------------------------------------------------------ jobs

    def _add_job(self, job: Job, now: float, res: CommitResult) -> None:
        job = _clone(job)
        job.status = _READY
        job.attempt = 0
        job.lease_owner, job.lease_expires = "", NEVER
        job.created_at = job.created_at or now
        job.headers = dict(job.headers)
        self.jobs[job.id] = job
        self.jobs_new.pop(job.id, None)
        self.jobs_new[job.id] = None
        res.created_jobs.append(job)
        self._make_ready(job, now, res)

    def _make_ready(self, job: Job, now: float, res: CommitResult) -> None:
        job.status = _READY
        job.lease_owner, job.lease_expires = "", NEVER
        self.jobs_dirty.add(job.id)
        if job.not_before > now:
            if res.earliest_due is None or job.not_before < res.earliest_due:
                res.earliest_due = job.not_before
        else:
            res.ready_queues.add(job.queue)

    def _drop_job(self, job: Job) -> None:
        self.jobs[job.id] = None
        self.jobs_new.pop(job.id, None)

    def _finish_job(self, o: JobOutcome, now: float, res: CommitResult) -> None:
        job = self.jobs[o.ref.job_id]
        assert job is not None
        if o.action == "complete":
            self._drop_job(job)
            done = _clone(job)
            done.status = JobStatus.DONE
            res.finished_jobs.append((done, "completed"))
            if o.post_event and job.instance_id in self.inst:
                self._post(NewEvent(job.instance_id, job.on_complete, o.result, job.id), now, res)
        elif o.action == "cancel":
            self._drop_job(job)
            gone = _clone(job)
            gone.status = JobStatus.CANCELED
            res.finished_jobs.append((gone, "canceled"))
        elif o.action == "release":
            job.not_before = now + o.backoff if o.backoff > 0 else job.not_before
            self._make_ready(job, now, res)
            res.finished_jobs.append((_clone(job), "released"))
        else:  # "fail" (actions were validated with the guards)
            retries = o.retries if o.retries is not None else (None if job.retries is None else job.retries - 1)
            job.retries = retries
            job.last_error = o.error
            self.jobs_dirty.add(job.id)
            if retries is None or retries > 0:
                if o.backoff > 0:
                    job.not_before = now + o.backoff
                self._make_ready(job, now, res)
                res.finished_jobs.append((_clone(job), "retried"))
            else:
                job.status = JobStatus.FAILED
                job.lease_owner, job.lease_expires = "", NEVER
                res.finished_jobs.append((_clone(job), "failed"))
                if o.post_event and job.instance_id in self.inst:
                    self._post(NewEvent(job.instance_id, job.on_fail, o.error.encode(), job.id), now, res)

    # ------------------------------------------------------------------ subscriptions

    def _open_sub(self, sub: Subscription, now: float, res: CommitResult) -> None:
        sub = _clone(sub)
        sub.created_at = sub.created_at or now
        key = (sub.instance_id, sub.key)
        # A buffered message correlates at once, oldest first, once per group.
        for msg in self.msgs.get((sub.name, sub.correlation_key), ()):
            if msg.expires_at > now and sub.group not in msg.correlated_groups:
                msg.correlated_groups = msg.correlated_groups | {sub.group}
                self.msgs_dirty[msg.id] = msg
                self._post(NewEvent(sub.instance_id, sub.kind, msg.payload.data, sub.key), now, res)
                self.subs[key] = None
                return
        # Re-opening a key moves it to the back of the correlation order, as in memory.
        self.subs.pop(key, None)
        self.subs[key] = sub

    # ------------------------------------------------------------------ write the net effect

    async def write(self, conn: asyncpg.Connection, channel: str) -> None:
        """Write the batch's net effect and its NOTIFY (see `postgres_write.write_batch`)."""
        from gateway.storage.postgres_write import write_batch

        await write_batch(self, conn, channel)


def commit_keys(c: Commit) -> set[str]:
    """Every instance and job id a commit reads or writes (for keeping concurrent batches apart)."""
    keys: set[str] = set()
    if c.step is not None:
        keys.add("i" + c.step[0])
    if c.jobs:
        keys.update(["j" + o.ref.job_id for o in c.jobs])
    if c.new_jobs:
        keys.update(["j" + j.id for j in c.new_jobs])
        keys.update(["i" + j.instance_id for j in c.new_jobs])
    if c.updates:
        keys.update(["i" + u.instance_id for u in c.updates])
    if c.inbox:
        keys.update(["i" + e.instance_id for e in c.inbox])
    if c.cancel_jobs or c.create_instances or c.delete_instances or c.history or c.timers or c.cancel_timers:
        keys.update(["j" + j for j in c.cancel_jobs])
        keys.update(["i" + n.instance.id for n in c.create_instances])
        keys.update(["i" + i for i in c.delete_instances])
        keys.update(["i" + e.instance_id for e in c.history])
        keys.update(["i" + t.instance_id for t in c.timers])
        keys.update(["i" + k[0] for k in c.cancel_timers])
    if c.subscriptions or c.close_subscriptions or c.data or c.delete_data:
        keys.update(["i" + x.instance_id for x in c.subscriptions])
        keys.update(["i" + k[0] for k in c.close_subscriptions])
        keys.update(["d" + d.id for d in c.data])
        keys.update(["d" + d for d in c.delete_data])
    return keys


def notify_payloads(topics: Iterable[str], limit: int = 7900, max_payloads: int = 4) -> list[str]:
    """Coalesce topics into NOTIFY payloads (newline-separated) under PostgreSQL's 8000-byte limit;
    more than `max_payloads` payloads' worth becomes the wildcard "*" (wake everything)."""
    out: list[str] = []
    cur: list[str] = []
    size = 0
    for t in sorted(topics):
        n = len(t.encode()) + 1
        if n > limit:
            return ["*"]
        if size + n > limit:
            out.append("\n".join(cur))
            cur, size = [], 0
            if len(out) >= max_payloads:
                return ["*"]
        cur.append(t)
        size += n
    if cur:
        out.append("\n".join(cur))
    return out
