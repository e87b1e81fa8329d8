"""The polling agent: one core PushExecutor per worker, capacity 1 (a Python worker serves one RPC
at a time), leasing the jobs of its partition's queue.

Per task: check the session, mark DISPATCHED, HealthCheck the worker unless it answered a call
within `health_check_interval` (unhealthy: release the job, no retry consumed, and hold the slot
until the worker is back), stage `<shared>/<token>/` with the payload and dependencies (the folder
is made ahead and removed behind by a helper thread, see `folders`), mark PROCESSING, call Process
with deadline = max_duration while the Agent buffers the worker's calls under the token, then close
the token. The worker is free then: `deliver` returns (the dispatcher leases its next task) and the
outcome is committed alongside in one commit (`graph.task_ok` / `task_failed` / `task_crashed`), the
job still leased until that commit finishes it; only then is the folder removed. After a timeout or
a stop the worker is still busy: the outcome is committed and the folder removed at once, and the
slot is held until its HealthCheck answers again."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Collection

import grpc

from gateway.errors import GatewayError, LeaseLost
from gateway.model import Commit, Job, JobOutcome
from gateway.ports import Metrics

from . import graph
from ._pb import objects_pb2, worker_common_pb2, worker_service_pb2_grpc
from .agent import AgentCall, Tokens
from .config import ArmoniKSettings, Worker
from .convert import options_to_pb
from .folders import Folders, read_file
from .records import Session, SessionStatus, TaskRec, TaskStatus
from .store import Store, Tx, queue_name

log = logging.getLogger("gateway.armonik")
#: What one Process call produced: the agent call (its buffer), the reply or the error code and details.
_Outcome = tuple[AgentCall, worker_common_pb2.ProcessReply | None, grpc.StatusCode | None, str]
HOST = socket.gethostname()
SERVING = worker_common_pb2.HealthCheckReply.SERVING
READY = grpc.ChannelConnectivity.READY


class WorkerExecutor:
    """`gateway.ports.PushExecutor` for one worker endpoint."""

    def __init__(self, store: Store, tokens: Tokens, folders: Folders, cfg: ArmoniKSettings, worker: Worker,
                 metrics: Metrics | None = None) -> None:
        self.store = store
        self.tokens = tokens
        self.folders = folders
        self.cfg = cfg
        self.worker = worker
        self.metrics = metrics
        self.name = f"armonik:{worker.name}"
        self.queues: Collection[str] = [queue_name(worker.partition)]
        #: One job at a time: a Python worker serves one RPC at a time, and a job leased ahead
        #: would wait behind the current one even if a higher-priority job arrived meanwhile.
        self.capacity = 1
        #: Outcome commits running after `deliver` returned (awaited by `close`).
        self.committing: set[asyncio.Task[None]] = set()
        self.channel = grpc.aio.insecure_channel(
            worker.target, options=[("grpc.max_receive_message_length", 64 << 20)]
        )
        self.stub = worker_service_pb2_grpc.WorkerStub(self.channel)
        self.healthy = False
        self.processed = 0
        self.last_ok = float("-inf")
        #: Seconds spent per phase (health, stage, process, commit), logged at close.
        self.phases: dict[str, float] = {}

    async def close(self) -> None:
        if self.committing:
            await asyncio.wait(self.committing, timeout=10.0)
        if self.processed:
            log.info("armonik worker %s: %d task(s); seconds per phase %s", self.worker.name, self.processed,
                     {k: round(v, 3) for k, v in self.phases.items()})
        await self.channel.close()

    def _time(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - started
        return now

    # ------------------------------------------------------------------ health
    async def _health(self) -> bool:
        try:
            reply = await self.stub.HealthCheck(objects_pb2.Empty(), timeout=self.cfg.health_check_timeout)
            ok = reply.status == SERVING
        except grpc.aio.AioRpcError:
            ok = False
        if ok:
            self.last_ok = time.perf_counter()
        if ok != self.healthy:
            self.healthy = ok
            log.info("armonik worker %s is %s", self.worker.name, "healthy" if ok else "not healthy")
            if self.metrics is not None:
                self.metrics.worker_connected("armonik", 1 if ok else -1)
        return ok

    def _fresh(self, now: float) -> bool:
        """Skip the HealthCheck round trip: the worker answered a call less than
        `health_check_interval` seconds ago and its connection is still up (a worker that died or
        restarted since has dropped it). 0 = a HealthCheck before every task, as Core."""
        return (now - self.last_ok < self.cfg.health_check_interval
                and self.channel.get_state(try_to_connect=False) is READY)

    async def wait_healthy(self) -> None:
        delay = 0.05
        while not await self._health():
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)

    # ------------------------------------------------------------------ delivery
    async def deliver(self, job: Job) -> None:
        s = self.store.sessions.get(job.instance_id)
        t = s.tasks.get(job.id) if s is not None else None
        if s is not None and (t is None or t.status is not TaskStatus.SUBMITTED):
            # The core hands a job out as soon as storage holds it, which can be before the change
            # that queued it is durable and applied here; that change holds the session lock.
            async with s.lock:
                t = s.tasks.get(job.id)
        if s is None or t is None:
            await self._drop(job)
            return
        if not await self._runnable(s, t, job):
            return
        self._mark(s, t, TaskStatus.DISPATCHED)
        started = time.perf_counter()
        healthy = self._fresh(started) or await self._health()
        started = self._time("health", started)
        if not healthy:
            if t.status is TaskStatus.DISPATCHED and s.tasks.get(t.id) is t:
                self._mark(s, t, TaskStatus.SUBMITTED)
                try:
                    await self.store.scheduler.release(job.ref)
                except LeaseLost:
                    pass
            await self.wait_healthy()
            return
        token, folder = self.folders.take()
        done = False
        try:
            files = []
            for rid in dict.fromkeys([t.payload_id, *t.data_dependencies]):
                obj = await self.store.scheduler.get_data(rid)
                files.append((rid, obj.payload.data if obj is not None and obj.payload is not None else b""))
            await self.folders.stage(folder, files)
            self._time("stage", started)
            if s.tasks.get(t.id) is not t or t.status is not TaskStatus.DISPATCHED:
                return  # paused or cancelled meanwhile: its job is gone
            outcome = await self._process(s, t, job, token, folder)
            if outcome is None or outcome[2] is grpc.StatusCode.DEADLINE_EXCEEDED:
                # Stopped or timed out: the worker keeps running the abandoned Process. Commit,
                # remove the folder (a late write must fail), and hold the worker until it is free.
                if outcome is not None:
                    await self._outcome(s, job, *outcome)
                self.folders.remove(folder)
                done = True
                await self.wait_healthy()
                return
            # The worker is free: hand the slot back to the dispatcher (its next task starts now) and
            # commit this outcome meanwhile. The job stays leased until the commit finishes it.
            commit = asyncio.create_task(self._finish(s, job, outcome, folder))
            done = True
            self.committing.add(commit)
            commit.add_done_callback(self.committing.discard)
        finally:
            if not done:
                self.folders.discard(folder)

    async def _finish(self, s: Session, job: Job, outcome: _Outcome, folder: str) -> None:
        started = time.perf_counter()
        try:
            await self._outcome(s, job, *outcome)
        except Exception:
            log.exception("armonik task %s: committing its outcome failed", job.id)
        finally:
            # The worker is done with the folder: remove it behind, off the loop.
            self.folders.discard(folder)
            self._time("commit", started)

    async def _runnable(self, s: Session, t: TaskRec, job: Job) -> bool:
        """Whether a leased task is still to run; if not, its job is finished here."""
        if t.status is not TaskStatus.SUBMITTED:
            # Paused or cancelled while queued (its job is normally gone already): nothing to run.
            await self._change(s, lambda tx: tx.finish_job(job.ref, "cancel"))
            return False
        if s.meta.status in (SessionStatus.CLOSED, SessionStatus.CANCELLED, SessionStatus.PURGED):
            await self._change(s, lambda tx: _cancel_dequeued(tx, job))
            return False
        return self.store.sessions.get(s.meta.id) is s

    async def _process(self, s: Session, t: TaskRec, job: Job, token: str, folder: str) -> _Outcome | None:
        """Call Process with the agent listening on `token`; None if stopped meanwhile."""
        tid = t.id
        self._mark(s, t, TaskStatus.PROCESSING)
        call = AgentCall(token, s, tid, folder)
        self.tokens.open(call)
        request = worker_common_pb2.ProcessRequest(
            communication_token=token, session_id=s.meta.id, task_id=tid, task_options=options_to_pb(t.options),
            expected_output_keys=t.expected_output_ids, payload_id=t.payload_id,
            data_dependencies=t.data_dependencies, data_folder=folder,
            configuration=objects_pb2.Configuration(data_chunk_max_size=self.cfg.data_chunk_max_size),
        )
        started = time.perf_counter()
        stopped = False
        rpc = self.stub.Process(request, timeout=t.options.max_duration)

        def stop() -> None:
            nonlocal stopped
            stopped = True
            rpc.cancel()

        self.store.running[tid] = stop
        reply = None
        code: grpc.StatusCode | None = None
        details = ""
        try:
            reply = await rpc
        except grpc.aio.AioRpcError as exc:
            code, details = exc.code(), exc.details() or ""
        except asyncio.CancelledError:
            if not stopped:
                raise
        finally:
            self.tokens.close(token)
            self.store.running.pop(tid, None)
        self.processed += 1
        now = self._time("process", started)
        # A successful call is as good a liveness proof as a HealthCheck; a failed one is not.
        self.last_ok = now if code is None else float("-inf")
        if stopped:
            return None
        return call, reply, code, details

    async def _outcome(self, s: Session, job: Job, call: AgentCall, reply: worker_common_pb2.ProcessReply | None,
                       code: grpc.StatusCode | None, details: str) -> None:
        """Commit what the attempt produced."""
        tid, ref = job.id, job.ref
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            await self._change(s, lambda tx: graph.task_failed(
                tx, tid, ref, TaskStatus.TIMEOUT, "Deadline exceeded: the task ran longer than its max_duration"))
            return
        if code is not None:
            why = f"worker call failed: {code.name}: {details}"
            await self._change(s, lambda tx: graph.task_crashed(tx, tid, ref, why))
            return
        assert reply is not None
        kind = reply.output.WhichOneof("type")
        if kind == "error":
            msg = reply.output.error.details
            await self._change(s, lambda tx: graph.task_failed(tx, tid, ref, TaskStatus.ERROR, msg))
            return
        if kind != "ok":
            await self._change(s, lambda tx: graph.task_crashed(tx, tid, ref, "worker returned an empty output"))
            return
        try:
            files = {}
            for rid in dict.fromkeys(call.buffer.notified):
                files[rid] = await read_file(os.path.join(call.folder, rid))
            await self.store.change(s, lambda tx: graph.task_ok(tx, tid, ref, call.buffer, files))
        except LeaseLost:
            log.info("armonik task %s: lease lost (cancelled meanwhile); its results are discarded", tid)
        except (OSError, GatewayError) as exc:
            # Post-processing failed: nothing of the buffer was applied; retried like a crash.
            why = f"post-processing failed: {type(exc).__name__}: {exc}"
            log.warning("armonik task %s: %s", tid, why)
            await self._change(s, lambda tx: graph.task_crashed(tx, tid, ref, why))

    # ------------------------------------------------------------------ helpers
    async def _change(self, s: Session, fn: object) -> None:
        try:
            await self.store.change(s, fn)  # type: ignore[arg-type]
        except LeaseLost:
            log.info("armonik: lease lost on a task of session %s (cancelled meanwhile)", s.meta.id)
        except GatewayError as exc:  # the session was deleted meanwhile
            log.info("armonik: outcome dropped: %s", exc)

    async def _drop(self, job: Job) -> None:
        try:
            await self.store.scheduler.commit(Commit(jobs=[JobOutcome(job.ref, "cancel", post_event=False)]))
        except GatewayError:
            pass

    def _mark(self, s: Session, t: TaskRec, status: TaskStatus) -> None:
        """An in-memory transition (not journaled: a restart puts the task back to SUBMITTED). It
        needs no session lock: it is synchronous, and a change in flight that also touches the task
        (pause, cancel) applies its own copy afterwards, which wins."""
        now = self.store.scheduler.clock.now()
        t.status = status
        if status is TaskStatus.DISPATCHED:
            t.received_at = t.acquired_at = now
            t.owner_pod_id, t.pod_hostname = self.worker.name, HOST
        elif status is TaskStatus.PROCESSING:
            t.fetched_at = t.started_at = now
        self.store.publish_now(s, [("task_status", t, int(status), "", "")])


def _cancel_dequeued(tx: Tx, job: Job) -> None:
    """A queued task of a closed session is cancelled when dequeued, its outputs aborted."""
    tx.finish_job(job.ref)
    t = tx.wtask(job.id)
    graph.set_status(tx, t, TaskStatus.CANCELLING)
    graph.end_task(tx, t, TaskStatus.CANCELLED, "session closed")
