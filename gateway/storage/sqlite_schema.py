"""SQLite schema and row codecs for `gateway.storage.sqlite`.

One table per kind of row the memory engine marks (see `gateway.storage.memory`), plus `meta` with
the schema version. Rows are plain tuples built by hand from the dataclasses (no `asdict`): this is
the hot path of every batch. Dicts are JSON only when non-empty ("" otherwise), enums are their
text values, payloads are (bytes, content type) column pairs; which optional instance fields are
set is the `present` bitmask (see `_E` for why not NULL). Events carry `in_history` as it was when
written; an inbox event at or below its instance's `consumed_seq` has since moved to the history.
"""

from __future__ import annotations

import json
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

SCHEMA_VERSION = 1

# The hot tables (instances, events, jobs, timers, data) are WITHOUT ROWID: their primary key is the
# B-tree key, so an upsert or delete touches one B-tree instead of a rowid table plus a unique index.
# Subscriptions and messages keep a rowid because their load order (rowid) is the memory engine's
# "oldest first" correlation order.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS instances (
    id TEXT PRIMARY KEY, engine TEXT NOT NULL, definition TEXT NOT NULL, version TEXT NOT NULL,
    status TEXT NOT NULL, present INTEGER NOT NULL, input BLOB, input_type TEXT, output BLOB,
    output_type TEXT, failure_message TEXT, failure_kind TEXT, failure_details BLOB,
    custom_status BLOB, custom_status_type TEXT, parent_id TEXT, execution_id TEXT NOT NULL,
    state BLOB NOT NULL, tags TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    completed_at REAL NOT NULL, last_seq INTEGER NOT NULL, inbox_seq INTEGER NOT NULL,
    seen_seq INTEGER NOT NULL, consumed_seq INTEGER NOT NULL, revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    instance_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, data BLOB NOT NULL,
    ref TEXT NOT NULL, created_at REAL NOT NULL, in_history INTEGER NOT NULL,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, queue TEXT NOT NULL, kind TEXT NOT NULL,
    payload BLOB NOT NULL, payload_type TEXT NOT NULL, headers TEXT NOT NULL, priority INTEGER NOT NULL,
    not_before REAL NOT NULL, attempt INTEGER NOT NULL, retries ANY, timeout REAL NOT NULL,
    status TEXT NOT NULL, lease_owner TEXT NOT NULL, lease_expires REAL NOT NULL,
    origin TEXT NOT NULL, executor TEXT NOT NULL, created_at REAL NOT NULL, seq INTEGER NOT NULL,
    on_complete TEXT NOT NULL, on_fail TEXT NOT NULL, last_error TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (
    instance_id TEXT NOT NULL, key TEXT NOT NULL, due_at REAL NOT NULL, kind TEXT NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (instance_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (
    instance_id TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, correlation_key TEXT NOT NULL,
    grp TEXT NOT NULL, kind TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (instance_id, key)
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, correlation_key TEXT NOT NULL, payload BLOB NOT NULL,
    payload_type TEXT NOT NULL, message_id TEXT NOT NULL, expires_at REAL NOT NULL,
    created_at REAL NOT NULL, correlated_groups TEXT
);
CREATE TABLE IF NOT EXISTS data_objects (
    id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, status TEXT NOT NULL, payload BLOB,
    payload_type TEXT, meta TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL
) WITHOUT ROWID;
"""

# Precomputed statements (the sqlite3 statement cache keys on the text, so they are prepared once).
UPSERT_INSTANCE = "INSERT OR REPLACE INTO instances VALUES (" + ",".join("?" * 27) + ")"
DELETE_INSTANCE = "DELETE FROM instances WHERE id = ?"
UPSERT_EVENT = "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?)"
DELETE_EVENT = "DELETE FROM events WHERE instance_id = ? AND seq = ?"
DELETE_EVENTS_OF = "DELETE FROM events WHERE instance_id = ?"
UPSERT_JOB = "INSERT OR REPLACE INTO jobs VALUES (" + ",".join("?" * 22) + ")"
DELETE_JOB = "DELETE FROM jobs WHERE id = ?"
UPSERT_TIMER = "INSERT OR REPLACE INTO timers VALUES (?,?,?,?,?)"
DELETE_TIMER = "DELETE FROM timers WHERE instance_id = ? AND key = ?"
# REPLACE gives a re-opened subscription a new rowid, i.e. moves it to the end like the memory index.
UPSERT_SUB = "INSERT OR REPLACE INTO subscriptions VALUES (?,?,?,?,?,?,?)"
DELETE_SUB = "DELETE FROM subscriptions WHERE instance_id = ? AND key = ?"
# A message is re-marked when its correlated groups change: keep its rowid (its age) then.
UPSERT_MESSAGE = (
    "INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
    "name=excluded.name, correlation_key=excluded.correlation_key, payload=excluded.payload, "
    "payload_type=excluded.payload_type, message_id=excluded.message_id, expires_at=excluded.expires_at, "
    "created_at=excluded.created_at, correlated_groups=excluded.correlated_groups"
)
DELETE_MESSAGE = "DELETE FROM messages WHERE id = ?"
UPSERT_DATA = "INSERT OR REPLACE INTO data_objects VALUES (?,?,?,?,?,?,?,?)"
DELETE_DATA = "DELETE FROM data_objects WHERE id = ?"

_dumps = json.dumps
#: Bound in place of an absent value. Python 3.11's sqlite3 binds exact int/float/str/bytearray
#: directly but sends None and bytes through its adapter lookup, which costs ~0.6-1 us per value
#: (measured: a 25-column instance row went from ~10 us to ~4 us). So hot rows bind only exact
#: types: bytes as bytearray, absent optional values as "" with a `present` bitmask (instances)
#: or "" in a column without affinity (job retries, headers). Loading maps them back exactly.
_E = ""
# Exact `str` values of the enums: sqlite3 binds exact builtin types without its adaptation lookup.
_ISTATUS = {s: s.value for s in InstanceStatus}
_JSTATUS = {s: s.value for s in JobStatus}


def instance_row(i: Instance, consumed_seq: int) -> tuple[Any, ...]:
    inp, out, fail, cs = i.input, i.output, i.failure, i.custom_status
    present = (
        (inp is not None) | (out is not None) << 1 | (fail is not None) << 2 | (cs is not None) << 3
        | (i.parent_id is not None) << 4
    )  # fmt: skip
    return (
        i.id, i.engine, i.definition, i.version, _ISTATUS[i.status], present,
        _E if inp is None else bytearray(inp.data), _E if inp is None else inp.content_type,
        _E if out is None else bytearray(out.data), _E if out is None else out.content_type,
        _E if fail is None else fail.message, _E if fail is None else fail.kind,
        _E if fail is None else bytearray(fail.details),
        _E if cs is None else bytearray(cs.data), _E if cs is None else cs.content_type,
        i.parent_id or _E, i.execution_id, bytearray(i.state), _dumps(i.tags) if i.tags else _E,
        i.created_at, i.updated_at, i.completed_at, i.last_seq, i.inbox_seq, i.seen_seq, consumed_seq,
        i.revision,
    )  # fmt: skip


def event_row(e: Event) -> tuple[Any, ...]:
    return (e.instance_id, e.seq, e.kind, bytearray(e.data), e.ref, e.created_at, 1 if e.in_history else 0)


def job_row(j: Job) -> tuple[Any, ...]:
    p = j.payload
    return (
        j.id, j.instance_id, j.queue, j.kind, bytearray(p.data), p.content_type,
        _dumps(j.headers) if j.headers else _E, j.priority, j.not_before, j.attempt,
        _E if j.retries is None else j.retries, j.timeout, _JSTATUS[j.status], j.lease_owner,
        j.lease_expires, j.origin, j.executor, j.created_at, j.seq, j.on_complete, j.on_fail, j.last_error,
    )  # fmt: skip


def timer_row(t: Timer) -> tuple[Any, ...]:
    return (t.instance_id, t.key, t.due_at, t.kind, bytearray(t.data))


def sub_row(s: Subscription) -> tuple[Any, ...]:
    return (s.instance_id, s.key, s.name, s.correlation_key, s.group, s.kind, s.created_at)


def message_row(m: Message) -> tuple[Any, ...]:
    groups = _dumps(sorted(m.correlated_groups)) if m.correlated_groups else None
    p = m.payload
    return (
        m.id, m.name, m.correlation_key, bytearray(p.data), p.content_type, m.message_id, m.expires_at,
        m.created_at, groups,
    )  # fmt: skip


def data_row(d: DataObject) -> tuple[Any, ...]:
    p = d.payload
    return (
        d.id, d.owner_id, d.status, None if p is None else bytearray(p.data), None if p is None else p.content_type,
        _dumps(d.meta) if d.meta else None, d.created_at, d.updated_at,
    )  # fmt: skip


# ----------------------------------------------------------------------------------- decoding (load)


def _payload(data: bytes | None, content_type: str | None) -> Payload | None:
    return None if data is None else Payload(bytes(data), content_type or "")


def decode_instance(r: Any) -> tuple[Instance, int]:
    """The instance and its consumed_seq (inbox events up to it were moved to the history)."""
    present = r[5]
    inst = Instance(
        id=r[0], engine=r[1], definition=r[2], version=r[3], status=InstanceStatus(r[4]),
        input=Payload(bytes(r[6]), r[7]) if present & 1 else None,
        output=Payload(bytes(r[8]), r[9]) if present & 2 else None,
        failure=Failure(r[10], r[11], bytes(r[12])) if present & 4 else None,
        custom_status=Payload(bytes(r[13]), r[14]) if present & 8 else None,
        parent_id=r[15] if present & 16 else None, execution_id=r[16], state=bytes(r[17]),
        tags=json.loads(r[18]) if r[18] else {}, created_at=r[19], updated_at=r[20],
        completed_at=r[21], last_seq=r[22], inbox_seq=r[23], seen_seq=r[24], revision=r[26],
    )  # fmt: skip
    return inst, r[25]


def decode_event(r: Any) -> Event:
    return Event(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], bool(r[6]))


def decode_job(r: Any) -> Job:
    return Job(
        id=r[0], instance_id=r[1], queue=r[2], kind=r[3], payload=Payload(bytes(r[4]), r[5]),
        headers=json.loads(r[6]) if r[6] else {}, priority=r[7], not_before=r[8], attempt=r[9],
        retries=None if r[10] == "" else r[10], timeout=r[11], status=JobStatus(r[12]), lease_owner=r[13],
        lease_expires=r[14],
        origin=r[15], executor=r[16], created_at=r[17], seq=r[18], on_complete=r[19], on_fail=r[20],
        last_error=r[21],
    )  # fmt: skip


def decode_timer(r: Any) -> Timer:
    return Timer(r[0], r[1], r[2], r[3], bytes(r[4]))


def decode_sub(r: Any) -> Subscription:
    return Subscription(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


def decode_message(r: Any) -> Message:
    return Message(
        r[0], r[1], r[2], Payload(bytes(r[3]), r[4]), r[5], r[6], r[7],
        frozenset(json.loads(r[8])) if r[8] else frozenset(),
    )  # fmt: skip


def decode_data(r: Any) -> DataObject:
    return DataObject(r[0], r[1], r[2], _payload(r[3], r[4]), json.loads(r[5]) if r[5] else {}, r[6], r[7])
