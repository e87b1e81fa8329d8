"""Listing and bulk rpcs: QueryInstances, ListInstanceIds, PurgeInstances, QueryEntities, CleanEntityStorage.

Entities (`@name@key`) never show up among orchestrations and vice versa. Cursors are the last
instance id of a page (the core's `after_id`), handed out as opaque continuation tokens.
"""

from __future__ import annotations

import time
from typing import Any

from gateway.errors import FailedPrecondition
from gateway.model import Commit, Instance, InstanceQuery, InstanceUpdate

from ._pb import orchestrator_service_pb2 as pb
from .convert import ENGINE, DtState, from_ts, is_entity_id, orchestration_state, statuses_from_wire
from .effects import TERMINAL, Env, children
from .entities import metadata

_PAGE_CAP = 1000


def _range(msg: Any, name: str) -> float | None:
    return from_ts(getattr(msg, name)) if msg.HasField(name) else None


async def query_instances(env: Env, q: pb.InstanceQuery) -> pb.QueryInstancesResponse:
    limit = q.maxInstanceCount if 0 < q.maxInstanceCount < _PAGE_CAP else _PAGE_CAP
    page = await env.scheduler.query_instances(InstanceQuery(
        engine=ENGINE,
        statuses=statuses_from_wire(q.runtimeStatus),
        id_prefix=q.instanceIdPrefix.value if q.HasField("instanceIdPrefix") and q.instanceIdPrefix.value else None,
        created_from=_range(q, "createdTimeFrom"),
        created_to=_range(q, "createdTimeTo"),
        after_id=q.continuationToken.value if q.HasField("continuationToken") and q.continuationToken.value else None,
        limit=limit,
    ))
    out = pb.QueryInstancesResponse(orchestrationState=[
        orchestration_state(i, q.fetchInputsAndOutputs) for i in page.items if not is_entity_id(i.id)
    ])
    if page.next_after is not None:
        out.continuationToken.value = page.next_after
    return out


async def list_instance_ids(env: Env, req: pb.ListInstanceIdsRequest) -> pb.ListInstanceIdsResponse:
    wanted = statuses_from_wire(req.runtimeStatus)
    statuses = TERMINAL if wanted is None else wanted & TERMINAL
    page = await env.scheduler.query_instances(InstanceQuery(
        engine=ENGINE,
        statuses=frozenset(statuses),
        completed_from=_range(req, "completedTimeFrom"),
        completed_to=_range(req, "completedTimeTo"),
        after_id=req.lastInstanceKey.value if req.HasField("lastInstanceKey") and req.lastInstanceKey.value else None,
        limit=req.pageSize if 0 < req.pageSize < _PAGE_CAP else 100,
    ))
    out = pb.ListInstanceIdsResponse(instanceIds=[i.id for i in page.items if not is_entity_id(i.id)])
    if page.next_after is not None:
        out.lastInstanceKey.value = page.next_after
    return out


async def _subtree(env: Env, inst: Instance, recursive: bool) -> list[str]:
    """Ids to delete for `inst`, children first; active children are left alone."""
    ids: list[str] = []
    if recursive:
        for child in await children(env.scheduler, inst.id):
            if child.status.terminal:
                ids.extend(await _subtree(env, child, True))
    ids.append(inst.id)
    return ids


