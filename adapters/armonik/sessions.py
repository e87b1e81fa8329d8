"""The Sessions service: create, read, list, and the session lifecycle (ArmoniK.Core semantics)."""

from __future__ import annotations

from typing import Any

import grpc

from gateway.errors import FailedPrecondition, InvalidArgument, NotFound

from . import graph
from ._pb import sessions_common_pb2 as pb
from ._pb import sessions_service_pb2_grpc
from .convert import options_from_pb, session_to_pb
from .errors import guard
from .filters import compile_filters, page, sort_spec
from .options import validate_session
from .plane import Plane
from .records import FINAL_TASK, Options, ResultStatus, Session, SessionMeta, SessionStatus, TaskStatus
from .resources import session_field
from .store import Tx


class SessionsServicer(sessions_service_pb2_grpc.SessionsServicer):
    def __init__(self, plane: Plane) -> None:
        self.p = plane

    def _raw(self, s: Session | SessionMeta) -> pb.SessionRaw:
        meta = s.meta if isinstance(s, Session) else s
        return session_to_pb(meta, self.p.now())

    @guard
    async def CreateSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.CreateSessionReply:
        opts = options_from_pb(request.default_task_option) if request.HasField("default_task_option") else Options()
        validate_session(opts)
        parts = list(dict.fromkeys(request.partition_ids)) or [self.p.cfg.default_partition]
        for pid in parts:
            if pid not in self.p.partitions:
                raise NotFound(f"partition {pid!r} not found")
        if not opts.partition_id:
            opts.partition_id = parts[0]
        elif opts.partition_id not in parts:
            raise InvalidArgument(f"default partition {opts.partition_id!r} is not in partition_ids {parts}")
        meta = SessionMeta(id=graph.new_id(), partition_ids=parts, options=opts, created_at=self.p.now())
        await self.p.store.create_session(meta)
        return pb.CreateSessionReply(session_id=meta.id)

    @guard
    async def GetSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.GetSessionResponse:
        return pb.GetSessionResponse(session=self._raw(self.p.store.session(request.session_id)))

    @guard
    async def ListSessions(self, request: Any, context: grpc.aio.ServicerContext) -> pb.ListSessionsResponse:
        pred = compile_filters(request.filters if request.HasField("filters") else None, session_field)
        key, desc = sort_spec(request.sort, session_field, request.HasField("sort"))
        items, total = page(self.p.store.sessions.values(), pred, key, desc, request.page, request.page_size)
        now = self.p.now()
        return pb.ListSessionsResponse(
            sessions=[session_to_pb(s.meta, now, request.with_task_options) for s in items],
            page=request.page, page_size=request.page_size, total=total,
        )

    async def _transition(self, sid: str, fn: Any) -> pb.SessionRaw:
        s = self.p.store.session(sid)
        stopped: list[str] = []

        def change(tx: Tx) -> SessionMeta:
            fn(tx, stopped)
            return tx.get_meta()

        meta = await self.p.store.change(s, change)
        self.p.stop_running(stopped)
        return self._raw(meta)

    @guard
    async def CancelSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.CancelSessionResponse:
        return pb.CancelSessionResponse(session=await self._transition(request.session_id, cancel))

    @guard
    async def PauseSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.PauseSessionResponse:
        return pb.PauseSessionResponse(session=await self._transition(request.session_id, pause))

    @guard
    async def ResumeSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.ResumeSessionResponse:
        return pb.ResumeSessionResponse(session=await self._transition(request.session_id, resume))

    @guard
    async def CloseSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.CloseSessionResponse:
        return pb.CloseSessionResponse(session=await self._transition(request.session_id, close))

    @guard
    async def PurgeSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.PurgeSessionResponse:
        return pb.PurgeSessionResponse(session=await self._transition(request.session_id, purge))

    @guard
    async def DeleteSession(self, request: Any, context: grpc.aio.ServicerContext) -> pb.DeleteSessionResponse:
        return pb.DeleteSessionResponse(session=await self._transition(request.session_id, delete))

    @guard
    async def StopSubmission(self, request: Any, context: grpc.aio.ServicerContext) -> pb.StopSubmissionResponse:
        def stop(tx: Tx, stopped: list[str]) -> None:
            m = tx.wmeta()
            if request.client:
                m.client_submission = False
            if request.worker:
                m.worker_submission = False

        return pb.StopSubmissionResponse(session=await self._transition(request.session_id, stop))


