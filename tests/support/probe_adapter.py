"""A test-only adapter that proves the adapter seam and lets process-level tests drive the core.

Enable it with `[adapters.probe] enabled = true, module = "tests.support.probe_adapter:ProbeAdapter"`
(the gateway must run with the repository root as its working directory).

Admin-listener routes (JSON in and out):
- `POST /probe/instances` {"id", "jobs": [{"queue", "payload", "timeout", "retries"}], "timers":
  [{"key", "delay"}]} creates the instance, its jobs and timers in one commit -> 201 {"id"}; 409 if taken.
- `GET /probe/instances/{id}` -> {"id", "status", "output", "history": [...], "inbox": n}; 404.
- `GET /probe/instances` -> {"ids": [...], "counts": {status: n}}.
- `POST /probe/lease` {"queue", "owner", "max", "wait", "lease_for"} -> {"jobs": [{"id", "attempt",
  "queue", "payload"}]}.
- `POST /probe/complete` {"id", "attempt", "result"}; `POST /probe/fail` {"id", "attempt", "error",
  "retries", "backoff"} -> 200 {"ok": true}, 409 on a lost lease, 404 for an unknown job.

The engine "probe" completes an instance once every job it was created with has completed and every
timer has fired; output = {"results": {job_id: result}, "timers": [keys]}. A job that fails for good
fails the instance. gRPC: `gateway.probe.v1.Probe/Echo` (bytes in, the same bytes out).
"""

from __future__ import annotations

import json
from typing import Any

import grpc
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway import errors
from gateway.model import (
    Commit,
    Failure,
    Instance,
    InstanceQuery,
    InstanceStatus,
    InstanceUpdate,
    Job,
    JobRef,
    NewEvent,
    NewInstance,
    Payload,
    StepClaim,
    Timer,
)
from gateway.ports import AdapterContext

ENGINE = "probe"
SERVICE = "gateway.probe.v1.Probe"