async def purge(env: Env, req: pb.PurgeInstancesRequest) -> pb.PurgeInstancesResponse:
    sched = env.scheduler
    which = req.WhichOneof("request")
    doomed: list[str] = []
    complete = True
    if which == "instanceId" or which == "instanceBatch":
        ids = [req.instanceId] if which == "instanceId" else list(req.instanceBatch.instanceIds)
        for iid in ids:
            inst = await sched.get_instance(iid)
            if inst is None:
                continue
            if not inst.status.terminal:
                if which == "instanceId":
                    raise FailedPrecondition(f"instance {iid!r} is {inst.status.value}; only ended ones are purged")
                continue
            doomed.extend(await _subtree(env, inst, req.recursive))
    elif which == "purgeInstanceFilter":
        f = req.purgeInstanceFilter
        wanted = statuses_from_wire(f.runtimeStatus)
        statuses = frozenset(TERMINAL if wanted is None else wanted & TERMINAL)
        deadline = time.monotonic() + (f.timeout.ToNanoseconds() / 1e9 if f.HasField("timeout") else 1e9)
        after: str | None = None
        while True:
            if time.monotonic() > deadline:
                complete = False
                break
            page = await sched.query_instances(InstanceQuery(
                engine=ENGINE, statuses=statuses, created_from=_range(f, "createdTimeFrom"),
                created_to=_range(f, "createdTimeTo"), after_id=after, limit=500,
            ))
            for inst in page.items:
                if not is_entity_id(inst.id):
                    doomed.extend(await _subtree(env, inst, req.recursive))
            if page.next_after is None:
                break
            after = page.next_after
    doomed = list(dict.fromkeys(doomed))
    if doomed:
        await sched.commit(Commit(delete_instances=doomed))
    out = pb.PurgeInstancesResponse(deletedInstanceCount=len(doomed))
    out.isComplete.value = complete
    return out


async def query_entities(env: Env, q: pb.EntityQuery) -> pb.QueryEntitiesResponse:
    prefix = q.instanceIdStartsWith.value if q.HasField("instanceIdStartsWith") else ""
    if not prefix.startswith("@"):
        prefix = "@" + prefix
    size = q.pageSize.value if q.HasField("pageSize") and q.pageSize.value > 0 else 100
    page = await env.scheduler.query_instances(InstanceQuery(
        engine=ENGINE, id_prefix=prefix,
        after_id=q.continuationToken.value if q.HasField("continuationToken") and q.continuationToken.value else None,
        limit=min(size, _PAGE_CAP),
    ))
    out = pb.QueryEntitiesResponse()
    lo, hi = _range(q, "lastModifiedFrom"), _range(q, "lastModifiedTo")
    for inst in page.items:
        st = DtState.load(inst.state)
        if not st.entity and not is_entity_id(inst.id):
            continue
        if st.estate is None and not st.locked_by and not q.includeTransient:
            continue
        if (lo is not None and inst.updated_at < lo) or (hi is not None and inst.updated_at > hi):
            continue
        backlog = len(await env.scheduler.inbox(inst.id))
        out.entities.append(metadata(inst.id, st, inst.updated_at, backlog, q.includeState))
    if page.next_after is not None:
        out.continuationToken.value = page.next_after
    return out


async def clean_entities(env: Env, req: pb.CleanEntityStorageRequest) -> pb.CleanEntityStorageResponse:
    """Remove entities with no state, no lock and nothing queued; free locks held by ended orchestrations."""
    sched = env.scheduler
    page = await sched.query_instances(InstanceQuery(
        engine=ENGINE, id_prefix="@", limit=500,
        after_id=req.continuationToken.value if req.HasField("continuationToken") and req.continuationToken.value
        else None,
    ))
    removed: list[str] = []
    released = 0
    commit = Commit()
    for inst in page.items:
        st = DtState.load(inst.state)
        if req.releaseOrphanedLocks and st.locked_by and st.lock_owner:
            owner = await sched.get_instance(st.lock_owner)
            if owner is None or owner.status.terminal:
                st.locked_by = st.lock_owner = ""
                commit.updates.append(InstanceUpdate(inst.id, state=st.dump()))
                released += 1
        if req.removeEmptyEntities and st.estate is None and not st.locked_by and not st.turn:
            if not await sched.inbox(inst.id):
                removed.append(inst.id)
    commit.updates = [u for u in commit.updates if u.instance_id not in removed]
    commit.delete_instances = removed
    if not commit.empty():
        await sched.commit(commit)
    out = pb.CleanEntityStorageResponse(emptyEntitiesRemoved=len(removed), orphanedLocksReleased=released)
    if page.next_after is not None:
        out.continuationToken.value = page.next_after
    return out


__all__ = ["clean_entities", "list_instance_ids", "purge", "query_entities", "query_instances"]
