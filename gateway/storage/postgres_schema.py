"""DDL of the PostgreSQL backend and the row <-> model conversions shared by its modules.

Every table lives in the configured schema; `ddl(schema)` is idempotent (CREATE ... IF NOT EXISTS)
and is run by `PostgresStorage.open()` under an advisory lock so that replicas starting together do
not race on the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gateway.model import (
    DataObject,
    Event,
    Failure,
    Instance,
    InstanceStatus,
    Job,
    JobStatus,
    Message,
    Payload,
    Subscription,
    Timer,
)

SCHEMA_VERSION = "1"

_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.instances (
    id text PRIMARY KEY,
    engine text NOT NULL,
    definition text NOT NULL,
    version text NOT NULL,
    status text NOT NULL,
    input bytea, input_type text,
    output bytea, output_type text,
    failure_message text, failure_kind text, failure_details bytea,
    custom_status bytea, custom_status_type text,
    parent_id text,
    execution_id text NOT NULL,
    state bytea NOT NULL,
    tags jsonb NOT NULL,
    created_at float8 NOT NULL,
    updated_at float8 NOT NULL,
    completed_at float8 NOT NULL,
    last_seq bigint NOT NULL,
    inbox_seq bigint NOT NULL,
    seen_seq bigint NOT NULL,
    step_owner text NOT NULL,
    step_expires float8 NOT NULL,
    revision bigint NOT NULL
);
-- claim_steps scans only runnable instances.
CREATE INDEX IF NOT EXISTS instances_runnable ON {s}.instances (id) WHERE inbox_seq > seen_seq;
CREATE INDEX IF NOT EXISTS instances_step_lease ON {s}.instances (step_expires) WHERE step_expires > 0;
CREATE INDEX IF NOT EXISTS instances_parent ON {s}.instances (parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS {s}.events (
    instance_id text NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL,
    data bytea NOT NULL,
    ref text NOT NULL,
    created_at float8 NOT NULL,
    in_history boolean NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE SEQUENCE IF NOT EXISTS {s}.job_seq;
CREATE TABLE IF NOT EXISTS {s}.jobs (
    id text PRIMARY KEY,
    instance_id text NOT NULL,
    queue text NOT NULL,
    kind text NOT NULL,
    payload bytea NOT NULL,
    content_type text NOT NULL,
    headers jsonb NOT NULL,
    priority integer NOT NULL,
    not_before float8 NOT NULL,
    attempt integer NOT NULL,
    retries integer,
    timeout float8 NOT NULL,
    status text NOT NULL,
    lease_owner text NOT NULL,
    lease_expires float8 NOT NULL,
    origin text NOT NULL,
    executor text NOT NULL,
    created_at float8 NOT NULL,
    seq bigint NOT NULL DEFAULT nextval('{s}.job_seq'),
    on_complete text NOT NULL,
    on_fail text NOT NULL,
    last_error text NOT NULL
);
-- lease_jobs: FIFO and priority claims are served by these partial indexes.
CREATE INDEX IF NOT EXISTS jobs_ready_fifo ON {s}.jobs (queue, seq) WHERE status = 'READY';
CREATE INDEX IF NOT EXISTS jobs_ready_prio ON {s}.jobs (queue, priority DESC, seq) WHERE status = 'READY';
-- Only delayed jobs (not_before > 0) are indexed for tick(): most jobs never have one.
CREATE INDEX IF NOT EXISTS jobs_delayed ON {s}.jobs (not_before) WHERE status = 'READY' AND not_before > 0;
CREATE INDEX IF NOT EXISTS jobs_leased ON {s}.jobs (lease_expires) WHERE status = 'LEASED';
CREATE INDEX IF NOT EXISTS jobs_instance ON {s}.jobs (instance_id);
CREATE TABLE IF NOT EXISTS {s}.timers (
    instance_id text NOT NULL,
    key text NOT NULL,
    due_at float8 NOT NULL,
    kind text NOT NULL,
    data bytea NOT NULL,
    seq bigserial,
    PRIMARY KEY (instance_id, key)
);
CREATE INDEX IF NOT EXISTS timers_due ON {s}.timers (due_at);
CREATE TABLE IF NOT EXISTS {s}.subscriptions (
    instance_id text NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    correlation_key text NOT NULL,
    grp text NOT NULL,
    kind text NOT NULL,
    created_at float8 NOT NULL,
    seq bigserial,
    PRIMARY KEY (instance_id, key)
);
CREATE INDEX IF NOT EXISTS subscriptions_name ON {s}.subscriptions (name, correlation_key, seq);
CREATE TABLE IF NOT EXISTS {s}.messages (
    id text PRIMARY KEY,
    name text NOT NULL,
    correlation_key text NOT NULL,
    payload bytea NOT NULL,
    content_type text NOT NULL,
    message_id text NOT NULL,
    expires_at float8 NOT NULL,
    created_at float8 NOT NULL,
    correlated_groups jsonb NOT NULL,
    seq bigserial
);
CREATE INDEX IF NOT EXISTS messages_name ON {s}.messages (name, correlation_key, seq);
CREATE INDEX IF NOT EXISTS messages_expiry ON {s}.messages (expires_at);
CREATE TABLE IF NOT EXISTS {s}.data (
    id text PRIMARY KEY,
    owner_id text NOT NULL,
    status text NOT NULL,
    payload bytea,
    content_type text,
    meta jsonb NOT NULL,
    created_at float8 NOT NULL,
    updated_at float8 NOT NULL
);
CREATE INDEX IF NOT EXISTS data_owner ON {s}.data (owner_id);
INSERT INTO {s}.meta (key, value) VALUES ('schema_version', '{v}') ON CONFLICT (key) DO NOTHING;
"""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ddl(schema: str) -> str:
    return _DDL.format(s=quote_ident(schema), v=SCHEMA_VERSION)


