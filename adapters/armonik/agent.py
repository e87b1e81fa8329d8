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

from . import graph
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
        if not call.session.meta.worker_submission:
            raise FailedPrecondition(f"session {call.session.meta.id}: worker submission closed")
        # A read-only Tx: validation sees the committed session plus this token's buffered results.
        view = Tx(self.store, call.session, self.store.scheduler.clock.now())
        specs = new_tasks(view, request, call.buffer.result_ids())
        call.buffer.tasks.extend(specs)
        info = pb.SubmitTasksResponse.TaskInfo
        return pb.SubmitTasksResponse(
            task_infos=[info(task_id=s.id, expected_output_ids=s.expected_output_ids,
                             data_dependencies=s.data_dependencies, payload_id=s.payload_id) for s in specs],
            communication_token=request.communication_token,
        )

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

