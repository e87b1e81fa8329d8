"""The PostgreSQL backend's less frequent operations: publish, tick and instance queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gateway.errors import AlreadyExists
from gateway.model import InstanceQuery, JobStatus, Message, Page
from gateway.ports import PublishResult, TickResult
from gateway.storage import postgres_schema as S
from gateway.storage.postgres_plan import advisory_key

if TYPE_CHECKING:
    from gateway.storage.postgres import PostgresStorage


async def publish(self: PostgresStorage, message: Message, now: float) -> PublishResult:
    sql = self._sql
    name, ckey = message.name, message.correlation_key
    result = PublishResult(message.id)
    async with self._conn() as conn, conn.transaction():
        await conn.execute(sql.lock_one, advisory_key(self.schema, name, ckey))  # also DURABLE
        if message.message_id and await conn.fetchval(sql.dedupe, name, ckey, message.message_id, now):
            raise AlreadyExists(
                f"message {message.message_id!r} with name {name!r} and correlation key "
                f"{ckey!r} is already buffered"
            )
        chosen: list[Any] = []
        subs = await conn.fetch(sql.subs_of, name, ckey)
        if subs:
            # Instances before subscriptions (the commit path's lock order); new subscriptions
            # for this name and key cannot appear meanwhile (they need the advisory lock).
            locked: set[str] = set()
            while True:
                chosen = _first_per_group(subs)
                need = sorted({r["instance_id"] for r in chosen} - locked)
                if not need:
                    break
                locked.update(r["id"] for r in await conn.fetch(sql.lock_instance_ids, need))
                locked.update(need)
                subs = await conn.fetch(sql.subs_of_locked, name, ckey)
        if chosen:
            counts: dict[str, int] = {}
            for r in chosen:
                counts[r["instance_id"]] = counts.get(r["instance_id"], 0) + 1
            tops = {
                r["id"]: r["last_seq"]
                for r in await conn.fetch(sql.bump_inbox, list(counts), list(counts.values()))
            }
            rows: list[tuple[Any, ...]] = []
            next_seq = {iid: top - counts[iid] for iid, top in tops.items()}
            for r in chosen:
                iid = r["instance_id"]
                if iid not in next_seq:
                    continue
                next_seq[iid] += 1
                rows.append((iid, next_seq[iid], r["kind"], message.payload.data, r["key"], now, False))
                result.correlated.append(iid)
            await conn.execute(sql.insert_events, *S.columns(rows, 7))
            keys = [(r["instance_id"], r["key"]) for r in chosen]
            await conn.execute(sql.delete_sub_keys, *S.columns(keys, 2))
        topics = {f"i:{i}" for i in result.correlated}
        if result.correlated:
            topics.add("steps")
        if message.expires_at > now:
            groups = {r["grp"] for r in chosen} | set(message.correlated_groups)
            await conn.execute(
                sql.insert_message, message.id, name, ckey, message.payload.data,
                message.payload.content_type, message.message_id, message.expires_at,
                message.created_at or now, S.dumps_list(groups),
            )  # fmt: skip
            result.buffered = True
            topics.add("timers")
        await self._notify(conn, topics)
    return result


async def tick(self: PostgresStorage, now: float, since: float, limit: int = 1000) -> TickResult:
    sql = self._sql
    res = TickResult()
    async with self._conn() as conn, conn.transaction():
        res.ready_queues.update(r[0] for r in await conn.fetch(sql.tick_ready, since, now))
        locked = [r[0] for r in await conn.fetch(sql.tick_lock_timer_instances, now, limit)]
        if locked:
            fired = sorted(await conn.fetch(sql.tick_fire_timers, locked, now), key=lambda r: (r[2], r[5]))
            if fired:
                counts: dict[str, int] = {}
                for r in fired:
                    counts[r[0]] = counts.get(r[0], 0) + 1
                tops = {r[0]: r[1] for r in await conn.fetch(sql.bump_inbox, list(counts), list(counts.values()))}
                seq = {iid: top - counts[iid] for iid, top in tops.items()}
                rows: list[tuple[Any, ...]] = []
                for r in fired:
                    iid = r[0]
                    if iid in seq:
                        seq[iid] += 1
                        rows.append((iid, seq[iid], r[3], r[4], r[1], now, False))
                if rows:
                    await conn.execute(sql.insert_events, *S.columns(rows, 7))
                    res.runnable = True
                    res.changed_instances.update(seq)
                res.fired_timers = len(fired)
        for r in await conn.fetch(sql.tick_expire_jobs, now, limit):
            job = S.job_from(r)
            if job.not_before <= now:
                res.ready_queues.add(job.queue)
            job.status = JobStatus.LEASED
            job.lease_owner, job.lease_expires = r["old_owner"], r["old_expires"]
            res.expired_jobs.append(job)
        steps = await conn.fetch(sql.tick_expire_steps, now)
        res.expired_steps = len(steps)
        res.runnable = res.runnable or any(r[0] for r in steps)
        status = await conn.execute(sql.tick_expire_messages, now)
        res.expired_messages = int(status.split()[-1])
        res.next_due = await conn.fetchval(sql.next_due, now)
        topics = {f"q:{q}" for q in res.ready_queues} | {f"i:{i}" for i in res.changed_instances}
        if res.runnable:
            topics.add("steps")
        await self._notify(conn, topics)
    return res


async def query_instances(self: PostgresStorage, query: InstanceQuery) -> Page:
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.engine is not None:
        where.append(f"engine = {arg(query.engine)}")
    if query.statuses is not None:
        where.append(f"status = ANY({arg([s.value for s in query.statuses])}::text[])")
    if query.definition is not None:
        where.append(f"definition = {arg(query.definition)}")
    if query.id_prefix is not None:
        where.append(f"starts_with(id, {arg(query.id_prefix)})")
    if query.parent_id is not None:
        where.append(f"parent_id = {arg(query.parent_id)}")
    if query.created_from is not None:
        where.append(f"created_at >= {arg(query.created_from)}")
    if query.created_to is not None:
        where.append(f"created_at <= {arg(query.created_to)}")
    if query.completed_from is not None:
        where.append(f"completed_at > 0 AND completed_at >= {arg(query.completed_from)}")
    if query.completed_to is not None:
        where.append(f"completed_at > 0 AND completed_at <= {arg(query.completed_to)}")
    if query.after_id is not None:
        where.append(f"id > {arg(query.after_id)}")
    cond = " AND ".join(where) or "true"
    stmt = f"SELECT * FROM {self._sql.instances_table} WHERE {cond} ORDER BY id LIMIT {arg(query.limit + 1)}"
    async with self._conn() as conn:
        rows = await conn.fetch(stmt, *args)
    items = [S.instance_from(r) for r in rows[: query.limit]]
    return Page(items, items[-1].id if len(rows) > query.limit and items else None)


def _first_per_group(subs: Sequence[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for r in subs:
        if r["grp"] not in seen:
            seen.add(r["grp"])
            out.append(r)
    return out