def channel_name(schema: str) -> str:
    """The LISTEN/NOTIFY channel of a schema (identifiers are limited to 63 bytes)."""
    return f"gw_{schema}"[:63]


# ---------------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------------

INSTANCE_COLS = (
    "id", "engine", "definition", "version", "status", "input", "input_type", "output", "output_type",
    "failure_message", "failure_kind", "failure_details", "custom_status", "custom_status_type",
    "parent_id", "execution_id", "state", "tags", "created_at", "updated_at", "completed_at",
    "last_seq", "inbox_seq", "seen_seq", "step_owner", "step_expires", "revision",
)  # fmt: skip
INSTANCE_TYPES = (
    "text", "text", "text", "text", "text", "bytea", "text", "bytea", "text",
    "text", "text", "bytea", "bytea", "text",
    "text", "text", "bytea", "jsonb", "float8", "float8", "float8",
    "int8", "int8", "int8", "text", "float8", "int8",
)  # fmt: skip


def _pl(p: Payload | None) -> tuple[bytes | None, str | None]:
    return (None, None) if p is None else (p.data, p.content_type)


def _payload(data: bytes | None, ctype: str | None) -> Payload | None:
    return None if data is None else Payload(data, ctype or "")


def dumps(m: Mapping[str, Any]) -> str:
    return json.dumps(m, separators=(",", ":")) if m else "{}"


def loads(text: str) -> Any:
    # Most tags / headers / meta are empty: skip the JSON parser for them.
    return {} if text == "{}" else json.loads(text)


def dumps_list(items: Iterable[str]) -> str:
    return json.dumps(sorted(items), separators=(",", ":"))


payload_cols = _pl


def instance_tuple(i: Instance) -> tuple[Any, ...]:
    f = i.failure
    return (
        i.id, i.engine, i.definition, i.version, i.status.value, *_pl(i.input), *_pl(i.output),
        None if f is None else f.message, None if f is None else f.kind, None if f is None else f.details,
        *_pl(i.custom_status), i.parent_id, i.execution_id, i.state, dumps(i.tags),
        i.created_at, i.updated_at, i.completed_at, i.last_seq, i.inbox_seq, i.seen_seq,
        i.step_owner, i.step_expires, i.revision,
    )  # fmt: skip


