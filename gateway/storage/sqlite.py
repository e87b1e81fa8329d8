"""SQLite storage: the memory engine, persisted write-behind with group commit. The embedded default.

The whole state lives in memory (`MemoryStorage` does every read, claim and validation, so the
semantics are the reference ones by construction). Every mutation marks the row it touched
(`_mark`); every write method ends with `_flush`, which waits until everything marked so far is in
the database. One writer turns whatever is marked when it runs - all dirty rows of all the commits
that arrived since the last transaction - into ONE SQLite transaction, writing each dirty row's
current value once (or deleting it if it is gone), then wakes every waiter of that batch.

Prefix consistency: batches commit strictly one after the other, and a caller is acknowledged only
once the batch holding its rows committed, so an acknowledged write is durable together with
everything it could have depended on. A failed batch (disk full, I/O error) fails all its waiters
with `Unavailable`; its rows stay dirty and are written again by the next batch, so the file
catches up with memory as soon as the disk does (a failed caller's outcome is unknown, as with a
lost database connection).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import sqlite3
import time
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from gateway.errors import ConfigError, Unavailable
from gateway.model import Event, Instance, Job, JobStatus, NewEvent
from gateway.ports import CommitResult, Metrics, TickResult
from gateway.storage import sqlite_schema as sch
from gateway.storage.memory import MemoryStorage

_SYNC_MODES = ("off", "normal", "full", "extra")
_TABLES = "ieEjtsmd"

Ops = list[tuple[str, list[tuple[Any, ...]]]]


def _seq(ev: Event) -> int:
    return ev.seq


class SqliteStorage(MemoryStorage):
    """`Storage` in one SQLite file (WAL): memory-speed reads, group-committed writes.

    `synchronous` is SQLite's: "normal" (the default; WAL commits do not fsync, a power loss may
    drop the last transactions but never corrupts) or "full"/"extra" (fsync per transaction).
    """

    name = "sqlite"

    def __init__(self, path: str, *, synchronous: str = "normal", metrics: Metrics | None = None) -> None:
        super().__init__(metrics)
        sync = synchronous.lower()
        if sync not in _SYNC_MODES:
            raise ConfigError(f"storage.sqlite synchronous: {synchronous!r} is not one of {', '.join(_SYNC_MODES)}")
        self.path = path
        self.synchronous = sync
        # Why two writer strategies (measured on a 2-core VM, see the lead's bench/core.py):
        # - synchronous=off/normal: a WAL commit does not fsync, so a batch of ~64 commits costs a
        #   few hundred microseconds of CPU. Running it right on the event loop thread (scheduled with
        #   call_soon, so every commit of the current loop iteration joins it) is the fastest: no
        #   thread hop, no GIL ping-pong between the loop and a writer thread that needs the GIL back
        #   after every sqlite3_step, and the loop would be idle anyway since the batch's callers all
        #   wait for it.
        # - synchronous=full/extra: every commit fsyncs (milliseconds); that must not block the loop,
        #   so batches go to ONE dedicated thread, one hop per batch. Commits arriving while a batch
        #   is in flight form the next batch, so batches grow with the fsync latency.
        self._threaded = sync in ("full", "extra")
        self._db: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]  # set by open()
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._dirty: dict[str, dict[Any, None]] = {t: {} for t in _TABLES}
        self._waiters: list[asyncio.Future[None]] = []
        #: A batch is scheduled (call_soon pending) or being written (threaded mode).
        self._busy = False
        self._closed = False
        #: Transactions written so far (for tests and diagnostics).
        self.transactions = 0

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        # Loading can take a while on a big file: do it off the loop (nothing else can use this
        # storage before open returns, so the thread owns the memory structures meanwhile).
        await asyncio.to_thread(self._open_sync)
        if self._threaded:
            self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gateway-sqlite")

    def _open_sync(self) -> None:
        path = self.path
        db: sqlite3.Connection | None = None
        try:
            if path != ":memory:" and not path.startswith("file:"):
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal" and path != ":memory:":
                raise sqlite3.OperationalError(f"cannot switch to WAL journal mode (got {mode!r})")
            db.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            db.executescript(sch.SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(sch.SCHEMA_VERSION),))
            elif int(row[0]) != sch.SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"schema version {row[0]} is not supported (this gateway knows {sch.SCHEMA_VERSION})"
                )
            instances: list[Instance] = []
            consumed: dict[str, int] = {}
            for inst, consumed_seq in map(sch.decode_instance, db.execute("SELECT * FROM instances")):
                instances.append(inst)
                consumed[inst.id] = consumed_seq

            def event(r: Any) -> Event:
                # An inbox event at or below its instance's consumed_seq was consumed (see `_consume`).
                ev = sch.decode_event(r)
                if not ev.in_history and ev.seq <= consumed.get(ev.instance_id, 0):
                    ev = dataclasses.replace(ev, in_history=True)
                return ev

            events = list(map(event, db.execute("SELECT * FROM events ORDER BY instance_id, seq")))
            by_id = {inst.id: inst for inst in instances}
            for ev in events:
                # Inbox posts do not rewrite the instance row (see `_post`): take the counters from
                # the events.
                owner = by_id.get(ev.instance_id)
                if owner is not None:
                    owner.last_seq = max(owner.last_seq, ev.seq)
                    if not ev.in_history:
                        owner.inbox_seq = max(owner.inbox_seq, ev.seq)
            self._restore(
                instances,
                events,
                map(_fence_lost_lease, map(sch.decode_job, db.execute("SELECT * FROM jobs"))),
                map(sch.decode_timer, db.execute("SELECT * FROM timers")),
                map(sch.decode_sub, db.execute("SELECT * FROM subscriptions ORDER BY rowid")),
                map(sch.decode_message, db.execute("SELECT * FROM messages ORDER BY rowid")),
                map(sch.decode_data, db.execute("SELECT * FROM data_objects")),
            )
        except (sqlite3.Error, OSError, ValueError) as exc:
            if db is not None:
                db.close()
            raise Unavailable(f"cannot open sqlite database {path!r}: {exc}") from exc
        self._db = db

    async def close(self) -> None:
        if self._closed:
            return
        if self._db is not None:
            try:
                # Also waits out a batch in flight (a busy writer always takes one more waiter).
                await self._flush()
            except Unavailable:
                pass  # the failed callers were told; nothing more can be done at close
        self._closed = True
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._db is not None:
            self._db.close()
            self._db = None

    # ------------------------------------------------------------------ group commit

    def _mark(self, table: str, key: Any) -> None:
        # A dict as an ordered set: coalesces repeated marks and keeps the order rows were touched.
        self._dirty[table][key] = None

    def _flush_soon(self) -> None:
        if not self._busy and not self._closed and self._db is not None and any(self._dirty.values()):
            self._busy = True
            self._loop.call_soon(self._start_batch)

    def _post(self, ev: NewEvent, now: float, res: CommitResult | TickResult) -> None:
        # An inbox post changes only the instance's last_seq/inbox_seq, which `open` derives from
        # the events themselves; not re-marking the instance saves its (wide) row write per event.
        marks = self._dirty["i"]
        had = ev.instance_id in marks
        super()._post(ev, now, res)
        if not had:
            marks.pop(ev.instance_id, None)

    async def _flush(self) -> None:
        if not self._busy:
            if not self._waiters and not any(self._dirty.values()):
                return  # nothing marked, nothing in flight: everything is already durable
            if self._closed or self._db is None:
                raise Unavailable(f"sqlite database {self.path!r} is closed")
            self._busy = True
            self._loop.call_soon(self._start_batch)
        # One future per caller (not one shared per batch) so that a cancelled caller cannot cancel
        # the batch's result for the others.
        fut = self._loop.create_future()
        self._waiters.append(fut)
        await fut

    def _start_batch(self) -> None:
        waiters, self._waiters = self._waiters, []
        dirty, self._dirty = self._dirty, {t: {} for t in _TABLES}
        started = time.perf_counter()
        try:
            ops = self._collect(dirty)
        except Exception as exc:  # a row that cannot be encoded: a bug, but never hang the callers
            self._batch_done(waiters, dirty, started, exc)
            return
        if not self._threaded:
            err: BaseException | None = None
            try:
                self._execute(ops)
            except Exception as exc:
                err = exc
            self._batch_done(waiters, dirty, started, err)
            return
        assert self._thread is not None and self._loop is not None
        loop = self._loop
        cf = self._thread.submit(self._execute, ops)

        def done(f: concurrent.futures.Future[None]) -> None:
            loop.call_soon_threadsafe(self._batch_done, waiters, dirty, started, f.exception())

        cf.add_done_callback(done)

    def _batch_done(
        self,
        waiters: list[asyncio.Future[None]],
        dirty: dict[str, dict[Any, None]],
        started: float,
        err: BaseException | None,
    ) -> None:
        if err is None:
            for f in waiters:
                if not f.done():
                    f.set_result(None)
        else:
            # Memory is ahead of the file: keep the failed rows dirty (before the newer marks) so
            # the next batch writes them again with their current values.
            for t, keys in dirty.items():
                if keys:
                    self._dirty[t] = {**keys, **self._dirty[t]}
            msg = f"sqlite database {self.path!r}: commit failed: {err}"
            for f in waiters:
                if not f.done():
                    f.set_exception(Unavailable(msg))
        if self.metrics is not None:
            self.metrics.observe_storage_commit("sqlite", len(waiters), time.perf_counter() - started)
        if self._waiters and not self._closed:
            # Threaded mode: callers arrived while the batch was in flight; they form the next one.
            self._start_batch()
        else:
            self._busy = False

    def _collect(self, dirty: dict[str, dict[Any, None]]) -> Ops:
        """The batch's statements: each dirty row's current value, or its deletion. Runs on the loop
        thread, so it reads a consistent state."""
        ops: Ops = []
        drop_all = dirty["E"]
        if drop_all:
            # Before the event upserts: the instance's surviving events are all marked "e" too.
            ops.append((sch.DELETE_EVENTS_OF, [(iid,) for iid in drop_all]))
        if dirty["e"]:
            self._collect_events(dirty["e"], ops)
        if dirty["i"]:
            self._collect_instances(dirty["i"], ops)
        _collect(ops, dirty["j"], self._jobs.get, sch.job_row, sch.UPSERT_JOB, sch.DELETE_JOB)
        if dirty["t"]:
            _collect(ops, dirty["t"], self._timers.get, sch.timer_row, sch.UPSERT_TIMER, sch.DELETE_TIMER)
        if dirty["s"]:
            _collect(ops, dirty["s"], self._subs.get, sch.sub_row, sch.UPSERT_SUB, sch.DELETE_SUB)
        if dirty["m"]:
            _collect(ops, dirty["m"], self._messages.get, sch.message_row, sch.UPSERT_MESSAGE, sch.DELETE_MESSAGE)
        if dirty["d"]:
            _collect(ops, dirty["d"], self._data.get, sch.data_row, sch.UPSERT_DATA, sch.DELETE_DATA)
        return ops

    def _collect_instances(self, keys: dict[str, None], ops: Ops) -> None:
        instances, inboxes = self._instances, self._inbox
        upserts: list[tuple[Any, ...]] = []
        deletes: list[tuple[Any, ...]] = []
        row = sch.instance_row
        for iid in keys:
            inst = instances.get(iid)
            if inst is None:
                deletes.append((iid,))
            else:
                # consumed_seq: every inbox event up to it has left the inbox (see `_consume`).
                inbox = inboxes[iid]
                upserts.append(row(inst, inbox[0].seq - 1 if inbox else inst.last_seq))
        if deletes:
            ops.append((sch.DELETE_INSTANCE, deletes))
        if upserts:
            ops.append((sch.UPSERT_INSTANCE, upserts))

    def _consume(self, iid: str, upto: int) -> None:
        # Consuming moves inbox events to the history, changing nothing in their rows but the
        # derived in_history flag: the inbox is always a seq-suffix of the posted events, so the
        # instance row's consumed_seq (written in the same batch, as the update touches it) says
        # which posted events are history. Not re-marking them saves one scattered event-row write
        # per event. An event posted in the current batch is still marked from its post and is
        # written with its current place.
        dirty = self._dirty
        marks = dirty["e"]
        dirty["e"] = {}
        try:
            super()._consume(iid, upto)
        finally:
            dirty["e"] = marks

    def _collect_events(self, keys: dict[tuple[str, int], None], ops: Ops) -> None:
        inboxes, histories = self._inbox, self._history
        upserts: list[tuple[Any, ...]] = []
        deletes: list[tuple[Any, ...]] = []
        row = sch.event_row
        for key in keys:
            iid, seq = key
            ev = None
            # An event is in its instance's inbox or history, both sorted by seq; the one touched
            # is nearly always the last of either, so look there before bisecting.
            for events in (inboxes.get(iid), histories.get(iid)):
                if events:
                    last = events[-1]
                    if last.seq == seq:
                        ev = last
                        break
                    if last.seq > seq:
                        i = bisect_left(events, seq, key=_seq)
                        if events[i].seq == seq:
                            ev = events[i]
                            break
            if ev is None:
                deletes.append(key)
            else:
                upserts.append(row(ev))
        if deletes:
            ops.append((sch.DELETE_EVENT, deletes))
        if upserts:
            ops.append((sch.UPSERT_EVENT, upserts))

    def _execute(self, ops: Ops) -> None:
        """Write one batch in one transaction (on the loop thread, or the writer thread)."""
        db = self._db
        if db is None:
            raise sqlite3.ProgrammingError("database is closed")
        if not ops:
            return
        db.execute("BEGIN")
        try:
            for sql, rows in ops:
                db.executemany(sql, rows)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise
        self.transactions += 1


def _fence_lost_lease(job: Job) -> Job:
    """A lease is handed out before it is durable (`lease_jobs` does not wait for it), so a READY job
    on disk may have been leased under attempt+1 before a crash: skip that number so the lost lease's
    late completion can never match a new lease."""
    if job.status is JobStatus.READY:
        job.attempt += 1
    return job


def _collect(
    ops: Ops,
    keys: dict[Any, None],
    get: Callable[[Any], Any],
    row: Callable[[Any], tuple[Any, ...]],
    upsert: str,
    delete: str,
) -> None:
    if not keys:
        return
    upserts: list[tuple[Any, ...]] = []
    deletes: list[tuple[Any, ...]] = []
    for key in keys:
        obj = get(key)
        if obj is None:
            deletes.append(key if type(key) is tuple else (key,))
        else:
            upserts.append(row(obj))
    if deletes:
        ops.append((delete, deletes))
    if upserts:
        ops.append((upsert, upserts))
