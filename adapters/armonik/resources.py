"""How each listable resource reads a filter/sort field (`*Field` message) from its record."""

from __future__ import annotations

from typing import Any

from gateway.errors import InvalidArgument

from .filters import Getter, attr_getter, generic_option_getter, option_getter
from .records import Session, SessionMeta, TaskRec

_TASK_ATTRS = {
    1: "session_id", 2: "status", 3: "created_at", 4: "started_at", 5: "ended_at", 8: "output_error",
    9: "owner_pod_id", 10: "initial_task_id", 11: "submitted_at", 13: "pod_hostname", 14: "received_at",
    15: "acquired_at", 16: "id", 17: "processed_at", 19: "fetched_at", 20: "payload_id", 21: "created_by",
}
_RESULT_ATTRS = {
    1: "session_id", 2: "name", 3: "owner_task_id", 4: "status", 5: "created_at", 6: "completed_at",
    7: "id", 8: "size", 9: "created_by", 10: "opaque_id", 11: "manual_deletion",
}
_SESSION_ATTRS = {
    1: "id", 2: "status", 3: "partition_ids", 5: "created_at", 6: "cancelled_at", 8: "closed_at",
    9: "purged_at", 10: "deleted_at", 11: "worker_submission", 12: "client_submission",
}
_PARTITION_ATTRS = {
    1: "id", 2: "parent_partition_ids", 3: "pod_reserved", 4: "pod_max", 5: "preemption_percentage", 6: "priority",
}
_APPLICATION_ATTRS = {1: "name", 2: "version", 3: "namespace", 4: "service"}


def _span(start: str, end: str = "ended_at") -> Getter:
    def get(rec: Any) -> float | None:
        a, b = getattr(rec, start), getattr(rec, end)
        return b - a if a and b else None

    return get


def task_field(field: Any) -> Getter:
    kind = field.WhichOneof("field")
    if kind == "task_summary_field":
        n = field.task_summary_field.field
        spans = {6: "created_at", 7: "started_at", 18: "received_at"}
        if n in spans:
            return _span(spans[n])
        if n == 12:  # pod_ttl: not tracked
            return lambda rec: None
        return attr_getter(_TASK_ATTRS, n, "task")
    if kind == "task_option_field":
        return option_getter(field.task_option_field.field, _task_options)
    if kind == "task_option_generic_field":
        return generic_option_getter(field.task_option_generic_field.field, _task_options)
    raise InvalidArgument("task field not set")


def _task_options(rec: TaskRec) -> Any:
    return rec.options


def result_field(field: Any) -> Getter:
    if field.WhichOneof("field") != "result_raw_field":
        raise InvalidArgument("result field not set")
    return attr_getter(_RESULT_ATTRS, field.result_raw_field.field, "result")


def session_field(field: Any) -> Getter:
    """Getters over `Session` objects (their `meta`)."""
    kind = field.WhichOneof("field")
    if kind == "session_raw_field":
        n = field.session_raw_field.field
        if n == 7:
            return lambda s: _session_duration(s.meta)
        if n == 4:
            raise InvalidArgument("sessions cannot be filtered or sorted on the whole options")
        inner = attr_getter(_SESSION_ATTRS, n, "session")
        return lambda s: inner(s.meta)
    if kind == "task_option_field":
        return option_getter(field.task_option_field.field, _session_options)
    if kind == "task_option_generic_field":
        return generic_option_getter(field.task_option_generic_field.field, _session_options)
    raise InvalidArgument("session field not set")


def _session_options(s: Session) -> Any:
    return s.meta.options


def _session_duration(m: SessionMeta) -> float | None:
    end = m.cancelled_at or m.closed_at or m.purged_at or m.deleted_at
    return end - m.created_at if end else None


def partition_field(field: Any) -> Getter:
    if field.WhichOneof("field") != "partition_raw_field":
        raise InvalidArgument("partition field not set")
    return attr_getter(_PARTITION_ATTRS, field.partition_raw_field.field, "partition")


def application_field(field: Any) -> Getter:
    if field.WhichOneof("field") != "application_field":
        raise InvalidArgument("application field not set")
    return attr_getter(_APPLICATION_ATTRS, field.application_field.field, "application")
