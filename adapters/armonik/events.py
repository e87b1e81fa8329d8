"""The Events service: subscribe first, replay the session's current state, then stream changes.

A subscription is registered on the session before the replay is taken (both without an await in
between), so no change can fall between them; a duplicate between replay and live events is
harmless to clients. The stream never ends cleanly (a clean end reads as "all done" to the SDK's
`wait_for_result_availability`): it stays open until the client cancels, and the adapter's stop
aborts it with UNAVAILABLE so clients re-subscribe.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from ._pb import events_common_pb2 as ev_pb
from ._pb import events_service_pb2_grpc
from .errors import guard_stream
from .filters import Predicate, compile_filters, equal_values, only_equal_values
from .records import ResultRec, Session, TaskRec
from .resources import result_field, task_field
from .store import Ev, Store

Resp = ev_pb.EventSubscriptionResponse
NEW_TASK, TASK_STATUS, NEW_RESULT, RESULT_STATUS, RESULT_OWNER = 1, 2, 3, 4, 5
_KIND = {
    "new_task": NEW_TASK,
    "task_status": TASK_STATUS,
    "new_result": NEW_RESULT,
    "result_status": RESULT_STATUS,
    "result_owner": RESULT_OWNER,
}


class Subscriber:
    """One GetEvents stream: its filters and its queue of pending responses."""

    def __init__(self, request: ev_pb.EventSubscriptionRequest) -> None:
        self.session_id = request.session_id
        self.kinds = set(request.returned_events) or set(_KIND.values())
        self.task_pred: Predicate = compile_filters(
            request.tasks_filters if request.HasField("tasks_filters") else None, task_field
        )
        self.result_pred: Predicate = compile_filters(
            request.results_filters if request.HasField("results_filters") else None, result_field
        )
        # The SDK's wait filters by result ids only: check membership before the general predicate,
        # and skip the predicate when the membership is all it says.
        rf = request.results_filters if request.HasField("results_filters") else None
        self.result_ids = equal_values(rf, _is_result_id)
        self._ids_only = only_equal_values(rf, _is_result_id)
        self.queue: asyncio.Queue[Resp | None] = asyncio.Queue()

    def wants_result(self, r: ResultRec) -> bool:
        ids = self.result_ids
        if ids is None:
            return self.result_pred(r)
        return r.id in ids and (self._ids_only or self.result_pred(r))

    def wants_task(self, t: TaskRec) -> bool:
        return self.task_pred(t)

    def offer(self, ev: Ev) -> None:
        kind, rec, status, prev, cur = ev
        k = _KIND[kind]
        if k not in self.kinds:
            return
        if isinstance(rec, ResultRec):
            if not self.wants_result(rec):
                return
        elif not self.wants_task(rec):
            return
        self.queue.put_nowait(to_pb(self.session_id, k, rec, status, prev, cur))


def _is_result_id(field: Any) -> bool:
    return field.WhichOneof("field") == "result_raw_field" and field.result_raw_field.field == 7


def to_pb(sid: str, k: int, rec: Any, status: Any, prev: str = "", cur: str = "") -> Resp:
    if k == NEW_RESULT:
        return Resp(session_id=sid, new_result=Resp.NewResult(result_id=rec.id, owner_id=rec.owner_task_id,
                                                               status=status))
    if k == RESULT_STATUS:
        return Resp(session_id=sid, result_status_update=Resp.ResultStatusUpdate(result_id=rec.id, status=status))
    if k == RESULT_OWNER:
        return Resp(session_id=sid, result_owner_update=Resp.ResultOwnerUpdate(
            result_id=rec.id, previous_owner_id=prev, current_owner_id=cur))
    if k == TASK_STATUS:
        return Resp(session_id=sid, task_status_update=Resp.TaskStatusUpdate(task_id=rec.id, status=status))
    t: TaskRec = rec
    return Resp(session_id=sid, new_task=Resp.NewTask(
        task_id=t.id, payload_id=t.payload_id, origin_task_id=t.parent_task_ids[-1] if t.parent_task_ids else "",
        status=status, expected_output_keys=t.expected_output_ids, data_dependencies=t.data_dependencies,
        retry_of_ids=t.retry_of_ids, parent_task_ids=t.parent_task_ids))


class EventsHub:
    """Routes the store's applied changes to the subscribers of their session."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.closing = False
        self.all: set[Subscriber] = set()
        store.listeners.append(self._on_change)

    def _on_change(self, session: Session, events: list[Ev]) -> None:
        for sub in session.subscribers:
            for ev in events:
                sub.offer(ev)

    def subscribe(self, request: ev_pb.EventSubscriptionRequest) -> tuple[Subscriber, Session]:
        session = self.store.session(request.session_id)
        sub = Subscriber(request)
        session.subscribers.add(sub)
        self.all.add(sub)
        # Replay, in the same synchronous step as the registration.
        if NEW_RESULT in sub.kinds:
            ids = sub.result_ids
            results = (
                [r for i in ids if (r := session.results.get(i)) is not None] if ids is not None
                else list(session.results.values())
            )
            for r in results:
                if sub.wants_result(r):
                    sub.queue.put_nowait(to_pb(session.meta.id, NEW_RESULT, r, int(r.status)))
        if NEW_TASK in sub.kinds:
            for t in session.tasks.values():
                if sub.wants_task(t):
                    sub.queue.put_nowait(to_pb(session.meta.id, NEW_TASK, t, int(t.status)))
        return sub, session

    def unsubscribe(self, sub: Subscriber, session: Session) -> None:
        session.subscribers.discard(sub)
        self.all.discard(sub)

    def close(self) -> None:
        """Shutdown: every open stream ends with UNAVAILABLE."""
        self.closing = True
        for sub in self.all:
            sub.queue.put_nowait(None)


class EventsServicer(events_service_pb2_grpc.EventsServicer):
    def __init__(self, hub: EventsHub) -> None:
        self.hub = hub

    @guard_stream
    async def GetEvents(self, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Resp]:
        if self.hub.closing:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "gateway shutting down")
        sub, session = self.hub.subscribe(request)
        try:
            while True:
                item = await sub.queue.get()
                if item is None:
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "gateway shutting down; subscribe again")
                    return
                yield item
        finally:
            self.hub.unsubscribe(sub, session)
