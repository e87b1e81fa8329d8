"""Writing a planned batch: one statement of data-modifying CTEs (see `postgres_plan`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from gateway.storage import postgres_schema as S
from gateway.storage.postgres_plan import Conflict, notify_payloads
from gateway.storage.postgres_sql import DURABLE

if TYPE_CHECKING:
    from gateway.storage.postgres_plan import Batch

CONFLICT_MARK = "gateway write conflict: "


async def write_batch(self: Batch, conn: asyncpg.Connection, channel: str) -> None:
    """Write the batch's net effect and its NOTIFY: one statement of data-modifying CTEs
    (they all see the pre-batch snapshot and touch disjoint rows), preceded only in rare cases
    (purged instances, ids deleted and re-created in the same batch) by a few statements."""
    sql = self.sql
    jobs = self.jobs
    recreated = [jid for jid in self.jobs_db if jid in self.jobs_new]
    puts = {oid for oid, o in self.data.items() if o is not None}
    if self.optimistic and (self.purged or recreated or self.data_deleted & puts):
        raise Conflict("this batch needs statements in order: locking path")
    if self.purged:
        ids = list(self.purged)
        for stmt in sql.purge:
            await conn.execute(stmt, ids)
    if recreated:
        await conn.execute(sql.delete_jobs, recreated)
    if self.data_deleted & puts:
        await conn.execute(sql.delete_data, list(self.data_deleted & puts))

    st = _Statement()
    p = st.param
    t = sql.tables
    resets = [iid for iid, pe in self.pre.items() if pe.reset]
    if resets:
        st.cte(f"DELETE FROM {t.events} WHERE instance_id = ANY({p(resets, 'text[]')}) AND in_history")
    drops: list[tuple[str, int, int]] = []
    moves: list[tuple[str, int, int]] = []
    for iid, pe in self.pre.items():
        for lo, hi, to_history in pe.ranges:
            (moves if to_history else drops).append((iid, lo, hi))
    for rows, verb in ((drops, "DELETE"), (moves, "UPDATE")):
        if rows:
            a, b, c = S.columns(rows, 3)
            r = f"unnest({p(a, 'text[]')}, {p(b, 'int8[]')}, {p(c, 'int8[]')}) AS r(i, lo, hi)"
            cond = "e.instance_id = r.i AND e.seq > r.lo AND e.seq <= r.hi AND NOT e.in_history"
            if verb == "DELETE":
                st.cte(f"DELETE FROM {t.events} e USING {r} WHERE {cond}")
            else:
                st.cte(f"UPDATE {t.events} e SET in_history = true FROM {r} WHERE {cond}")
    new_events = [tuple(e) for evs in self.events.values() for e in evs]
    if new_events:
        st.cte(
            f"INSERT INTO {t.events} (instance_id, seq, kind, data, ref, created_at, in_history)"
            f" SELECT * FROM {st.unnest(new_events, _EVENT_TYPES)}"
        )
    deletes = [jid for jid in self.jobs_db if jobs.get(jid) is None and jid not in self.jobs_new]
    opt = self.optimistic
    if deletes and opt:
        rows_x = [(jid, self.xmin[("j", jid)]) for jid in deletes]
        st.cte(f"DELETE FROM {t.jobs} j USING {st.unnest(rows_x, ('text', 'text'))} AS u(id, x)"
               " WHERE j.id = u.id AND j.xmin::text = u.x RETURNING 1", expect=len(deletes))  # fmt: skip
    elif deletes:
        st.cte(f"DELETE FROM {t.jobs} WHERE id = ANY({p(deletes, 'text[]')})")
    updates = [
        j for jid in self.jobs_dirty
        if jid in self.jobs_db and jid not in self.jobs_new and (j := jobs.get(jid)) is not None
    ]  # fmt: skip
    if updates:
        rows_u = [
            (j.id, j.status.value, j.not_before, j.attempt, j.retries, j.lease_owner, j.lease_expires,
             j.last_error, self.xmin.get(("j", j.id), ""))
            for j in updates
        ]  # fmt: skip
        st.cte(
            f"UPDATE {t.jobs} j SET status = u.status, not_before = u.nb, attempt = u.attempt,"
            " retries = u.retries, lease_owner = u.lo, lease_expires = u.le, last_error = u.err"
            f" FROM {st.unnest(rows_u, _JOB_UPDATE_TYPES)} AS u(id, status, nb, attempt, retries, lo, le, err, x)"
            " WHERE j.id = u.id" + (" AND j.xmin::text = u.x RETURNING 1" if opt else ""),
            expect=len(updates) if opt else None,
        )
    inserts = [j for jid in self.jobs_new if (j := jobs.get(jid)) is not None]
    if inserts:
        rows_j = [S.job_tuple(j) for j in inserts]
        st.cte(
            f"INSERT INTO {t.jobs} ({', '.join(S.JOB_COLS)}) SELECT * FROM {st.unnest(rows_j, S.JOB_TYPES)}"
            " RETURNING id, seq",
            returning=True,
        )
    gone_t = [k for k, tm in self.timers.items() if tm is None]
    if gone_t:
        st.cte(f"DELETE FROM {t.timers} x USING {st.unnest(gone_t, ('text', 'text'))} AS k(i, key)"
               " WHERE x.instance_id = k.i AND x.key = k.key")  # fmt: skip
    rows_t = [(tm.instance_id, tm.key, tm.due_at, tm.kind, tm.data) for tm in self.timers.values() if tm]
    if rows_t:
        st.cte(
            f"INSERT INTO {t.timers} (instance_id, key, due_at, kind, data)"
            f" SELECT * FROM {st.unnest(rows_t, ('text', 'text', 'float8', 'text', 'bytea'))}"
            " ON CONFLICT (instance_id, key) DO UPDATE SET due_at = EXCLUDED.due_at, kind = EXCLUDED.kind,"
            " data = EXCLUDED.data"
        )
    gone_s = [k for k, sb in self.subs.items() if sb is None]
    if gone_s:
        st.cte(f"DELETE FROM {t.subs} x USING {st.unnest(gone_s, ('text', 'text'))} AS k(i, key)"
               " WHERE x.instance_id = k.i AND x.key = k.key")  # fmt: skip
    rows_s = [
        (sb.instance_id, sb.key, sb.name, sb.correlation_key, sb.group, sb.kind, sb.created_at)
        for sb in self.subs.values() if sb
    ]  # fmt: skip
    if rows_s:
        # A re-opened key goes to the back of the correlation order: a fresh seq.
        st.cte(
            f"INSERT INTO {t.subs} (instance_id, key, name, correlation_key, grp, kind, created_at)"
            f" SELECT * FROM {st.unnest(rows_s, _SUB_TYPES)} ON CONFLICT (instance_id, key) DO UPDATE SET"
            " name = EXCLUDED.name, correlation_key = EXCLUDED.correlation_key, grp = EXCLUDED.grp,"
            f" kind = EXCLUDED.kind, created_at = EXCLUDED.created_at, seq = nextval('{t.subs_seq}')"
        )
    if self.msgs_dirty:
        rows_m = [(m.id, S.dumps_list(m.correlated_groups)) for m in self.msgs_dirty.values()]
        st.cte(f"UPDATE {t.messages} m SET correlated_groups = u.g"
               f" FROM {st.unnest(rows_m, ('text', 'jsonb'))} AS u(id, g) WHERE m.id = u.id")  # fmt: skip
    gone_d = [oid for oid, o in self.data.items() if o is None]
    if gone_d:
        st.cte(f"DELETE FROM {t.data} WHERE id = ANY({p(gone_d, 'text[]')})")
    rows_d = [
        (o.id, o.owner_id, o.status, *S.payload_cols(o.payload), S.dumps(o.meta), o.created_at, o.updated_at)
        for o in self.data.values() if o is not None
    ]  # fmt: skip
    if rows_d:
        st.cte(
            f"INSERT INTO {t.data} (id, owner_id, status, payload, content_type, meta, created_at, updated_at)"
            f" SELECT * FROM {st.unnest(rows_d, _DATA_TYPES)} ON CONFLICT (id) DO UPDATE SET"
            " owner_id = EXCLUDED.owner_id, status = EXCLUDED.status, payload = EXCLUDED.payload,"
            " content_type = EXCLUDED.content_type, meta = EXCLUDED.meta, updated_at = EXCLUDED.updated_at"
        )
    # New ids are inserted plainly, so a replica creating the same id concurrently gets a
    # unique violation (-> AlreadyExists on replay) instead of silently overwriting.
    fresh = [self.inst[i] for i in self.dirty if i in self.inst and (i not in self.in_db or i in self.purged)]
    kept = [self.inst[i] for i in self.dirty if i in self.inst and i in self.in_db and i not in self.purged]
    icols = ", ".join(S.INSTANCE_COLS)
    if fresh:
        rows_n = [S.instance_tuple(i) for i in fresh]
        st.cte(f"INSERT INTO {t.instances} ({icols}) SELECT * FROM {st.unnest(rows_n, S.INSTANCE_TYPES)}")
    if kept:
        rows_k = [(*S.instance_tuple(i), self.xmin.get(("i", i.id), "")) for i in kept]
        sets = ", ".join(f"{c} = u.{c}" for c in S.INSTANCE_COLS[1:])
        st.cte(
            f"UPDATE {t.instances} i SET {sets} FROM {st.unnest(rows_k, (*S.INSTANCE_TYPES, 'text'))}"
            f" AS u({icols}, x) WHERE i.id = u.id" + (" AND i.xmin::text = u.x RETURNING 1" if opt else ""),
            expect=len(kept) if opt else None,
        )
    if opt:
        # Instances only read (existence checks of new jobs, timers...) must still exist;
        # KEY SHARE keeps them from being deleted until this statement commits.
        written = {i.id for i in kept}
        read = [iid for iid in self.inst if iid in self.in_db and iid not in written]
        if read:
            st.cte(f"SELECT 1 FROM {t.instances} WHERE id = ANY({p(read, 'text[]')}) FOR KEY SHARE",
                   expect=len(read))  # fmt: skip
    if self.topics:
        st.notify(channel, notify_payloads(self.topics))
    rows = await st.run(conn)
    if inserts:
        seqs = {r[0]: r[1] for r in rows if r[0] is not None}
        for j in inserts:
            j.seq = seqs.get(j.id, 0)


_EVENT_TYPES = ("text", "int8", "text", "bytea", "text", "float8", "bool")
_JOB_UPDATE_TYPES = ("text", "text", "float8", "int4", "int4", "text", "float8", "text", "text")
_SUB_TYPES = ("text", "text", "text", "text", "text", "text", "float8")
_DATA_TYPES = ("text", "text", "text", "bytea", "text", "jsonb", "float8", "float8")


class _Statement:
    """One statement made of data-modifying CTEs, numbering its parameters as they are added."""

    def __init__(self) -> None:
        self.args: list[Any] = []
        self.ctes: list[str] = []
        self.returning: str | None = None
        self.notify_cte: str | None = None
        self.expect: list[tuple[str, int]] = []

    def param(self, value: Any, typ: str) -> str:
        self.args.append(value)
        return f"${len(self.args)}::{typ}"

    def unnest(self, rows: Sequence[tuple[Any, ...]], types: Sequence[str]) -> str:
        cols = S.columns(rows, len(types))
        return "unnest(" + ", ".join(self.param(c, t + "[]") for c, t in zip(cols, types, strict=True)) + ")"

    def cte(self, dml: str, returning: bool = False, expect: int | None = None) -> None:
        name = f"w{len(self.ctes)}"
        self.ctes.append(f"{name} AS ({dml})")
        if returning:
            self.returning = name
        if expect is not None:
            self.expect.append((name, expect))

    def notify(self, channel: str, payloads: list[str]) -> None:
        chan, texts = self.param(channel, "text"), self.param(payloads, "text[]")
        self.notify_cte = f"SELECT pg_notify({chan}, x) FROM unnest({texts}) AS x"

    async def run(self, conn: asyncpg.Connection) -> list[Any]:
        ctes = list(self.ctes)
        selects = []
        if self.returning is not None:
            selects.append(f"SELECT id::text, seq::int8 FROM {self.returning}")
        if self.notify_cte is not None:
            ctes.append(f"n AS ({self.notify_cte})")
            # A plain CTE runs only when referenced: count(*) makes every pg_notify happen.
            selects.append("SELECT NULL::text, count(*)::int8 FROM n")
        # Every batch acknowledges client writes: this transaction waits for its WAL flush.
        selects.append(f"SELECT NULL::text, length({DURABLE})::int8")
        if self.expect:
            # A row that changed since it was read makes its CTE come up short; failing the cast
            # (never constant-folded: it depends on the counts) aborts the whole statement.
            counts = " || ',' || ".join(f"(SELECT count(*) FROM {n})" for n, _ in self.expect)
            ok = " AND ".join(f"(SELECT count(*) FROM {n}) = {k}" for n, k in self.expect)
            selects.append(f"SELECT NULL::text, CASE WHEN {ok} THEN 0 ELSE ('{CONFLICT_MARK}' || {counts})::int8 END")
        body = " UNION ALL ".join(selects)
        if not ctes:
            return list(await conn.fetch(body))
        return list(await conn.fetch("WITH " + ", ".join(ctes) + " " + body, *self.args))
