"""The Agent service a worker calls during Process, and the communication tokens that route it.

A token is minted per Process and is valid only while that Process is in flight and only for its
session: an unknown token is INVALID_ARGUMENT, a finished one UNAVAILABLE ("No task is accepting
request"). Everything the worker asks for is buffered under the token (ids are minted and returned
at once, nothing is visible yet); the dispatcher applies the buffer in one commit if, and only if,
the worker answers `ok` (see `graph.task_ok`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import grpc

from gateway.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable

from . import graph, legacy
from ._pb import agent_common_pb2 as pb
from ._pb import agent_service_pb2_grpc
from .convert import ts
from .errors import guard
from .folders import write_file
from .records import ResultStatus, Session
from .store import Store, Tx
from .tasks import new_tasks

_FINISHED_KEPT = 100_000
_CREATED, _COMPLETED = int(ResultStatus.CREATED), int(ResultStatus.COMPLETED)


@dataclass
class AgentCall:
    """One Process in flight: its token, task, data folder and buffer."""

    token: str
    session: Session
    task_id: str
    folder: str
    buffer: graph.Buffer = field(default_factory=graph.Buffer)


class Tokens:
    def __init__(self) -> None:
        self.live: dict[str, AgentCall] = {}
        self.finished: OrderedDict[str, None] = OrderedDict()

    def open(self, call: AgentCall) -> None:
        self.live[call.token] = call

    def close(self, token: str) -> None:
        if self.live.pop(token, None) is not None:
            self.finished[token] = None
            while len(self.finished) > _FINISHED_KEPT:
                self.finished.popitem(last=False)

    def get(self, token: str, session_id: str | None = None) -> AgentCall:
        call = self.live.get(token)
        if call is None:
            if token in self.finished:
                raise Unavailable("No task is accepting request (the task's processing has ended)")
            raise InvalidArgument("invalid communication token")
        if session_id is not None and session_id != call.session.meta.id:
            raise InvalidArgument(f"session {session_id!r} is not the session of this communication token")
        return call


class AgentServicer(agent_service_pb2_grpc.AgentServicer):
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self.store = store
        self.tokens = tokens

    def _meta(self, call: AgentCall, rid: str, name: str, status: int) -> pb.ResultMetaData:
        return pb.ResultMetaData(session_id=call.session.meta.id, result_id=rid, name=name,
                                 status=status, created_at=ts(self.store.scheduler.clock.now()))  # type: ignore[arg-type]

    @guard
    async def CreateResultsMetaData(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        call = self.tokens.get(request.communication_token, request.session_id)
        out = []
        for rc in request.results:
            rid = graph.new_id()
            call.buffer.results.append((rid, rc.name, None))
            out.append(self._meta(call, rid, rc.name, _CREATED))
        return pb.CreateResultsMetaDataResponse(results=out, communication_token=request.communication_token)

    @guard
    async def CreateResults(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        call = self.tokens.get(request.communication_token, request.session_id)
        out = []
        for rc in request.results:
            rid = graph.new_id()
            call.buffer.results.append((rid, rc.name, bytes(rc.data)))
            out.append(self._meta(call, rid, rc.name, _COMPLETED))
        return pb.CreateResultsResponse(results=out, communication_token=request.communication_token)

    @guard
    async def NotifyResultData(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        call = self.tokens.get(request.communication_token)
        buffered = call.buffer.result_ids()
        ids = []
        for ident in request.ids:
            self.tokens.get(request.communication_token, ident.session_id)
            if ident.result_id not in buffered and ident.result_id not in call.session.results:
                raise NotFound(f"result {ident.result_id!r} not found in session {ident.session_id!r}")
            ids.append(ident.result_id)
        call.buffer.notified.extend(ids)
        return pb.NotifyResultDataResponse(result_ids=ids)

    @guard
    async def SubmitTasks(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        call = self.tokens.get(request.communication_token, request.session_id)
        specs = self._new_tasks(call, request, call.buffer.result_ids())
        call.buffer.tasks.extend(specs)
        info = pb.SubmitTasksResponse.TaskInfo
        return pb.SubmitTasksResponse(
            task_infos=[info(task_id=s.id, expected_output_ids=s.expected_output_ids,
                             data_dependencies=s.data_dependencies, payload_id=s.payload_id) for s in specs],
            communication_token=request.communication_token,
        )

    @guard
    async def CreateTask(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
        """The legacy streamed creation: each payload becomes a result, then SubmitTasks (legacy.py).

        Token problems are answered in the reply's `error`, not as a status: that is Core's wire
        behaviour (its own agent tests expect `ResponseCase.Error` for a wrong token) and what C#
        workers check. The token is checked on the first message, before any payload is read.
        """
        it = request_iterator.__aiter__()
        init = await legacy.read_init(it)
        if (refused := self._refusal(init.token)) is not None:
            return refused
        options = init.task_options()
        tasks = await legacy.read_tasks(it)
        # The Process may have ended while the worker streamed: its buffer is gone with it.
        if (refused := self._refusal(init.token)) is not None:
            return refused
        call = self.tokens.get(init.token)
        submit = pb.SubmitTasksRequest(session_id=call.session.meta.id, communication_token=init.token)
        if options is not None:
            submit.task_options.CopyFrom(options)
        payloads = []
        for t in tasks:
            rid = graph.new_id()
            payloads.append((rid, "", bytes(t.payload)))
            submit.task_creations.add(expected_output_keys=t.expected_output_keys,
                                      data_dependencies=t.data_dependencies, payload_id=rid)
        # Validate against the buffer as it will be (payloads included) before buffering anything,
        # so a refused stream leaves the token's buffer as it was.
        specs = self._new_tasks(call, submit, call.buffer.result_ids() | {rid for rid, _, _ in payloads})
        call.buffer.results.extend(payloads)
        call.buffer.tasks.extend(specs)
        info = pb.CreateTaskReply.TaskInfo
        statuses = [pb.CreateTaskReply.CreationStatus(task_info=info(
            task_id=s.id, expected_output_keys=s.expected_output_ids, data_dependencies=s.data_dependencies,
            payload_id=s.payload_id)) for s in specs]
        listed = pb.CreateTaskReply.CreationStatusList(creation_statuses=statuses)
        return pb.CreateTaskReply(creation_status_list=listed, communication_token=init.token)

    def _refusal(self, token: str) -> Any | None:
        """Core's CreateTask answer to a missing, wrong or finished token; None if it is live."""
        if not token:
            return pb.CreateTaskReply(error="Missing communication token")
        try:
            self.tokens.get(token)
        except InvalidArgument:
            return pb.CreateTaskReply(error="Wrong communication token", communication_token=token)
        except Unavailable:
            return pb.CreateTaskReply(error="No task is accepting request", communication_token=token)
        return None

    def _new_tasks(self, call: AgentCall, request: Any, buffered: set[str]) -> list[graph.NewTask]:
        """Validate a worker's task creations (SubmitTasks or CreateTask) against its buffer."""
        if not call.session.meta.worker_submission:
            raise FailedPrecondition(f"session {call.session.meta.id}: worker submission closed")
        # A read-only Tx: validation sees the committed session plus this token's buffered results.
        view = Tx(self.store, call.session, self.store.scheduler.clock.now())
        return new_tasks(view, request, buffered)

    @guard
    async def GetResourceData(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        call = self.tokens.get(request.communication_token)
        r = call.session.results.get(request.result_id)
        if r is None:
            raise NotFound(f"result {request.result_id!r} not found")
        if r.status is not ResultStatus.COMPLETED:
            raise FailedPrecondition(f"result {r.id!r} is {r.status.name}, not COMPLETED")
        obj = await self.store.scheduler.get_data(r.id)
        data = obj.payload.data if obj is not None and obj.payload is not None else b""
        # The worker reads <folder>/<id> as soon as we answer: write it first.
        await write_file(os.path.join(call.folder, r.id), data)
        return pb.DataResponse(result_id=r.id)

