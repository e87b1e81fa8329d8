"""Records <-> wire messages. The only place besides the servicers that touches `_pb`."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from ._pb import objects_pb2, results_common_pb2, sessions_common_pb2, tasks_common_pb2
from .records import Options, ResultRec, SessionMeta, TaskRec


def ts(t: float) -> Timestamp | None:
    if not t:
        return None
    out = Timestamp()
    out.FromNanoseconds(round(t * 1e9))
    return out


def dur(seconds: float) -> Duration:
    out = Duration()
    out.FromNanoseconds(round(seconds * 1e9))
    return out


def options_from_pb(o: objects_pb2.TaskOptions) -> Options:
    return Options(
        options=dict(o.options),
        max_duration=o.max_duration.ToNanoseconds() / 1e9 if o.HasField("max_duration") else 0.0,
        max_retries=o.max_retries,
        priority=o.priority,
        partition_id=o.partition_id,
        application_name=o.application_name,
        application_version=o.application_version,
        application_namespace=o.application_namespace,
        application_service=o.application_service,
        engine_type=o.engine_type,
    )


def options_to_pb(o: Options) -> objects_pb2.TaskOptions:
    return objects_pb2.TaskOptions(
        options=o.options,
        max_duration=dur(o.max_duration),
        max_retries=o.max_retries,
        priority=o.priority,
        partition_id=o.partition_id,
        application_name=o.application_name,
        application_version=o.application_version,
        application_namespace=o.application_namespace,
        application_service=o.application_service,
        engine_type=o.engine_type,
    )


def session_to_pb(m: SessionMeta, now: float, with_options: bool = True) -> sessions_common_pb2.SessionRaw:
    end = m.cancelled_at or m.closed_at or m.purged_at or m.deleted_at
    raw = sessions_common_pb2.SessionRaw(
        session_id=m.id,
        status=int(m.status),  # type: ignore[arg-type]
        partition_ids=m.partition_ids,
        created_at=ts(m.created_at),
        cancelled_at=ts(m.cancelled_at),
        closed_at=ts(m.closed_at),
        purged_at=ts(m.purged_at),
        deleted_at=ts(m.deleted_at),
        client_submission=m.client_submission,
        worker_submission=m.worker_submission,
        duration=dur((end or now) - m.created_at) if end else None,
    )
    if with_options:
        raw.options.CopyFrom(options_to_pb(m.options))
    return raw


def result_to_pb(r: ResultRec) -> results_common_pb2.ResultRaw:
    return results_common_pb2.ResultRaw(
        session_id=r.session_id,
        name=r.name,
        owner_task_id=r.owner_task_id,
        status=int(r.status),  # type: ignore[arg-type]
        created_at=ts(r.created_at),
        completed_at=ts(r.completed_at),
        result_id=r.id,
        size=r.size,
        created_by=r.created_by,
        opaque_id=bytes.fromhex(r.opaque_id),
        manual_deletion=r.manual_deletion,
    )


def _durations(t: TaskRec) -> dict[str, Duration | None]:
    end = t.ended_at
    return {
        "creation_to_end_duration": dur(end - t.created_at) if end and t.created_at else None,
        "processing_to_end_duration": dur(end - t.started_at) if end and t.started_at else None,
        "received_to_end_duration": dur(end - t.received_at) if end and t.received_at else None,
    }


def _times(t: TaskRec) -> dict[str, Timestamp | None]:
    return {
        name: ts(getattr(t, name))
        for name in ("created_at", "submitted_at", "received_at", "acquired_at", "fetched_at", "started_at",
                     "processed_at", "ended_at")
    }


def task_detailed(t: TaskRec) -> tasks_common_pb2.TaskDetailed:
    return tasks_common_pb2.TaskDetailed(
        id=t.id,
        session_id=t.session_id,
        owner_pod_id=t.owner_pod_id,
        initial_task_id=t.initial_task_id,
        parent_task_ids=t.parent_task_ids,
        data_dependencies=t.data_dependencies,
        expected_output_ids=t.expected_output_ids,
        retry_of_ids=t.retry_of_ids,
        status=int(t.status),  # type: ignore[arg-type]
        status_message=t.status_message,
        options=options_to_pb(t.options),
        output=tasks_common_pb2.TaskDetailed.Output(success=t.output_success, error=t.output_error),
        pod_hostname=t.pod_hostname,
        payload_id=t.payload_id,
        created_by=t.created_by,
        **_times(t),
        **_durations(t),
    )


def task_summary(t: TaskRec, with_errors: bool = True) -> tasks_common_pb2.TaskSummary:
    return tasks_common_pb2.TaskSummary(
        id=t.id,
        session_id=t.session_id,
        owner_pod_id=t.owner_pod_id,
        initial_task_id=t.initial_task_id,
        count_parent_task_ids=len(t.parent_task_ids),
        count_data_dependencies=len(t.data_dependencies),
        count_expected_output_ids=len(t.expected_output_ids),
        count_retry_of_ids=len(t.retry_of_ids),
        status=int(t.status),  # type: ignore[arg-type]
        status_message=t.status_message,
        options=options_to_pb(t.options),
        error=t.output_error if with_errors else "",
        pod_hostname=t.pod_hostname,
        payload_id=t.payload_id,
        created_by=t.created_by,
        **_times(t),
        **_durations(t),
    )
