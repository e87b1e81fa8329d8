"""The SQL statements of the PostgreSQL backend, qualified with the configured schema.

Statement texts are fixed per schema, so asyncpg's per-connection statement cache prepares each of
them once and reuses it.
"""

from __future__ import annotations

from gateway.storage import postgres_schema as S

#: Turns the WAL flush back on for the current transaction (sessions default to asynchronous commit).
DURABLE = "set_config('synchronous_commit', 'on', true)"


class Sql:
    """Every statement the backend runs, for one schema."""

    def __init__(self, schema: str) -> None:
        s = S.quote_ident(schema)
        self.schema_q = s
        self.tables = _Tables(s)

        # --- group commit: lock what the batch reads
        self.advisory_locks = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS k"
        # Instances, then jobs, locked in one round trip: UNION ALL runs its branches in order,
        # which keeps the lock order (instances by id, then jobs by id) of every other path.
        self.lock_instances_and_jobs = (
            f"WITH li AS (SELECT i FROM {s}.instances i WHERE i.id = ANY($1::text[])"
            f" OR i.id IN (SELECT instance_id FROM {s}.jobs WHERE id = ANY($2::text[])) ORDER BY i.id FOR UPDATE),"
            f" lj AS (SELECT j FROM {s}.jobs j WHERE j.id = ANY($2::text[]) ORDER BY j.id FOR UPDATE)"
            f" SELECT li.i AS inst, NULL::{s}.jobs AS job, NULL::text AS x FROM li"
            f" UNION ALL SELECT NULL::{s}.instances, lj.j, NULL FROM lj"
        )
        self.read_instances_and_jobs = (
            f"SELECT i AS inst, NULL::{s}.jobs AS job, i.xmin::text AS x FROM {s}.instances i"
            f" WHERE i.id = ANY($1::text[]) OR i.id IN (SELECT instance_id FROM {s}.jobs WHERE id = ANY($2::text[]))"
            f" UNION ALL SELECT NULL::{s}.instances, j, j.xmin::text FROM {s}.jobs j WHERE j.id = ANY($2::text[])"
        )
        self.lock_messages = (
            f"SELECT m.* FROM {s}.messages m JOIN unnest($1::text[], $2::text[]) AS p(n, k)"
            " ON m.name = p.n AND m.correlation_key = p.k WHERE m.expires_at > $3 ORDER BY m.seq FOR UPDATE OF m"
        )
        # --- group commit: statements that must run before the batch's one write statement
        self.purge = [
            f"DELETE FROM {s}.events WHERE instance_id = ANY($1::text[])",
            f"DELETE FROM {s}.jobs WHERE instance_id = ANY($1::text[])",
            f"DELETE FROM {s}.timers WHERE instance_id = ANY($1::text[])",
            f"DELETE FROM {s}.subscriptions WHERE instance_id = ANY($1::text[])",
            f"DELETE FROM {s}.data WHERE owner_id = ANY($1::text[])",
            f"DELETE FROM {s}.instances WHERE id = ANY($1::text[])",
        ]
        self.delete_jobs = f"DELETE FROM {s}.jobs WHERE id = ANY($1::text[])"
        self.delete_data = f"DELETE FROM {s}.data WHERE id = ANY($1::text[])"
        ev_types = ("text", "int8", "text", "bytea", "text", "float8", "bool")
        self.insert_events = (
            f"INSERT INTO {s}.events (instance_id, seq, kind, data, ref, created_at, in_history)"
            f" SELECT * FROM {S.unnest_select(ev_types)}"
        )
        self.notify = "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p"

        # --- steps and jobs
        claim = (
            f"WITH c AS (SELECT id FROM {s}.instances WHERE inbox_seq > seen_seq AND step_expires <= $1 {{f}}"
            " LIMIT $2 FOR UPDATE SKIP LOCKED),"
            f" u AS (UPDATE {s}.instances i SET step_owner = $3, step_expires = $1 + $4::float8 FROM c"
            " WHERE i.id = c.id RETURNING i.*)"
            f" SELECT u.*, (SELECT array_agg(e ORDER BY e.seq) FROM {s}.events e"
            " WHERE e.instance_id = u.id AND NOT e.in_history) AS inbox FROM u"
        )
        self.claim_steps = claim.format(f="")
        self.claim_steps_engines = claim.format(f="AND engine = ANY($5::text[])")
        # Group lease: concurrent lease_jobs calls on the same queues share one statement; the
        # k-th job (in lease order) goes to slot k, whose owner / now / lease_for are $4/$5/$6[k].
        lease_set = (
            f" UPDATE {s}.jobs j SET status = 'LEASED', attempt = j.attempt + 1,"
            " lease_owner = ($4::text[])[c.rn],"
            " lease_expires = ($5::float8[])[c.rn] + coalesce(($6::float8[])[c.rn], j.timeout)"
            f" FROM c WHERE j.id = c.id RETURNING j.*, c.rn, {DURABLE} AS durable"
        )
        one = (
            "WITH c AS (SELECT id, row_number() OVER (ORDER BY {ox}) AS rn FROM"
            f" (SELECT id, priority, seq FROM {s}.jobs WHERE queue = $1 AND status = 'READY' AND not_before <= $2"
            " ORDER BY {o} LIMIT $3 FOR UPDATE SKIP LOCKED) AS x)"
        )
        many = (
            "WITH c AS (SELECT id, row_number() OVER (ORDER BY q.ord, {ox}) AS rn FROM unnest($1::text[])"
            " WITH ORDINALITY AS q(name, ord) CROSS JOIN LATERAL"
            f" (SELECT id, priority, seq FROM {s}.jobs WHERE queue = q.name AND status = 'READY'"
            " AND not_before <= $2 ORDER BY {o} LIMIT $3 FOR UPDATE SKIP LOCKED) AS x"
            " ORDER BY q.ord, {ox} LIMIT $3)"
        )
        self.lease_one_fifo = one.format(o="seq", ox="x.seq") + lease_set
        self.lease_one_prio = one.format(o="priority DESC, seq", ox="x.priority DESC, x.seq") + lease_set
        self.lease_many_fifo = many.format(o="seq", ox="x.seq") + lease_set
        self.lease_many_prio = many.format(o="priority DESC, seq", ox="x.priority DESC, x.seq") + lease_set
        self.lock_job = f"SELECT *, {DURABLE} FROM {s}.jobs WHERE id = $1 FOR UPDATE"
        self.update_job = (
            f"UPDATE {s}.jobs SET status = $2, retries = $3, lease_owner = $4, lease_expires = $5,"
            " not_before = $6 WHERE id = $1 RETURNING *"
        )

        # --- tick
        self.tick_ready = (
            f"SELECT DISTINCT queue FROM {s}.jobs WHERE status = 'READY' AND not_before > 0 AND not_before > $1"
            " AND not_before <= $2"
        )
        self.tick_lock_timer_instances = (
            f"SELECT id FROM {s}.instances WHERE id IN (SELECT instance_id FROM {s}.timers WHERE due_at <= $1"
            " ORDER BY due_at LIMIT $2) ORDER BY id FOR UPDATE SKIP LOCKED"
        )
        self.tick_fire_timers = (
            f"DELETE FROM {s}.timers WHERE instance_id = ANY($1::text[]) AND due_at <= $2"
            " RETURNING instance_id, key, due_at, kind, data, seq"
        )
        self.bump_inbox = (
            f"UPDATE {s}.instances i SET last_seq = i.last_seq + u.n, inbox_seq = i.last_seq + u.n"
            " FROM unnest($1::text[], $2::int8[]) AS u(id, n) WHERE i.id = u.id RETURNING i.id, i.last_seq"
        )
        self.tick_expire_jobs = (
            f"WITH x AS (SELECT id, lease_owner, lease_expires FROM {s}.jobs WHERE status = 'LEASED'"
            " AND lease_expires <= $1 ORDER BY lease_expires LIMIT $2 FOR UPDATE SKIP LOCKED)"
            f" UPDATE {s}.jobs j SET status = 'READY', lease_owner = '', lease_expires = 0 FROM x"
            " WHERE j.id = x.id RETURNING j.*, x.lease_owner AS old_owner, x.lease_expires AS old_expires"
        )
        self.tick_expire_steps = (
            f"WITH x AS (SELECT id FROM {s}.instances WHERE step_expires > 0 AND step_expires <= $1"
            f" FOR UPDATE SKIP LOCKED) UPDATE {s}.instances i SET step_owner = '', step_expires = 0 FROM x"
            " WHERE i.id = x.id RETURNING i.inbox_seq > i.seen_seq AS runnable"
        )
        self.tick_expire_messages = (
            f"DELETE FROM {s}.messages WHERE id IN (SELECT id FROM {s}.messages WHERE expires_at <= $1"
            " FOR UPDATE SKIP LOCKED)"
        )
        self.next_due = (
            f"SELECT least((SELECT min(due_at) FROM {s}.timers),"
            f" (SELECT min(not_before) FROM {s}.jobs WHERE status = 'READY' AND not_before > 0 AND not_before > $1),"
            f" (SELECT min(lease_expires) FROM {s}.jobs WHERE status = 'LEASED'),"
            f" (SELECT min(expires_at) FROM {s}.messages),"
            f" (SELECT min(step_expires) FROM {s}.instances WHERE step_expires > 0))"
        )

        # --- publish
        self.lock_one = f"SELECT pg_advisory_xact_lock($1), {DURABLE}"
        self.dedupe = (
            f"SELECT 1 FROM {s}.messages WHERE name = $1 AND correlation_key = $2 AND message_id = $3"
            " AND expires_at > $4 LIMIT 1"
        )
        self.subs_of = (
            f"SELECT instance_id, key, grp, kind FROM {s}.subscriptions WHERE name = $1 AND correlation_key = $2"
            " ORDER BY seq"
        )
        self.subs_of_locked = self.subs_of + " FOR UPDATE"
        self.lock_instance_ids = f"SELECT id FROM {s}.instances WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE"
        self.delete_sub_keys = (
            f"DELETE FROM {s}.subscriptions t USING unnest($1::text[], $2::text[]) AS k(i, key)"
            " WHERE t.instance_id = k.i AND t.key = k.key"
        )
        self.insert_message = (
            f"INSERT INTO {s}.messages (id, name, correlation_key, payload, content_type, message_id,"
            " expires_at, created_at, correlated_groups) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, correlation_key = EXCLUDED.correlation_key,"
            " payload = EXCLUDED.payload, content_type = EXCLUDED.content_type, message_id = EXCLUDED.message_id,"
            " expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at,"
            " correlated_groups = EXCLUDED.correlated_groups"
        )

        # --- reads
        self.get_instance = f"SELECT * FROM {s}.instances WHERE id = $1"
        self.history = (
            f"SELECT * FROM {s}.events WHERE instance_id = $1 AND in_history AND seq > $2 ORDER BY seq LIMIT $3"
        )
        self.inbox = f"SELECT * FROM {s}.events WHERE instance_id = $1 AND NOT in_history ORDER BY seq"
        self.get_job = f"SELECT * FROM {s}.jobs WHERE id = $1"
        self.list_jobs = f"SELECT * FROM {s}.jobs WHERE instance_id = $1 ORDER BY seq"
        self.queue_depths = f"SELECT queue, count(*) FROM {s}.jobs WHERE status = 'READY' GROUP BY queue"
        self.count_instances = f"SELECT engine, status, count(*) FROM {s}.instances GROUP BY engine, status"
        self.get_data = f"SELECT * FROM {s}.data WHERE id = $1"
        self.list_data = f"SELECT * FROM {s}.data WHERE owner_id = $1 ORDER BY id"
        self.subscriptions = f"SELECT * FROM {s}.subscriptions WHERE instance_id = $1 ORDER BY seq"
        self.timers = f"SELECT * FROM {s}.timers WHERE instance_id = $1 ORDER BY seq"
        self.instances_table = f"{s}.instances"


class _Tables:
    """Qualified table names, for statements built per batch."""

    def __init__(self, s: str) -> None:
        self.instances = f"{s}.instances"
        self.events = f"{s}.events"
        self.jobs = f"{s}.jobs"
        self.timers = f"{s}.timers"
        self.subs = f"{s}.subscriptions"
        self.subs_seq = f"{s}.subscriptions_seq_seq"
        self.messages = f"{s}.messages"
        self.data = f"{s}.data"
