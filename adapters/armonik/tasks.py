"""The Tasks service: submission (client side), reads, listing, counting, cancellation."""

from __future__ import annotations

from collections import Counter
from typing import Any

import grpc

from gateway.errors import FailedPrecondition, NotFound

from . import graph
from ._pb import objects_pb2, tasks_service_pb2_grpc
from ._pb import tasks_common_pb2 as pb
from .convert import options_from_pb, task_detailed, task_summary
from .errors import guard
from .filters import compile_filters, equal_values, page, sort_spec
from .options import for_task
from .plane import Plane, require_open
from .records import QUEUED_TASK, Session, TaskRec, TaskStatus
from .resources import task_field
from .store import Tx, iter_sessions


def _is_session_id(field: Any) -> bool:
    return field.WhichOneof("field") == "task_summary_field" and field.task_summary_field.field == 1


def new_tasks(tx: Tx, request: Any, buffered: set[str] | None = None) -> list[graph.NewTask]:
    """Validate a SubmitTasks request (client or agent) into task specs; refuses it as a whole."""
    m = tx.get_meta()
    layer = options_from_pb(request.task_options) if request.HasField("task_options") else None
    specs = []
    for c in request.task_creations:
        opts = for_task(m.options, m.partition_ids, layer,
                        options_from_pb(c.task_options) if c.HasField("task_options") else None)
        graph.check_inputs(tx, [c.payload_id, *c.data_dependencies], buffered)
        graph.check_outputs(tx, c.expected_output_keys, buffered)
        specs.append(graph.NewTask(options=opts, payload_id=c.payload_id,
                                   data_dependencies=list(c.data_dependencies),
                                   expected_output_ids=list(c.expected_output_keys)))
    return specs


class TasksServicer(tasks_service_pb2_grpc.TasksServicer):
    def __init__(self, plane: Plane) -> None:
        self.p = plane

    @guard
    async def SubmitTasks(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        s = self.p.store.session(request.session_id)
        require_open(s, "submit tasks")
        if not s.meta.client_submission:
            raise FailedPrecondition(f"session {s.meta.id}: client submission closed")

        def change(tx: Tx) -> list[TaskRec]:
            return [graph.create_task(tx, spec) for spec in new_tasks(tx, request)]

        created = await self.p.store.change(s, change)
        return pb.SubmitTasksResponse(task_infos=[
            pb.SubmitTasksResponse.TaskInfo(task_id=t.id, expected_output_ids=t.expected_output_ids,
                                            data_dependencies=t.data_dependencies, payload_id=t.payload_id)
            for t in created
        ])

    def _task(self, tid: str) -> TaskRec:
        return self.p.store.session_of_task(tid).tasks[tid]

    @guard
    async def GetTask(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return pb.GetTaskResponse(task=task_detailed(self._task(request.task_id)))

    def _list(self, request: Any) -> tuple[list[TaskRec], int]:
        filters = request.filters if request.HasField("filters") else None
        pred = compile_filters(filters, task_field)
        key, desc = sort_spec(request.sort, task_field, request.HasField("sort"))
        sessions = iter_sessions(self.p.store, equal_values(filters, _is_session_id))
        return page((t for s in sessions for t in s.tasks.values()), pred, key, desc,
                    request.page, request.page_size)

    @guard
    async def ListTasks(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        items, total = self._list(request)
        return pb.ListTasksResponse(tasks=[task_summary(t, request.with_errors) for t in items],
                                    page=request.page, page_size=request.page_size, total=total)

    @guard
    async def ListTasksDetailed(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        items, total = self._list(request)
        return pb.ListTasksDetailedResponse(tasks=[task_detailed(t) for t in items],
                                            page=request.page, page_size=request.page_size, total=total)

    @guard
    async def CancelTasks(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        by_session: dict[str, list[str]] = {}
        for tid in request.task_ids:
            by_session.setdefault(self.p.store.session_of_task(tid).meta.id, []).append(tid)
        out: list[pb.TaskSummary] = []
        for sid, tids in by_session.items():
            s = self.p.store.session(sid)
            stopped = [t for t in tids if s.tasks[t].status in QUEUED_TASK - {TaskStatus.SUBMITTED}]

            def change(tx: Tx, tids: list[str] = tids) -> None:
                for tid in tids:
                    graph.cancel_task(tx, tid)

            await self.p.store.change(s, change)
            self.p.stop_running(stopped)
            out.extend(task_summary(s.tasks[t]) for t in tids)
        return pb.CancelTasksResponse(tasks=out)

    @guard
    async def GetResultIds(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return pb.GetResultIdsResponse(task_results=[
            pb.GetResultIdsResponse.MapTaskResult(task_id=tid, result_ids=self._task(tid).expected_output_ids)
            for tid in request.task_id
        ])

    @guard
    async def CountTasksByStatus(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        filters = request.filters if request.HasField("filters") else None
        pred = compile_filters(filters, task_field)
        sessions: list[Session] = list(iter_sessions(self.p.store, equal_values(filters, _is_session_id)))
        counts = Counter(int(t.status) for s in sessions for t in s.tasks.values() if pred(t))
        return pb.CountTasksByStatusResponse(status=[
            objects_pb2.StatusCount(status=st, count=n) for st, n in sorted(counts.items())  # type: ignore[arg-type]
        ])


def not_found(tid: str) -> NotFound:
    return NotFound(f"task {tid!r} not found")
