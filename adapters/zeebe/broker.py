"""The broker side of the Zeebe front-end: deployments, instances, messages, signals, incidents.

Protocol-neutral in the sense that it speaks Python values and `gateway.errors`, not protobuf;
the servicers translate. It also is the interpreter's `Host` (keys, definitions, child instances).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Sequence
from typing import Any

from adapters.zeebe.bpmn import modify
from adapters.zeebe.bpmn.effects import Effects
from adapters.zeebe.bpmn.expr import parse_cycle, parse_date, parse_duration
from adapters.zeebe.bpmn.parser import BpmnError
from adapters.zeebe.bpmn.runtime import INCIDENT_PREFIX, Run
from adapters.zeebe.bpmn.state import State, StateCache
from adapters.zeebe.bpmn.triggers import SIGNAL_PREFIX
from adapters.zeebe.keys import KEYS_OBJECT, REGISTRY_ID, KeyAllocator
from adapters.zeebe.registry import DEF_PREFIX, Definition, Registry, parse_definition
from gateway.errors import AlreadyExists, FailedPrecondition, InvalidArgument, LeaseLost, NotFound
from gateway.model import (
    Commit,
    DataObject,
    Instance,
    InstanceQuery,
    InstanceStatus,
    InstanceUpdate,
    JobStatus,
    Message,
    NewEvent,
    NewInstance,
    Payload,
    Timer,
)
from gateway.ports import Scheduler

log = logging.getLogger("adapters.zeebe")

INDEX_OBJECT = "zeebe:defs"
#: Marker instances for "one active instance per correlation key" of message start events; their
#: own engine name keeps them out of every Zeebe instance query.
MSGSTART_PREFIX = "zeebe:msgstart:"
MSGSTART_ENGINE = "zeebe.msgstart"
#: Guarded registry commits retried this often when other replicas keep winning the race.
_CAS_ATTEMPTS = 50


def parse_variables(text: str, what: str = "variables") -> dict[str, Any]:
    """A variables document: empty means {}, anything but a JSON object is INVALID_ARGUMENT."""
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"Expected to parse the {what} as a JSON document, but failed: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidArgument(
            f"Expected the {what} to be a JSON document whose root is an object, but it was '{text[:100]}'"
        )
    return value


def _keys(text: str) -> list[int]:
    return [int(k) for k in text.split(",") if k]


class Broker:
    """State and operations shared by the servicers and the engine.

    Several gateway replicas may share one database: whatever this process keeps (the definitions
    registry, key blocks) is a cache of storage, changed only by commits guarded by the registry
    instance's revision, and re-read when that revision moved (`sync_registry`).
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.registry = Registry()
        self.keys = KeyAllocator()
        self.keys.want_block = self._want_block
        self._reserving: asyncio.Task[None] | None = None
        #: The registry instance's revision the local registry is known to be current with.
        self._registry_seen = -1
        self._registry_lock = asyncio.Lock()
        #: Deleted definitions that instances created in a race with the deletion still run on.
        self._retired: dict[int, Definition] = {}
        #: Parsed instance states, shared by the engine's steps and job activation.
        self.states = StateCache()
        self._deploy_lock = asyncio.Lock()

    # ------------------------------------------------------------------ start-up

    async def load(self) -> None:
        """Create the registry instance once, resume the key counter, reload definitions."""
        if await self.scheduler.get_instance(REGISTRY_ID) is None:
            registry = Instance(REGISTRY_ID, engine="zeebe", definition="registry", status=InstanceStatus.RUNNING)
            try:
                await self.scheduler.commit(Commit(create_instances=[NewInstance(registry)]))
            except AlreadyExists:
                pass
        self.keys.add_block(*await self.reserve_keys())
        await self.sync_registry()

    # ------------------------------------------------------------------ shared state

    async def _registry_revision(self) -> int:
        inst = await self.scheduler.get_instance(REGISTRY_ID)
        return inst.revision if inst is not None else 0

    async def _guarded(self, build: Any) -> Any:
        """Catch up with storage, then commit `build()`'s commit guarded by the registry revision it
        was built at; rebuild and retry while another replica wins. Returns `build()`'s value."""
        for _ in range(_CAS_ATTEMPTS):
            rev = await self._registry_revision()
            await self._reload_registry(rev)
            commit, out = build()
            if commit.empty():
                return out  # nothing to write: current as of `rev` is all that was needed
            commit.step = (REGISTRY_ID, rev)
            try:
                await self.scheduler.commit(commit)
            except LeaseLost:
                continue
            return out
        raise FailedPrecondition("Expected to update the deployment registry, but other gateways kept changing it")

    async def reserve_keys(self) -> tuple[int, int]:
        """Reserve the next key block [first, last] for this process (committed before use)."""
        block = self.keys.block
        for _ in range(_CAS_ATTEMPTS):
            rev = await self._registry_revision()
            mark_obj = await self.scheduler.get_data(KEYS_OBJECT)
            mark = int(mark_obj.meta["mark"]) if mark_obj is not None else 0
            new = DataObject(KEYS_OBJECT, REGISTRY_ID, status="MARK", meta={"mark": str(mark + block)})
            try:
                await self.scheduler.commit(Commit(step=(REGISTRY_ID, rev), data=[new]))
            except LeaseLost:
                continue
            return mark + 1, mark + block
        raise FailedPrecondition("Expected to reserve Zeebe keys, but other gateways kept changing the registry")

    def _want_block(self) -> None:
        if self._reserving is None or self._reserving.done():
            self._reserving = asyncio.get_running_loop().create_task(self._reserve_spare())

    async def _reserve_spare(self) -> None:
        try:
            self.keys.add_block(*await self.reserve_keys())
        except Exception:
            # Asked again with the next key taken while the spare is missing.
            log.exception("zeebe: reserving a key block failed")

    async def sync_registry(self) -> None:
        """Catch up with deployments and deletions committed by other replicas (cheap when none)."""
        await self._reload_registry(await self._registry_revision())

    async def _reload_registry(self, revision: int) -> None:
        async with self._registry_lock:
            if revision == self._registry_seen:
                return
            index = await self.scheduler.get_data(INDEX_OBJECT)
            meta = index.meta if index is not None else {}
            reg = self.registry
            objects = []
            for key in _keys(meta.get("keys", "")):
                if key not in reg.by_key and key not in reg.deleted:
                    obj = await self.scheduler.get_data(f"{DEF_PREFIX}{key}")
                    if obj is not None:
                        objects.append(obj)
            for problem in reg.load(objects):
                log.error("zeebe: %s", problem)
            for key in _keys(meta.get("deleted", "")):
                d = reg.by_key.get(key)
                if d is not None:
                    reg.remove(d)
            self._registry_seen = max(self._registry_seen, revision)

    # ------------------------------------------------------------------ Host

    def next_key(self) -> int:
        return self.keys.next_key()

    def latest_definition(self, bpmn_process_id: str) -> Definition | None:
        return self.registry.latest(bpmn_process_id)

    async def definition(self, key: int) -> Definition | None:
        """The definition of a running instance, re-reading the registry if another gateway
        deployed it. A deleted one still serves its instances: DeleteResource refuses while
        instances run, but another gateway may have created one while the deletion committed."""
        d = self.registry.by_key.get(key)
        if d is None:
            await self.sync_registry()
            d = self.registry.by_key.get(key) or self._retired.get(key)
        if d is None and key in self.registry.deleted:
            obj = await self.scheduler.get_data(f"{DEF_PREFIX}{key}")
            if obj is not None:
                try:
                    d = self._retired[key] = parse_definition(obj)
                except BpmnError as exc:
                    log.error("zeebe: deleted %s", exc)
        return d

    def new_instance(
        self, definition: Definition, key: int, variables: dict[str, Any], parent: tuple[str, str] | None,
        start_element: str = "", trigger: dict[str, Any] | None = None,
    ) -> NewInstance:
        doc: dict[str, Any] = {"pik": key, "pdk": definition.key, "pid": definition.bpmn_process_id,
                               "ver": definition.version}
        if parent is not None:
            doc["parent"] = {"pi": parent[0], "ei": parent[1]}
        start = {"vars": variables, "start": start_element, "trigger": trigger}
        inst = Instance(
            str(key), engine="zeebe", definition=definition.bpmn_process_id, version=str(definition.version),
            status=InstanceStatus.RUNNING, execution_id=str(definition.key),
            parent_id=parent[0] if parent else None, state=State(doc).dump(),
            input=Payload(json.dumps(variables).encode()),
        )
        return NewInstance(inst, [NewEvent(inst.id, "zeebe.start", json.dumps(start).encode())])

    async def _commit(self, commit: Commit) -> None:
        await self.scheduler.commit(commit)

    # ------------------------------------------------------------------ deployment

    async def deploy(self, resources: list[tuple[str, bytes]]) -> tuple[int, list[Definition]]:
        """Deploy atomically; returns the deployment key and one definition per process."""
        if not resources:
            raise InvalidArgument("Expected to deploy at least one resource, but none given")
        async with self._deploy_lock:
            try:
                plan = self.registry.plan(resources)
            except BpmnError as exc:
                raise InvalidArgument(
                    f"Expected to deploy new resources, but encountered the following errors:\n{exc}"
                ) from None
            deployment = self.next_key()

            def build() -> tuple[Commit, tuple[list[Definition], list[Definition]]]:
                # Versions are numbered against the registry as of the guarding revision.
                result: list[Definition] = []
                fresh: list[Definition] = []
                commit = Commit()
                for name, data, proc, checksum in plan:
                    latest = self.registry.latest(proc.id)
                    if latest is not None and latest.checksum == checksum:
                        result.append(latest)
                        continue
                    d = Definition(self.next_key(), proc.id, self.registry.next_version(proc.id), name, checksum,
                                   data, proc, deployment)
                    fresh.append(d)
                    result.append(d)
                    commit.data.append(d.to_data())
                    if latest is not None:
                        # The new version's start events replace the old ones.
                        commit.cancel_timers.extend(
                            (REGISTRY_ID, f"start:{latest.key}:{s}") for s in latest.process.timer_starts
                        )
                    commit.timers.extend(self._start_timers(d))
                if fresh:
                    commit.data.append(self._index(add=[d.key for d in fresh]))
                return commit, (result, fresh)

            result, fresh = await self._guarded(build)
            for d in fresh:
                self.registry.add(d)
            return deployment, result

    def _index(self, add: Sequence[int] = (), delete: int | None = None) -> DataObject:
        """The index of every definition key ever deployed, and which of them are deleted."""
        deleted = [*self.registry.deleted, *([delete] if delete is not None else [])]
        keys = [*self.registry.by_key, *self.registry.deleted, *add]
        meta = {"keys": ",".join(map(str, keys)), "deleted": ",".join(map(str, deleted))}
        return DataObject(INDEX_OBJECT, REGISTRY_ID, "INDEX", meta=meta)

    async def delete_resource(self, key: int) -> None:
        """DeleteResource of a process definition (Zeebe 8.6): refused while instances of it run;
        deleting the latest version makes the previous one the latest again (with its start events)."""
        async with self._deploy_lock:
            await self.sync_registry()
            d = self.registry.by_key.get(key)
            if d is None:
                raise NotFound(f"Expected to delete resource but no resource found with key `{key}`")
            after = None
            while True:
                page = await self.scheduler.query_instances(InstanceQuery(
                    engine="zeebe", definition=d.bpmn_process_id, statuses=frozenset({InstanceStatus.RUNNING}),
                    after_id=after,
                ))
                if any(i.execution_id == str(key) for i in page.items):
                    raise FailedPrecondition(
                        f"Expected to delete resource with key `{key}` but there are still running instances"
                    )
                if page.next_after is None:
                    break
                after = page.next_after

            def build() -> tuple[Commit, Definition]:
                current = self.registry.by_key.get(key)
                if current is None:  # deleted meanwhile through another gateway
                    raise NotFound(f"Expected to delete resource but no resource found with key `{key}`")
                versions = self.registry.by_id.get(current.bpmn_process_id, [])
                commit = Commit(data=[current.tombstone(), self._index(delete=key)])
                if versions and versions[-1] is current:
                    commit.cancel_timers.extend(
                        (REGISTRY_ID, f"start:{key}:{s}") for s in current.process.timer_starts
                    )
                    if len(versions) > 1:  # the previous version becomes the latest, with its start events
                        commit.timers.extend(self._start_timers(versions[-2]))
                return commit, current

            self.registry.remove(await self._guarded(build))

    def _start_timers(self, d: Definition) -> list[Timer]:
        now = self.scheduler.clock.now()
        out = []
        for sid in d.process.timer_starts:
            ev = d.process.elements[sid].event
            if ev.timer is None or not ev.timer.static:
                continue  # expression timers on start events need a context; not supported
            text = ev.timer.text
            try:
                if ev.timer_kind == "date":
                    due, reps, every = parse_date(text), 0, 0.0
                elif ev.timer_kind == "duration":
                    due, reps, every = now + parse_duration(text), 0, 0.0
                else:
                    reps, every, start = parse_cycle(text)
                    due = start if start is not None and start > now else now + every
                    reps = reps - 1 if reps > 0 else -1
            except ValueError:
                continue
            data = json.dumps({"reps": reps, "every": every}).encode()
            out.append(Timer(REGISTRY_ID, f"start:{d.key}:{sid}", due, data=data))
        return out

    # ------------------------------------------------------------------ instances

    def resolve_definition(self, def_key: int, pid: str, version: int) -> Definition:
        if pid:
            d = self.registry.latest(pid) if version < 0 else self.registry.version(pid, version)
            if d is None:
                if version < 0:
                    raise NotFound(f"Expected to find process definition with process ID '{pid}', but none found")
                raise NotFound(
                    f"Expected to find process definition with process ID '{pid}' and version '{version}', "
                    "but none found"
                )
            return d
        d = self.registry.by_key.get(def_key)
        if d is None:
            raise NotFound(f"Expected to find process definition with key '{def_key}', but none found")
        return d

    async def create_instance(
        self, def_key: int, pid: str, version: int, variables: dict[str, Any], start_at: list[str] | None = None
    ) -> tuple[Definition, int]:
        await self.sync_registry()
        d = self.resolve_definition(def_key, pid, version)
        start = ""
        if start_at:
            start = start_at[0]
            el = d.process.elements.get(start)
            if el is None:
                raise InvalidArgument(f"Expected to find element with id '{start}' in process '{d.bpmn_process_id}'")
            if el.scope or el.kind == "boundaryEvent" or (el.kind == "subProcess" and el.triggered_by_event):
                # Only elements directly in the process scope can be started here (no ancestors to create).
                raise InvalidArgument(
                    f"Expected to start at an element of the process scope, but '{start}' is nested or an event"
                )
        elif not d.process.start_event:
            raise FailedPrecondition(
                "Expected to create instance of process with none start event, but there is no such event"
            )
        key = self.next_key()
        await self._start_inline(d, key, variables, start)
        return d, key

    async def _start_inline(self, d: Definition, key: int, variables: dict[str, Any], start_element: str) -> None:
        """Create the instance with its first step already taken (up to its first wait state), in
        one commit: no start event for the step loop to pick up."""
        inst = Instance(
            str(key), engine="zeebe", definition=d.bpmn_process_id, version=str(d.version),
            status=InstanceStatus.RUNNING, execution_id=str(d.key), input=Payload(json.dumps(variables).encode()),
        )
        state = State({"pik": key, "pdk": d.key, "pid": d.bpmn_process_id, "ver": d.version})
        fx = Effects()
        now = self.scheduler.clock.now()
        Run(self, d.process, {"ver": d.version}, state, inst.id, now, fx).start(variables, start_element, None)
        inst.state = state.dump()
        commit = fx.commit(inst.id, None, None)
        commit.create_instances.insert(0, NewInstance(inst))
        await self._commit(commit)
        if fx.status is None:
            self.states.put(inst.id, inst.state, state)
        for name, signal_vars in fx.signals:
            await self.broadcast_signal(name, signal_vars)

    async def wait_result(self, key: int, timeout: float, fetch: list[str]) -> dict[str, Any]:
        inst = await self.scheduler.wait_instance(str(key), lambda i: i is None or i.status.terminal, timeout)
        if inst is None or inst.status is not InstanceStatus.COMPLETED:
            raise FailedPrecondition(f"Process instance '{key}' was terminated before it completed")
        variables = json.loads(inst.output.data) if inst.output is not None else {}
        if fetch:
            variables = {k: v for k, v in variables.items() if k in fetch}
        return variables

    async def _instance(self, key: int, what: str) -> Instance:
        inst = await self.scheduler.get_instance(str(key))
        if inst is None or inst.engine != "zeebe" or inst.id == REGISTRY_ID or inst.status.terminal:
            raise NotFound(f"Expected to {what} a process instance with key '{key}', but no such process was found")
        return inst

    async def cancel(self, key: int) -> None:
        inst = await self._instance(key, "cancel")
        await self.scheduler.commit(Commit(inbox=[NewEvent(inst.id, "zeebe.cancel")]))

    async def modify(self, key: int, activates: list[modify.Activate], terminates: list[int]) -> None:
        """ModifyProcessInstance: checked now against the instance's current state (including a dry
        run on a copy, so rejections are synchronous), applied by the instance's next step."""
        inst = await self.scheduler.get_instance(str(key))
        if inst is None or inst.engine != "zeebe" or inst.id == REGISTRY_ID or inst.status.terminal:
            raise NotFound(f"Expected to modify process instance but no process instance found with key '{key}'")
        state = State.load(inst.state)
        d = await self.definition(state.def_key)
        if d is None:
            raise NotFound(f"Expected to modify process instance but no process instance found with key '{key}'")
        try:
            modify.validate(d.process, state, activates, terminates)
            trial = State(copy.deepcopy(state.doc))
            run = Run(self, d.process, {"ver": d.version}, trial, inst.id, self.scheduler.clock.now(), Effects())
            modify.apply(run, activates, terminates)
        except modify.ModifyRejected as exc:
            raise InvalidArgument(str(exc)) from None
        data = json.dumps({"act": [a.to_json() for a in activates], "term": terminates}).encode()
        await self._commit(Commit(inbox=[NewEvent(inst.id, "zeebe.modify", data)]))

    async def find_element_instance(self, key: int) -> str:
        """The instance holding element instance `key` (rare call: scans running instances)."""
        inst = await self.scheduler.get_instance(str(key))
        if inst is not None and inst.engine == "zeebe" and not inst.status.terminal and inst.id != REGISTRY_ID:
            return inst.id
        skey = str(key)
        after = None
        while True:
            page = await self.scheduler.query_instances(
                InstanceQuery(engine="zeebe", statuses=frozenset({InstanceStatus.RUNNING}), after_id=after)
            )
            for cand in page.items:
                if cand.state and skey in State.load(cand.state).ei:
                    return str(cand.id)
            if page.next_after is None:
                break
            after = page.next_after
        raise NotFound(f"Expected to update variables for element with key '{key}', but no such element was found")

    async def set_variables(self, key: int, variables: dict[str, Any], local: bool) -> int:
        iid = await self.find_element_instance(key)
        data = json.dumps({"ei": str(key), "vars": variables, "local": local}).encode()
        out = self.next_key()
        await self._commit(Commit(inbox=[NewEvent(iid, "zeebe.setvars", data)]))
        return out

    async def resolve_incident(self, key: int) -> None:
        obj = await self.scheduler.get_data(f"{INCIDENT_PREFIX}{key}")
        if obj is None:
            raise NotFound(f"Expected to resolve incident with key '{key}', but no such incident was found")
        doc: dict[str, Any] = {"incident": str(key)}
        job_key = obj.meta.get("job")
        if job_key:
            # A job incident whose job still has no retries comes back at once (the problem persists).
            job = await self.scheduler.get_job(job_key)
            if job is not None and job.status is JobStatus.FAILED and (job.retries or 0) <= 0:
                doc["still_failed"] = job.last_error or "No more retries left."
        data = json.dumps(doc).encode()
        await self.scheduler.commit(Commit(inbox=[NewEvent(obj.owner_id, "zeebe.resolve", data)]))

    # ------------------------------------------------------------------ messages and signals

    async def publish(
        self, name: str, correlation_key: str, ttl_ms: int, message_id: str, variables: dict[str, Any]
    ) -> int:
        key = self.next_key()
        now = self.scheduler.clock.now()
        started = await self._start_by_message(name, correlation_key, variables)
        msg = Message(
            str(key), name, correlation_key, Payload(json.dumps(variables).encode()), message_id,
            expires_at=now + max(0, ttl_ms) / 1000.0, correlated_groups=frozenset(started),
        )
        await self.scheduler.publish(msg)
        return key

    async def _start_by_message(self, name: str, correlation_key: str, variables: dict[str, Any]) -> list[str]:
        """Message start events of the latest versions: one new instance per process."""
        await self.sync_registry()
        started = []
        for versions in list(self.registry.by_id.values()):
            d = versions[-1]
            for sid in d.process.message_starts:
                ev = d.process.elements[sid].event
                if ev.message_name is None or not ev.message_name.static or ev.message_name.text != name:
                    continue
                if await self._start_one_by_message(d, sid, correlation_key, variables):
                    started.append(d.bpmn_process_id)
                break
        return started

    async def _start_one_by_message(
        self, d: Definition, start_element: str, correlation_key: str, variables: dict[str, Any]
    ) -> bool:
        """Start `d` at its message start event, unless (with a correlation key) an instance it
        started for that key is still active. The key's last instance is kept in a small marker
        instance in storage, changed only by revision-guarded commits, so the rule holds across
        restarts and replicas. False: not started."""
        new = self.new_instance(d, self.next_key(), {}, None, start_element=start_element, trigger=variables)
        if not correlation_key:
            await self._commit(Commit(create_instances=[new]))
            return True
        marker_id = f"{MSGSTART_PREFIX}{d.bpmn_process_id}:{correlation_key}"
        started_id = new.instance.id.encode()
        for _ in range(_CAS_ATTEMPTS):
            marker = await self.scheduler.get_instance(marker_id)
            if marker is None:
                commit = Commit(create_instances=[NewInstance(Instance(
                    marker_id, engine=MSGSTART_ENGINE, definition=d.bpmn_process_id,
                    status=InstanceStatus.RUNNING, state=started_id,
                )), new])
            else:
                last = await self.scheduler.get_instance((marker.state or b"").decode())
                if last is not None and not last.status.terminal:
                    return False
                commit = Commit(step=(marker_id, marker.revision), create_instances=[new],
                                updates=[InstanceUpdate(marker_id, state=started_id)])
            try:
                await self._commit(commit)
            except (AlreadyExists, LeaseLost):
                continue  # another gateway started one for this key meanwhile: look again
            return True
        raise FailedPrecondition(
            f"Expected to start process '{d.bpmn_process_id}' by message, but other gateways kept racing for "
            f"correlation key '{correlation_key}'"
        )

    async def broadcast_signal(self, name: str, variables: dict[str, Any]) -> int:
        await self.sync_registry()
        key = self.next_key()
        commit = Commit()
        for versions in self.registry.by_id.values():
            d = versions[-1]
            for sid in d.process.signal_starts:
                ev = d.process.elements[sid].event
                if ev.signal_name is not None and ev.signal_name.static and ev.signal_name.text == name:
                    commit.create_instances.append(
                        self.new_instance(d, self.next_key(), {}, None, start_element=sid, trigger=variables)
                    )
        await self._commit(commit)
        # Signals are never buffered: expires_at = now.
        now = self.scheduler.clock.now()
        await self.scheduler.publish(
            Message(str(key), SIGNAL_PREFIX + name, "", Payload(json.dumps(variables).encode()), expires_at=now)
        )
        return key
