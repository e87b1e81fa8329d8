"""The Results service: metadata, data upload/download (chunked), listing, deletion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from gateway.errors import FailedPrecondition, InvalidArgument, NotFound

from . import graph
from ._pb import objects_pb2, results_service_pb2_grpc
from ._pb import results_common_pb2 as pb
from .convert import result_to_pb
from .errors import guard, guard_stream
from .filters import compile_filters, equal_values, page, sort_spec
from .plane import Plane, require_open
from .records import ResultRec, ResultStatus
from .resources import result_field
from .store import Tx, iter_sessions


def _is_session_id(field: Any) -> bool:
    return field.WhichOneof("field") == "result_raw_field" and field.result_raw_field.field == 1


class ResultsServicer(results_service_pb2_grpc.ResultsServicer):
    def __init__(self, plane: Plane) -> None:
        self.p = plane

    @guard
    async def CreateResultsMetaData(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        s = self.p.store.session(request.session_id)
        require_open(s, "create results")

        def change(tx: Tx) -> list[ResultRec]:
            return [graph.create_result(tx, rc.name, manual_deletion=rc.manual_deletion) for rc in request.results]

        created = await self.p.store.change(s, change)
        return pb.CreateResultsMetaDataResponse(results=[result_to_pb(r) for r in _final(s, created)])

    @guard
    async def CreateResults(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        s = self.p.store.session(request.session_id)
        require_open(s, "create results")

        def change(tx: Tx) -> list[ResultRec]:
            return [
                graph.create_result(tx, rc.name, data=rc.data, manual_deletion=rc.manual_deletion)
                for rc in request.results
            ]

        created = await self.p.store.change(s, change)
        return pb.CreateResultsResponse(results=[result_to_pb(r) for r in _final(s, created)])

    @guard
    async def UploadResultData(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
        ident = None
        chunks: list[bytes] = []
        async for msg in request_iterator:
            kind = msg.WhichOneof("type")
            if kind == "id":
                if ident is not None:
                    raise InvalidArgument("UploadResultData: the id was sent twice")
                ident = msg.id
                # Fail early, before the client streams the data.
                s = self.p.store.session(ident.session_id)
                r = s.results.get(ident.result_id)
                if r is None:
                    raise NotFound(f"result {ident.result_id!r} not found in session {ident.session_id!r}")
                if r.status is not ResultStatus.CREATED:
                    raise FailedPrecondition(f"result {r.id!r} is {r.status.name}: results are write-once")
            elif kind == "data_chunk":
                if ident is None:
                    raise InvalidArgument("UploadResultData: the first message must carry the id")
                chunks.append(msg.data_chunk)
        if ident is None:
            raise InvalidArgument("UploadResultData: no id received")
        s = self.p.store.session(ident.session_id)
        data = b"".join(chunks)
        await self.p.store.change(s, lambda tx: graph.complete_result(tx, ident.result_id, data))
        return pb.UploadResultDataResponse(result=result_to_pb(s.results[ident.result_id]))

    @guard_stream
    async def DownloadResultData(self, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        s = self.p.store.session(request.session_id)
        r = s.results.get(request.result_id)
        if r is None:
            raise NotFound(f"result {request.result_id!r} not found in session {request.session_id!r}")
        if r.status is not ResultStatus.COMPLETED:
            raise FailedPrecondition(f"result {r.id!r} is {r.status.name}, not COMPLETED")
        obj = await self.p.store.scheduler.get_data(r.id)
        if obj is None or obj.payload is None:
            raise NotFound(f"data of result {r.id!r} not found")
        data, size = obj.payload.data, self.p.cfg.data_chunk_max_size
        if not data:
            yield pb.DownloadResultDataResponse(data_chunk=b"")
        for i in range(0, len(data), size):
            yield pb.DownloadResultDataResponse(data_chunk=data[i:i + size])

    @guard
    async def GetServiceConfiguration(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return pb.ResultsServiceConfigurationResponse(data_chunk_max_size=self.p.cfg.data_chunk_max_size)

    @guard
    async def GetResult(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        s = self.p.store.session_of_result(request.result_id)
        return pb.GetResultResponse(result=result_to_pb(s.results[request.result_id]))

    @guard
    async def GetOwnerTaskId(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        s = self.p.store.session(request.session_id)
        out = []
        for rid in request.result_id:
            r = s.results.get(rid)
            if r is None:
                raise NotFound(f"result {rid!r} not found in session {request.session_id!r}")
            out.append(pb.GetOwnerTaskIdResponse.MapResultTask(result_id=rid, task_id=r.owner_task_id))
        return pb.GetOwnerTaskIdResponse(result_task=out, session_id=request.session_id)

    @guard
    async def DeleteResultsData(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        s = self.p.store.session(request.session_id)

        def change(tx: Tx) -> None:
            for rid in request.result_id:
                r = tx.result(rid)
                if r is None:
                    raise NotFound(f"result {rid!r} not found in session {request.session_id!r}")
                if r.status is ResultStatus.COMPLETED:
                    w = tx.wresult(rid)
                    w.status = ResultStatus.DELETED
                    tx.commit.delete_data.append(rid)
                    tx.emit("result_status", w, ResultStatus.DELETED)

        await self.p.store.change(s, change)
        return pb.DeleteResultsDataResponse(session_id=request.session_id, result_id=request.result_id)

    @guard
    async def ListResults(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        filters = request.filters if request.HasField("filters") else None
        pred = compile_filters(filters, result_field)
        key, desc = sort_spec(request.sort, result_field, request.HasField("sort"))
        sessions = iter_sessions(self.p.store, equal_values(filters, _is_session_id))
        records = (r for s in sessions for r in s.results.values())
        items, total = page(records, pred, key, desc, request.page, request.page_size)
        return pb.ListResultsResponse(results=[result_to_pb(r) for r in items], page=request.page,
                                      page_size=request.page_size, total=total)


def _final(s: Any, created: list[ResultRec]) -> list[ResultRec]:
    """The records as committed (a result created with data is COMPLETED by the same change)."""
    return [s.results.get(r.id, r) for r in created]


_ = objects_pb2  # Empty is the request type of GetServiceConfiguration
