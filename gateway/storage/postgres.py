"""PostgreSQL storage: several gateway replicas on one database.

- `commit()` is group-committed: concurrent calls queue up and writer tasks (two, kept apart by the
  ids their batches touch) apply each batch as one unit (see `postgres_plan`): each commit is
  applied with the reference rules of `MemoryStorage` to the rows the batch read, and the net
  effect is written with one statement of data-modifying CTEs, NOTIFY included.
  First optimistically (two round trips, no explicit transaction: the write re-checks the xmin of
  every row it read and fails as a whole if one changed), then, on a conflict or for batches that
  correlate messages, in a transaction with the rows locked `FOR UPDATE` in a fixed order. A
  refused commit (LeaseLost, NotFound...) is refused alone; if the database refuses the batch (an
  id created meanwhile by another replica, a deadlock) it is replayed with one SAVEPOINT per commit
  so only the offending commit fails.
- Jobs are leased with `FOR UPDATE SKIP LOCKED`; concurrent `lease_jobs` calls on the same queues
  share one `UPDATE ... RETURNING` statement (group lease). Steps are claimed the same way, with
  their inbox in the same round trip.
- Wake-ups cross replicas with `pg_notify` sent in the committing transaction; `PostgresNotifier`
  listens (see `postgres_notify`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import asyncpg

from gateway.errors import AlreadyExists, GatewayError, LeaseLost, NotFound, Unavailable
from gateway.model import (
    NEVER,
    Commit,
    DataObject,
    Event,
    Instance,
    InstanceQuery,
    InstanceStatus,
    Job,
    JobOutcome,
    JobRef,
    JobStatus,
    Message,
    Page,
    StepClaim,
    Subscription,
    Timer,
)
from gateway.ports import CommitResult, Metrics, PublishResult, TickResult
from gateway.storage import postgres_ops
from gateway.storage import postgres_schema as S
from gateway.storage.postgres_notify import PostgresNotifier
from gateway.storage.postgres_plan import Batch, Conflict, commit_keys, notify_payloads
from gateway.storage.postgres_sql import Sql

__all__ = ["PostgresNotifier", "PostgresStorage"]

log = logging.getLogger(__name__)

_MAX_BATCH = 256
_CONNECT_TIMEOUT = 5.0
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
_CONNECTION_ERRORS = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, TimeoutError)

_Pending = tuple[Commit, float, "asyncio.Future[CommitResult]"]


def redact(dsn: str) -> str:
    """The DSN without its password, for error messages."""
    dsn = re.sub(r"(://[^:/@]*):[^@]*@", r"\1@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn)


class PostgresStorage:
    """`gateway.ports.Storage` on PostgreSQL (asyncpg), safe for several replicas on one schema."""

    name = "postgres"

    def __init__(
        self, dsn: str, *, schema: str = "gateway", pool_size: int = 8, metrics: Metrics | None = None,
        writers: int = 2,
    ) -> None:  # fmt: skip
        self.dsn = dsn
        self.schema = schema
        self.pool_size = pool_size
        self.metrics = metrics
        self.channel = S.channel_name(schema)
        self._sql = Sql(schema)
        self._pool: asyncpg.Pool | None = None
        self._queue: list[_Pending] = []
        # Two writers let one batch be planned while the previous one is in the database.
        self._max_writers = max(1, writers)
        #: Optimistic batches replayed on the locking path (a contention gauge for tests and tuning).
        self.conflicts = 0
        self._writers: set[asyncio.Task[None]] = set()
        self._active_writers = 0
        self._busy: list[set[str]] = []  # ids touched by each batch in flight
        self._lease_queue: dict[tuple[tuple[str, ...], bool], list[Any]] = {}
        self._leasers: dict[tuple[tuple[str, ...], bool], asyncio.Task[None]] = {}

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        try:
            self._pool = pool = await asyncio.wait_for(
                asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=self.pool_size, timeout=_CONNECT_TIMEOUT,
                    # Step claims and ticks are soft state (a lost claim is fenced by the revision;
                    # a lost tick is redone by the next one), so they skip the WAL flush; every
                    # transaction that acknowledges something (commit, publish, update_job, a job
                    # lease: its attempt is a fencing token) turns it back on locally (`DURABLE`).
                    server_settings={"application_name": "unified-gateway", "synchronous_commit": "off"},
                    # No session state is ever left on a connection (advisory locks are
                    # transaction-scoped, LISTEN has its own connection): skip the reset round trip.
                    reset=_no_reset, statement_cache_size=512,
                ),
                _CONNECT_TIMEOUT + 1,
            )  # fmt: skip
            async with pool.acquire() as conn:
                # A schema already in place is only read: its DDL (CREATE INDEX IF NOT EXISTS
                # takes a table lock before it finds the index) would deadlock with the writes of
                # replicas already running on it.
                version = await self._schema_version(conn)
                if version is None:
                    async with conn.transaction():
                        # Replicas starting together must not race on CREATE ... IF NOT EXISTS.
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", _schema_lock(self.schema))
                        await conn.execute(S.ddl(self.schema))
                        version = await self._schema_version(conn)
        except (*_CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
            if self._pool is not None:
                self._pool.terminate()
                self._pool = None
            raise Unavailable(f"cannot reach PostgreSQL at {redact(self.dsn)}: {exc or type(exc).__name__}") from exc
        if version != S.SCHEMA_VERSION:
            await self.close()
            raise Unavailable(
                f"schema {self.schema!r} at {redact(self.dsn)} has version {version}, "
                f"this gateway needs {S.SCHEMA_VERSION}"
            )

    async def _schema_version(self, conn: asyncpg.Connection) -> str | None:
        """The schema's recorded version, or None if it has no meta table (yet)."""
        if await conn.fetchval("SELECT to_regclass($1)", f"{self._sql.schema_q}.meta") is None:
            return None
        value = await conn.fetchval(f"SELECT value FROM {self._sql.schema_q}.meta WHERE key = 'schema_version'")
        return None if value is None else str(value)

    async def close(self) -> None:
        """Let queued commits and leases finish, then close the pool."""
        while self._writers or self._leasers:
            await asyncio.gather(*self._writers, *self._leasers.values(), return_exceptions=True)
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def drop_schema(self) -> None:
        """Drop the whole schema (tests give every run its own schema)."""
        async with self._conn() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {self._sql.schema_q} CASCADE")

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; losing the database surfaces as `Unavailable`."""
        if self._pool is None:
            raise Unavailable("PostgreSQL storage is not open")
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except _CONNECTION_ERRORS as exc:
            raise Unavailable(f"PostgreSQL at {redact(self.dsn)}: {exc or type(exc).__name__}") from exc

    # ------------------------------------------------------------------ the write path

    async def commit(self, commit: Commit, now: float) -> CommitResult:
        if self._pool is None:
            raise Unavailable("PostgreSQL storage is not open")
        fut: asyncio.Future[CommitResult] = asyncio.get_running_loop().create_future()
        self._queue.append((commit, now, fut))
        self._start_writer()
        return await fut

    def _start_writer(self) -> None:
        # Counted synchronously (not by task completion): a writer that has just seen an empty
        # queue must not be mistaken for one that will still pick up the commit queued now.
        if self._active_writers < self._max_writers:
            self._active_writers += 1
            task = asyncio.create_task(self._writer())
            self._writers.add(task)
            task.add_done_callback(self._writers.discard)

    def _take_batch(self) -> tuple[list[_Pending], set[str]]:
        """The next batch: queued commits, in order, that touch nothing a batch in flight touches.

        Concurrent writers then never contend for rows (their optimistic checks would fail, or
        their locks would wait); a commit held back also holds back later commits sharing an id
        with it, so commits on one instance or job are applied in the order they were queued."""
        if not self._busy:
            batch = self._queue[:_MAX_BATCH]
            del self._queue[:_MAX_BATCH]
            return batch, set().union(*(commit_keys(c) for c, _, _ in batch))
        blocked = set().union(*self._busy)
        batch, rest, keys = [], [], set()
        for item in self._queue:
            k = commit_keys(item[0])
            if len(batch) < _MAX_BATCH and blocked.isdisjoint(k):
                batch.append(item)
                keys |= k
            else:
                rest.append(item)
                blocked |= k
        self._queue[:] = rest
        return batch, keys

    async def _writer(self) -> None:
        try:
            await self._write_batches()
        finally:
            self._active_writers -= 1

    async def _write_batches(self) -> None:
        while self._queue:
            batch, keys = self._take_batch()
            if not batch:
                return  # everything queued waits for a batch in flight; that writer goes on
            self._busy.append(keys)
            started = time.perf_counter()
            try:
                results = await self._run_batch(batch)
            except _CONNECTION_ERRORS as exc:
                err: BaseException = Unavailable(f"PostgreSQL at {redact(self.dsn)}: {exc}")
                results = [err] * len(batch)
            except Exception as exc:
                results = [exc] * len(batch)
            finally:
                self._busy.remove(keys)
            for (_, _, fut), res in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if isinstance(res, BaseException):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)
            if self.metrics is not None:
                self.metrics.observe_storage_commit("postgres", len(batch), time.perf_counter() - started)

    async def _run_batch(self, batch: list[_Pending]) -> list[Any]:
        async with self._conn() as conn:
            try:
                return await self._optimistic(conn, batch)
            except (Conflict, asyncpg.PostgresError) as exc:
                self.conflicts += 1
                log.debug("optimistic group commit of %d failed (%s); locking", len(batch), exc)
            for attempt in range(3):
                try:
                    return await self._fast(conn, batch)
                except _RETRYABLE:
                    if attempt == 2:
                        break
                except asyncpg.PostgresError as exc:
                    log.debug("group commit of %d refused (%s); replaying with savepoints", len(batch), exc)
                    break
                except (GatewayError, ValueError):  # pragma: no cover - apply() validates first
                    break
            return await self._slow(conn, batch)

    async def _optimistic(self, conn: asyncpg.Connection, batch: list[_Pending]) -> list[Any]:
        """Two round trips and no explicit transaction: read (no locks), apply, then one write
        statement that re-checks the versions of what it read and commits on its own."""
        plan = Batch(self._sql, self.schema, optimistic=True)
        await plan.load(conn, [(c, now) for c, now, _ in batch])
        results: list[Any] = []
        for c, now, _ in batch:
            try:
                results.append(plan.apply(c, now))
            except (GatewayError, ValueError) as exc:
                results.append(exc)
        await plan.write(conn, self.channel)
        return results

    async def _fast(self, conn: asyncpg.Connection, batch: list[_Pending]) -> list[Any]:
        plan = Batch(self._sql, self.schema)
        results: list[Any] = []
        async with conn.transaction():
            await plan.load(conn, [(c, now) for c, now, _ in batch])
            for c, now, _ in batch:
                try:
                    results.append(plan.apply(c, now))
                except (GatewayError, ValueError) as exc:
                    # Refused before anything was changed: the rest of the batch goes on.
                    results.append(exc)
            await plan.write(conn, self.channel)
        return results

    async def _slow(self, conn: asyncpg.Connection, batch: list[_Pending]) -> list[Any]:
        results: list[Any] = []
        topics: set[str] = set()
        async with conn.transaction():
            for c, now, _ in batch:
                plan = Batch(self._sql, self.schema, strict=True)
                try:
                    async with conn.transaction():  # a SAVEPOINT per commit
                        await plan.load(conn, [(c, now)])
                        res = plan.apply(c, now)
                        pending_topics = set(plan.topics)
                        plan.topics.clear()  # sent once for the whole batch, below
                        await plan.write(conn, self.channel)
                except asyncpg.UniqueViolationError as exc:
                    results.append(AlreadyExists(f"already exists: {exc.detail or exc}"))
                except (GatewayError, ValueError, asyncpg.PostgresError) as exc:
                    results.append(exc)
                else:
                    results.append(res)
                    topics |= pending_topics
            await self._notify(conn, topics)
        return results

    async def _notify(self, conn: asyncpg.Connection, topics: Collection[str]) -> None:
        if topics:
            await conn.execute(self._sql.notify, self.channel, notify_payloads(topics))

    async def commit_many(self, commits: Sequence[Commit], now: float) -> list[CommitResult | GatewayError]:
        if not commits:
            return []
        if self._pool is None:
            raise Unavailable("PostgreSQL storage is not open")
        loop = asyncio.get_running_loop()
        futs: list[asyncio.Future[CommitResult]] = []
        for c in commits:
            fut: asyncio.Future[CommitResult] = loop.create_future()
            self._queue.append((c, now, fut))
            futs.append(fut)
        self._start_writer()
        out: list[CommitResult | GatewayError] = []
        for fut in futs:
            try:
                out.append(await fut)
            except GatewayError as exc:
                out.append(exc)
        return out

    async def publish(self, message: Message, now: float) -> PublishResult:
        return await postgres_ops.publish(self, message, now)

    # ------------------------------------------------------------------ steps and jobs

    async def claim_steps(
        self, owner: str, limit: int, lease_for: float, now: float, engines: Collection[str] | None = None
    ) -> list[StepClaim]:
        sql = self._sql
        async with self._conn() as conn:
            if engines is None:
                rows = await conn.fetch(sql.claim_steps, now, limit, owner, lease_for)
            else:
                rows = await conn.fetch(sql.claim_steps_engines, now, limit, owner, lease_for, list(engines))
        return [StepClaim(S.instance_from(r), [S.event_from(e) for e in r["inbox"] or ()]) for r in rows]

    async def lease_jobs(
        self,
        queues: Sequence[str],
        owner: str,
        limit: int,
        now: float,
        order: str = "fifo",
        lease_for: float | None = None,
    ) -> list[Job]:
        if not queues or limit <= 0:
            return []
        if self._pool is None:
            raise Unavailable("PostgreSQL storage is not open")
        key = (tuple(queues), order == "priority")
        fut: asyncio.Future[list[Job]] = asyncio.get_running_loop().create_future()
        self._lease_queue.setdefault(key, []).append((owner, limit, now, lease_for, fut))
        if key not in self._leasers:
            task = asyncio.create_task(self._leaser(key))
            self._leasers[key] = task
        return await fut

    async def _leaser(self, key: tuple[tuple[str, ...], bool]) -> None:
        """Serve every lease_jobs call queued on these queues, one statement per round."""
        try:
            while reqs := self._lease_queue.pop(key, None):
                try:
                    got = await self._lease_round(key, reqs)
                except _CONNECTION_ERRORS as exc:
                    for *_, fut in reqs:
                        if not fut.done():
                            fut.set_exception(Unavailable(f"PostgreSQL at {redact(self.dsn)}: {exc}"))
                    continue
                except Exception as exc:
                    for *_, fut in reqs:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, _, now, _, fut), jobs in zip(reqs, got, strict=True):
                    if not fut.done():
                        fut.set_result(jobs)
                    elif jobs:  # the caller is gone: give its jobs back at once
                        await self._release_unclaimed(jobs, now)
        finally:
            self._leasers.pop(key, None)

    async def _lease_round(self, key: tuple[tuple[str, ...], bool], reqs: list[Any]) -> list[list[Job]]:
        queues, prio = key
        sql = self._sql
        owners: list[str] = []
        nows: list[float] = []
        lease_fors: list[float | None] = []
        slot_of: list[int] = []
        for k, (owner, limit, now, lease_for, _) in enumerate(reqs):
            owners.extend([owner] * limit)
            nows.extend([now] * limit)
            lease_fors.extend([lease_for] * limit)
            slot_of.extend([k] * limit)
        # The earliest caller's clock decides not-before, so nobody leases a job too early.
        now = min(r[2] for r in reqs)
        async with self._conn() as conn:
            if len(queues) == 1:
                stmt = sql.lease_one_prio if prio else sql.lease_one_fifo
                rows = await conn.fetch(stmt, queues[0], now, len(owners), owners, nows, lease_fors)
            else:
                stmt = sql.lease_many_prio if prio else sql.lease_many_fifo
                rows = await conn.fetch(stmt, list(queues), now, len(owners), owners, nows, lease_fors)
        out: list[list[Job]] = [[] for _ in reqs]
        for r in sorted(rows, key=lambda r: r["rn"]):
            out[slot_of[r["rn"] - 1]].append(S.job_from(r))
        return out

    async def _release_unclaimed(self, jobs: list[Job], now: float) -> None:
        with contextlib.suppress(GatewayError):
            await self.commit(Commit(jobs=[JobOutcome(j.ref, "release") for j in jobs]), now)

    async def get_job(self, job_id: str) -> Job | None:
        async with self._conn() as conn:
            r = await conn.fetchrow(self._sql.get_job, job_id)
        return None if r is None else S.job_from(r)

    async def list_jobs(self, instance_id: str) -> list[Job]:
        async with self._conn() as conn:
            return [S.job_from(r) for r in await conn.fetch(self._sql.list_jobs, instance_id)]

    async def update_job(
        self,
        job_id: str,
        *,
        retries: int | None = None,
        lease_expires: float | None = None,
        not_before: float | None = None,
        ref: JobRef | None = None,
        now: float,
    ) -> Job:
        sql = self._sql
        async with self._conn() as conn, conn.transaction():
            r = await conn.fetchrow(sql.lock_job, job_id)
            if r is None:
                raise NotFound(f"job {job_id!r} not found")
            job = S.job_from(r)
            if ref is not None and (job.status is not JobStatus.LEASED or job.attempt != ref.attempt):
                raise LeaseLost(f"lease on job {job_id!r} (attempt {ref.attempt}) lost")
            if lease_expires is not None and job.status is JobStatus.LEASED:
                job.lease_expires = lease_expires
            if not_before is not None and job.status is JobStatus.READY:
                job.not_before = not_before
            if retries is not None:
                job.retries = retries
                if job.status is JobStatus.FAILED and retries > 0:
                    job.status = JobStatus.READY
                    job.lease_owner, job.lease_expires = "", NEVER
            r = await conn.fetchrow(
                sql.update_job, job_id, job.status.value, job.retries, job.lease_owner, job.lease_expires,
                job.not_before,
            )  # fmt: skip
            job = S.job_from(r)
            if job.status is JobStatus.READY and job.not_before <= now:
                await self._notify(conn, [f"q:{job.queue}"])
        return job

    async def queue_depths(self) -> dict[str, int]:
        async with self._conn() as conn:
            return {r[0]: r[1] for r in await conn.fetch(self._sql.queue_depths)}

    # ------------------------------------------------------------------ time-driven maintenance

    async def tick(self, now: float, since: float, limit: int = 1000) -> TickResult:
        return await postgres_ops.tick(self, now, since, limit)

    # ------------------------------------------------------------------ reads

    async def get_instance(self, instance_id: str) -> Instance | None:
        async with self._conn() as conn:
            r = await conn.fetchrow(self._sql.get_instance, instance_id)
        return None if r is None else S.instance_from(r)

    async def query_instances(self, query: InstanceQuery) -> Page:
        return await postgres_ops.query_instances(self, query)

    async def history(self, instance_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        async with self._conn() as conn:
            rows = await conn.fetch(self._sql.history, instance_id, after_seq, limit)
        return [S.event_from(r) for r in rows]

    async def inbox(self, instance_id: str) -> list[Event]:
        async with self._conn() as conn:
            return [S.event_from(r) for r in await conn.fetch(self._sql.inbox, instance_id)]

    async def count_instances(self) -> dict[tuple[str, InstanceStatus], int]:
        async with self._conn() as conn:
            rows = await conn.fetch(self._sql.count_instances)
        return {(r[0], InstanceStatus(r[1])): r[2] for r in rows}

    async def get_data(self, object_id: str) -> DataObject | None:
        async with self._conn() as conn:
            r = await conn.fetchrow(self._sql.get_data, object_id)
        return None if r is None else S.data_from(r)

    async def list_data(self, owner_id: str) -> list[DataObject]:
        async with self._conn() as conn:
            return [S.data_from(r) for r in await conn.fetch(self._sql.list_data, owner_id)]

    async def subscriptions(self, instance_id: str) -> list[Subscription]:
        async with self._conn() as conn:
            return [S.subscription_from(r) for r in await conn.fetch(self._sql.subscriptions, instance_id)]

    async def timers(self, instance_id: str) -> list[Timer]:
        async with self._conn() as conn:
            return [S.timer_from(r) for r in await conn.fetch(self._sql.timers, instance_id)]


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None


def _schema_lock(schema: str) -> int:
    digest = hashlib.blake2b(f"gateway-schema\x00{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