_STATUS = {
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.LeaseLost: 409,
    errors.FailedPrecondition: 409,
    errors.InvalidArgument: 400,
    errors.ResourceExhausted: 429,
    errors.Unavailable: 503,
    errors.DeadlineExceeded: 504,
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobSpec(_Body):
    queue: str = Field(min_length=1)
    payload: str = ""
    timeout: float = Field(default=30.0, gt=0)
    retries: int | None = None


class TimerSpec(_Body):
    key: str = Field(min_length=1)
    delay: float = Field(default=0.0, ge=0)


class CreateBody(_Body):
    id: str = Field(min_length=1)
    jobs: list[JobSpec] = []
    timers: list[TimerSpec] = []


class LeaseBody(_Body):
    queue: str = Field(min_length=1)
    owner: str = "probe-worker"
    max: int = Field(default=1, ge=1, le=1000)
    wait: float = Field(default=0.0, ge=0, le=60)
    lease_for: float | None = Field(default=None, gt=0)


class CompleteBody(_Body):
    id: str
    attempt: int
    result: str = ""


class FailBody(_Body):
    id: str
    attempt: int
    error: str = ""
    retries: int | None = None
    backoff: float | None = Field(default=None, ge=0)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _parse(request: Request, model: type[BaseModel]) -> Any:
    try:
        raw = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _error(400, "body is not valid JSON")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return _error(400, f"{where}: {first['msg']}")


def _guarded(handler: Any) -> Any:
    """Map core errors to HTTP statuses in one place; a bad request never escapes as a 500."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            result: JSONResponse = await handler(request)
            return result
        except errors.GatewayError as exc:
            return _error(_STATUS.get(type(exc), 500), str(exc) or type(exc).__name__)

    return endpoint


class ProbeEngine:
    """The "probe" decider: records completions and timer firings, completes when all are in."""

    name = ENGINE

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        inst = claim.instance
        state = json.loads(inst.state or b"{}")
        results: dict[str, str] = state.setdefault("results", {})
        fired: list[str] = state.setdefault("fired", [])
        failure: Failure | None = None
        for ev in claim.inbox:
            if ev.kind == "job.completed":
                results[ev.ref] = ev.data.decode("utf-8", "replace")
            elif ev.kind == "timer.fired" and ev.ref not in fired:
                fired.append(ev.ref)
            elif ev.kind == "job.failed":
                failure = Failure(ev.data.decode("utf-8", "replace"), kind="job.failed")
        update = InstanceUpdate(inst.id, state=json.dumps(state).encode())
        if claim.inbox:
            update.consume_upto = claim.inbox[-1].seq
        if inst.status.terminal:
            pass
        elif failure is not None:
            update.status, update.failure = InstanceStatus.FAILED, failure
        elif set(state["jobs"]) <= results.keys() and set(state["timers"]) <= set(fired):
            update.status = InstanceStatus.COMPLETED
            output = {"results": {j: results[j] for j in state["jobs"]}, "timers": fired}
            update.output = Payload(json.dumps(output).encode())
        return Commit(updates=[update])


class ProbeAdapter:
    """Test-only front-end: HTTP routes on the admin listener, a gRPC echo service, the probe engine."""

    name = "probe"

    def __init__(self) -> None:
        self.ctx: AdapterContext | None = None
        self.stopped = False

    async def start(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        ctx.scheduler.register_engine(ProbeEngine())
        routes: list[tuple[str, Any, list[str]]] = [
            ("/probe/instances", self.create, ["POST"]),
            ("/probe/instances", self.list_instances, ["GET"]),
            ("/probe/instances/{id}", self.get, ["GET"]),
            ("/probe/lease", self.lease, ["POST"]),
            ("/probe/complete", self.complete, ["POST"]),
            ("/probe/fail", self.fail, ["POST"]),
        ]
        for path, endpoint, methods in routes:
            ctx.add_http_route("admin", path, _guarded(endpoint), methods)

        async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return request

        handler = grpc.method_handlers_generic_handler(SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(echo)})
        ctx.add_grpc_service(lambda server: server.add_generic_rpc_handlers((handler,)), [SERVICE])

    async def stop(self) -> None:
        self.stopped = True

    @property
    def _ctx(self) -> AdapterContext:
        assert self.ctx is not None
        return self.ctx

    async def create(self, request: Request) -> JSONResponse:
        body = await _parse(request, CreateBody)
        if isinstance(body, JSONResponse):
            return body
        now = self._ctx.clock.now()
        iid = body.id
        jobs = [
            Job(
                id=f"{iid}/job{n}",
                instance_id=iid,
                queue=spec.queue,
                payload=Payload(spec.payload.encode(), "text/plain"),
                timeout=spec.timeout,
                retries=spec.retries,
                origin=ENGINE,
                created_at=now,
            )
            for n, spec in enumerate(body.jobs)
        ]
        keys = list(dict.fromkeys(t.key for t in body.timers))
        state = {"jobs": [j.id for j in jobs], "timers": keys}
        instance = Instance(
            id=iid,
            engine=ENGINE,
            status=InstanceStatus.RUNNING,
            state=json.dumps(state).encode(),
            created_at=now,
        )
        await self._ctx.scheduler.commit(
            Commit(
                # The start event makes the instance runnable, so one with nothing to wait for completes.
                create_instances=[NewInstance(instance, [NewEvent(iid, "probe.started")])],
                new_jobs=jobs,
                timers=[Timer(iid, t.key, now + t.delay) for t in body.timers],
            )
        )
        return JSONResponse({"id": iid}, status_code=201)

    async def get(self, request: Request) -> JSONResponse:
        iid = request.path_params["id"]
        sched = self._ctx.scheduler
        inst = await sched.get_instance(iid)
        if inst is None or inst.engine != ENGINE:
            return _error(404, f"instance {iid!r} not found")
        history = await sched.history(iid)
        inbox = await sched.inbox(iid)
        return JSONResponse(
            {
                "id": inst.id,
                "status": str(inst.status),
                "output": inst.output.data.decode() if inst.output is not None else None,
                "failure": inst.failure.message if inst.failure is not None else None,
                "history": [
                    {"seq": e.seq, "kind": e.kind, "ref": e.ref, "data": e.data.decode("utf-8", "replace")}
                    for e in history
                ],
                "inbox": len(inbox),
            }
        )

    async def list_instances(self, request: Request) -> JSONResponse:
        ids: list[str] = []
        counts: dict[str, int] = {}
        after: str | None = None
        while True:
            page = await self._ctx.scheduler.query_instances(InstanceQuery(engine=ENGINE, after_id=after))
            for inst in page.items:
                ids.append(inst.id)
                counts[str(inst.status)] = counts.get(str(inst.status), 0) + 1
            if page.next_after is None:
                break
            after = page.next_after
        return JSONResponse({"ids": ids, "counts": counts})

    async def lease(self, request: Request) -> JSONResponse:
        body = await _parse(request, LeaseBody)
        if isinstance(body, JSONResponse):
            return body
        jobs = await self._ctx.scheduler.activate([body.queue], body.owner, body.max, body.wait, body.lease_for)
        return JSONResponse(
            {
                "jobs": [
                    {"id": j.id, "attempt": j.attempt, "queue": j.queue, "payload": j.payload.data.decode()}
                    for j in jobs
                ]
            }
        )

    async def complete(self, request: Request) -> JSONResponse:
        body = await _parse(request, CompleteBody)
        if isinstance(body, JSONResponse):
            return body
        await self._ctx.scheduler.complete(JobRef(body.id, body.attempt), body.result.encode())
        return JSONResponse({"ok": True})

    async def fail(self, request: Request) -> JSONResponse:
        body = await _parse(request, FailBody)
        if isinstance(body, JSONResponse):
            return body
        await self._ctx.scheduler.fail(JobRef(body.id, body.attempt), body.error, body.retries, body.backoff)
        return JSONResponse({"ok": True})