def instance_from(r: Any) -> Instance:
    fm = r["failure_message"]
    return Instance(
        id=r["id"],
        engine=r["engine"],
        definition=r["definition"],
        version=r["version"],
        status=InstanceStatus(r["status"]),
        input=_payload(r["input"], r["input_type"]),
        output=_payload(r["output"], r["output_type"]),
        failure=None if fm is None else Failure(fm, r["failure_kind"] or "", r["failure_details"] or b""),
        custom_status=_payload(r["custom_status"], r["custom_status_type"]),
        parent_id=r["parent_id"],
        execution_id=r["execution_id"],
        state=r["state"],
        tags=loads(r["tags"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        completed_at=r["completed_at"],
        last_seq=r["last_seq"],
        inbox_seq=r["inbox_seq"],
        seen_seq=r["seen_seq"],
        step_owner=r["step_owner"],
        step_expires=r["step_expires"],
        revision=r["revision"],
    )


# ---------------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------------

# Without `seq`: the sequence assigns it on insert.
JOB_COLS = (
    "id", "instance_id", "queue", "kind", "payload", "content_type", "headers", "priority", "not_before",
    "attempt", "retries", "timeout", "status", "lease_owner", "lease_expires", "origin", "executor",
    "created_at", "on_complete", "on_fail", "last_error",
)  # fmt: skip
JOB_TYPES = (
    "text", "text", "text", "text", "bytea", "text", "jsonb", "int4", "float8",
    "int4", "int4", "float8", "text", "text", "float8", "text", "text",
    "float8", "text", "text", "text",
)  # fmt: skip


def job_tuple(j: Job) -> tuple[Any, ...]:
    return (
        j.id, j.instance_id, j.queue, j.kind, j.payload.data, j.payload.content_type, dumps(j.headers),
        j.priority, j.not_before, j.attempt, j.retries, j.timeout, j.status.value, j.lease_owner,
        j.lease_expires, j.origin, j.executor, j.created_at, j.on_complete, j.on_fail, j.last_error,
    )  # fmt: skip


def job_from(r: Any) -> Job:
    return Job(
        id=r["id"],
        instance_id=r["instance_id"],
        queue=r["queue"],
        kind=r["kind"],
        payload=Payload(r["payload"], r["content_type"]),
        headers=loads(r["headers"]),
        priority=r["priority"],
        not_before=r["not_before"],
        attempt=r["attempt"],
        retries=r["retries"],
        timeout=r["timeout"],
        status=JobStatus(r["status"]),
        lease_owner=r["lease_owner"],
        lease_expires=r["lease_expires"],
        origin=r["origin"],
        executor=r["executor"],
        created_at=r["created_at"],
        seq=r["seq"],
        on_complete=r["on_complete"],
        on_fail=r["on_fail"],
        last_error=r["last_error"],
    )


# ---------------------------------------------------------------------------------------------
# The rest
# ---------------------------------------------------------------------------------------------


def event_from(r: Any) -> Event:
    return Event(r["instance_id"], r["seq"], r["kind"], r["data"], r["ref"], r["created_at"], r["in_history"])


def timer_from(r: Any) -> Timer:
    return Timer(r["instance_id"], r["key"], r["due_at"], r["kind"], r["data"])


def subscription_from(r: Any) -> Subscription:
    return Subscription(
        r["instance_id"], r["key"], r["name"], r["correlation_key"], r["grp"], r["kind"], r["created_at"]
    )


def message_from(r: Any) -> Message:
    return Message(
        id=r["id"],
        name=r["name"],
        correlation_key=r["correlation_key"],
        payload=Payload(r["payload"], r["content_type"]),
        message_id=r["message_id"],
        expires_at=r["expires_at"],
        created_at=r["created_at"],
        correlated_groups=frozenset(json.loads(r["correlated_groups"])),
    )


def data_from(r: Any) -> DataObject:
    return DataObject(
        id=r["id"],
        owner_id=r["owner_id"],
        status=r["status"],
        payload=_payload(r["payload"], r["content_type"]),
        meta=loads(r["meta"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Transpose row tuples into one list per column, for `unnest($1::t[], $2::t[], ...)`."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(c) for c in zip(*rows, strict=True)]


def unnest_select(types: Sequence[str], start: int = 1) -> str:
    return "unnest(" + ", ".join(f"${start + k}::{t}[]" for k, t in enumerate(types)) + ")"

