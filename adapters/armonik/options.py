"""Task option merging and validation, as ArmoniK.Core does them.

Effective options = session defaults, then the request's options, then the creation's options.
Each later layer that is present:
- unions `options` (the later layer wins on a key);
- overrides `max_duration`, `max_retries`, `partition_id`, `application_*` and `engine_type` only
  with non-zero / non-empty values;
- always overrides `priority`, even with 0 (a per-task priority 0 is a real choice).
An empty partition after merging becomes the session's first partition.
"""

from __future__ import annotations

from gateway.errors import InvalidArgument

from .records import Options

_STRINGS = (
    "partition_id",
    "application_name",
    "application_version",
    "application_namespace",
    "application_service",
    "engine_type",
)


def merge(base: Options, *layers: Options | None) -> Options:
    """Merge option layers onto `base` (which is not modified); None layers are absent."""
    out = base.copy()
    for layer in layers:
        if layer is None:
            continue
        out.options.update(layer.options)
        if layer.max_duration:
            out.max_duration = layer.max_duration
        if layer.max_retries:
            out.max_retries = layer.max_retries
        out.priority = layer.priority
        for name in _STRINGS:
            value = getattr(layer, name)
            if value:
                setattr(out, name, value)
    return out


def for_task(session_options: Options, session_partitions: list[str], *layers: Options | None) -> Options:
    """The effective options of a new task; InvalidArgument if they are not valid for a task."""
    out = merge(session_options, *layers)
    if not out.partition_id and session_partitions:
        out.partition_id = session_partitions[0]
    validate_task(out)
    if out.partition_id not in session_partitions:
        raise InvalidArgument(
            f"partition {out.partition_id!r} is not one of the session's partitions {session_partitions}"
        )
    return out


def validate_task(o: Options) -> None:
    if o.max_retries < 0:
        raise InvalidArgument(f"task option max_retries must be >= 0, got {o.max_retries}")
    if not 0 <= o.priority <= 99:
        raise InvalidArgument(f"task option priority must be in [0, 99], got {o.priority}")
    if o.max_duration <= 0:
        raise InvalidArgument("task option max_duration is required and must be positive")


def validate_session(o: Options) -> None:
    """Session defaults are stricter than a task's: at least one retry and a priority of 1..99."""
    if o.max_duration <= 0:
        raise InvalidArgument("session default_task_option.max_duration is required and must be positive")
    if o.max_retries < 1:
        raise InvalidArgument(f"session default_task_option.max_retries must be >= 1, got {o.max_retries}")
    if not 1 <= o.priority <= 99:
        raise InvalidArgument(f"session default_task_option.priority must be in [1, 99], got {o.priority}")