# ---------------------------------------------------------------------------------------------
# Transitions (on a Tx; `stopped` collects running tasks whose Process must be stopped)
# ---------------------------------------------------------------------------------------------


def _refuse(m: SessionMeta, action: str) -> None:
    raise FailedPrecondition(f"session {m.id} is {m.status.name}: cannot {action} it")


def cancel(tx: Tx, stopped: list[str]) -> None:
    m = tx.wmeta()
    if m.status in (SessionStatus.CANCELLED, SessionStatus.PURGED, SessionStatus.DELETED):
        _refuse(m, "cancel")
    m.status = SessionStatus.CANCELLED
    m.cancelled_at = tx.now
    m.client_submission = m.worker_submission = False
    for tid, t in list(tx.session.tasks.items()):
        if t.status not in FINAL_TASK:
            if t.status in (TaskStatus.DISPATCHED, TaskStatus.PROCESSING):
                stopped.append(tid)
            graph.cancel_task(tx, tid)
    for rid, r in list(tx.session.results.items()):
        if r.status is ResultStatus.CREATED:
            graph.abort_result(tx, rid, "session cancelled")


def pause(tx: Tx, stopped: list[str]) -> None:
    m = tx.wmeta()
    if m.status is not SessionStatus.RUNNING:
        _refuse(m, "pause")
    m.status = SessionStatus.PAUSED
    for tid, t in tx.session.tasks.items():
        # A running task finishes; a queued or just-leased one waits for the resume.
        if t.status in (TaskStatus.SUBMITTED, TaskStatus.DISPATCHED):
            tx.commit.cancel_jobs.append(tid)
            graph.set_status(tx, tx.wtask(tid), TaskStatus.PAUSED)


def resume(tx: Tx, stopped: list[str]) -> None:
    m = tx.wmeta()
    if m.status is SessionStatus.RUNNING:
        return
    if m.status is not SessionStatus.PAUSED:
        _refuse(m, "resume")
    m.status = SessionStatus.RUNNING
    for tid, t in tx.session.tasks.items():
        if t.status is TaskStatus.PAUSED:
            graph.make_ready(tx, tx.wtask(tid))


def close(tx: Tx, stopped: list[str]) -> None:
    m = tx.wmeta()
    if m.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
        _refuse(m, "close")
    m.status = SessionStatus.CLOSED
    m.closed_at = tx.now
    m.client_submission = m.worker_submission = False
    # Queued tasks are cancelled when dequeued; paused ones would never be, so cancel them now.
    for tid, t in list(tx.session.tasks.items()):
        if t.status is TaskStatus.PAUSED:
            graph.cancel_task(tx, tid)


def purge(tx: Tx, stopped: list[str]) -> None:
    m = tx.wmeta()
    if m.status not in (SessionStatus.CLOSED, SessionStatus.CANCELLED):
        _refuse(m, "purge")
    m.status = SessionStatus.PURGED
    m.purged_at = tx.now
    for rid, r in tx.session.results.items():
        if r.status is not ResultStatus.DELETED:
            if r.status is ResultStatus.COMPLETED:
                tx.commit.delete_data.append(rid)
            w = tx.wresult(rid)
            w.status = ResultStatus.DELETED
            tx.emit("result_status", w, ResultStatus.DELETED)


def delete(tx: Tx, stopped: list[str]) -> None:
    m = tx.wmeta()
    stopped.extend(tid for tid, t in tx.session.tasks.items()
                   if t.status in (TaskStatus.DISPATCHED, TaskStatus.PROCESSING))
    m.status = SessionStatus.DELETED
    m.deleted_at = tx.now
    tx.deleted = True
