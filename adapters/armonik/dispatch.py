"""The polling agent: one core PushExecutor per worker, capacity 1 (a Python worker serves one RPC
at a time), leasing the jobs of its partition's queue.

Per task: check the session, mark DISPATCHED, HealthCheck the worker (unhealthy: release the job,
no retry consumed, and hold the slot until the worker is back), stage `<shared>/<token>/` with the
payload and dependencies, mark PROCESSING, call Process with deadline = max_duration while the Agent
buffers the worker's calls under the token, then close the token and commit the outcome in one
commit (`graph.task_ok` / `task_failed` / `task_crashed`), and only then delete the folder. After
a timeout or a stop the worker is still busy: the slot is held until its HealthCheck answers again.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import time
import uuid
from collections.abc import Collection
from pathlib import Path

import grpc

from gateway.errors import GatewayError, LeaseLost
from gateway.model import Commit, Job, JobOutcome
from gateway.ports import Metrics

from . import graph
from ._pb import objects_pb2, worker_common_pb2, worker_service_pb2_grpc
from .agent import AgentCall, Tokens, read_file, write_file
from .config import ArmoniKSettings, Worker
from .convert import options_to_pb
from .records import Session, SessionStatus, TaskStatus
from .store import Store, Tx, queue_name

log = logging.getLogger("gateway.armonik")
HOST = socket.gethostname()
SERVING = worker_common_pb2.HealthCheckReply.SERVING


class WorkerExecutor:
    """`gateway.ports.PushExecutor` for one worker endpoint."""

    def __init__(self, store: Store, tokens: Tokens, cfg: ArmoniKSettings, worker: Worker,
                 metrics: Metrics | None = None) -> None:
        self.store = store
        self.tokens = tokens
        self.cfg = cfg
        self.worker = worker
        self.metrics = metrics
        self.name = f"armonik:{worker.name}"
        self.queues: Collection[str] = [queue_name(worker.partition)]
        self.capacity = 1
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

    async def wait_healthy(self) -> None:
        delay = 0.05
        while not await self._health():
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)

    # ------------------------------------------------------------------ delivery
    async def deliver(self, job: Job) -> None:
        s = self.store.sessions.get(job.instance_id)
        t = s.tasks.get(job.id) if s is not None else None
        if s is None or t is None:
            await self._drop(job)
            return
        if t.status is not TaskStatus.SUBMITTED:
            # Paused or cancelled while queued (its job is normally gone already): nothing to run.
            await self._change(s, lambda tx: tx.finish_job(job.ref, "cancel"))
            return
        if s.meta.status in (SessionStatus.CLOSED, SessionStatus.CANCELLED, SessionStatus.PURGED):
            await self._change(s, lambda tx: _cancel_dequeued(tx, job))
            return
        if not await self._mark(s, job.id, TaskStatus.SUBMITTED, TaskStatus.DISPATCHED):
            return
        started = time.perf_counter()
        # Core checks liveness before every task; `health_check_interval` > 0 trusts a worker that
        # answered a call within that many seconds (saves one round trip per task).
        fresh = started - self.last_ok < self.cfg.health_check_interval
        healthy = fresh or await self._health()
        self._time("health", started)
        if not healthy:
            if await self._mark(s, job.id, TaskStatus.DISPATCHED, TaskStatus.SUBMITTED):
                try:
                    await self.store.scheduler.release(job.ref)
                except LeaseLost:
                    pass
            await self.wait_healthy()
            return
        await self._run(s, job)

    async def _run(self, s: Session, job: Job) -> None:
        tid = job.id
        t = s.tasks[tid]
        token = str(uuid.uuid4())
        folder = Path(self.cfg.shared_folder) / token
        folder.mkdir(parents=True)
        busy_after = False
        started = time.perf_counter()
        try:
            for rid in dict.fromkeys([t.payload_id, *t.data_dependencies]):
                obj = await self.store.scheduler.get_data(rid)
                await write_file(folder / rid, obj.payload.data if obj is not None and obj.payload else b"")
            if not await self._mark(s, tid, TaskStatus.DISPATCHED, TaskStatus.PROCESSING):
                return
            call = AgentCall(token, s, tid, folder)
            self.tokens.open(call)
            request = worker_common_pb2.ProcessRequest(
                communication_token=token, session_id=s.meta.id, task_id=tid, task_options=options_to_pb(t.options),
                expected_output_keys=t.expected_output_ids, payload_id=t.payload_id,
                data_dependencies=t.data_dependencies, data_folder=str(folder),
                configuration=objects_pb2.Configuration(data_chunk_max_size=self.cfg.data_chunk_max_size),
            )
            stopped = asyncio.Event()
            started = self._time("stage", started)
            rpc = self.stub.Process(request, timeout=t.options.max_duration)

            def stop() -> None:
                stopped.set()
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
                if not stopped.is_set():
                    raise
            finally:
                self.tokens.close(token)
                self.store.running.pop(tid, None)
            self.processed += 1
            started = self._time("process", started)
            if code is None:
                self.last_ok = started
            if stopped.is_set():
                busy_after = True
                return
            busy_after = await self._outcome(s, job, call, reply, code, details)
            started = self._time("commit", started)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self._time("cleanup", started)
            if busy_after:
                # The worker keeps running the abandoned Process; dispatch to it again only once free.
                await self.wait_healthy()

    async def _outcome(self, s: Session, job: Job, call: AgentCall, reply: worker_common_pb2.ProcessReply | None,
                       code: grpc.StatusCode | None, details: str) -> bool:
        """Commit what the attempt produced; True if the worker is presumably still busy."""
        tid, ref = job.id, job.ref
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            await self._change(s, lambda tx: graph.task_failed(
                tx, tid, ref, TaskStatus.TIMEOUT, "Deadline exceeded: the task ran longer than its max_duration"))
            return True
        if code is not None:
            why = f"worker call failed: {code.name}: {details}"
            await self._change(s, lambda tx: graph.task_crashed(tx, tid, ref, why))
            return False
        assert reply is not None
        kind = reply.output.WhichOneof("type")
        if kind == "error":
            msg = reply.output.error.details
            await self._change(s, lambda tx: graph.task_failed(tx, tid, ref, TaskStatus.ERROR, msg))
            return False
        if kind != "ok":
            await self._change(s, lambda tx: graph.task_crashed(tx, tid, ref, "worker returned an empty output"))
            return False
        try:
            files = {}
            for rid in dict.fromkeys(call.buffer.notified):
                files[rid] = await read_file(call.folder / rid)
            await self.store.change(s, lambda tx: graph.task_ok(tx, tid, ref, call.buffer, files))
        except LeaseLost:
            log.info("armonik task %s: lease lost (cancelled meanwhile); its results are discarded", tid)
        except (OSError, GatewayError) as exc:
            # Post-processing failed: nothing of the buffer was applied; retried like a crash.
            why = f"post-processing failed: {type(exc).__name__}: {exc}"
            log.warning("armonik task %s: %s", tid, why)
            await self._change(s, lambda tx: graph.task_crashed(tx, tid, ref, why))
        return False

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

    async def _mark(self, s: Session, tid: str, expect: TaskStatus, status: TaskStatus) -> bool:
        """An in-memory transition (not journaled: a restart puts the task back to SUBMITTED)."""
        async with s.lock:
            t = s.tasks.get(tid)
            if t is None or t.status is not expect or self.store.sessions.get(s.meta.id) is not s:
                return False
            now = self.store.scheduler.clock.now()
            t.status = status
            if status is TaskStatus.DISPATCHED:
                t.received_at = t.acquired_at = now
                t.owner_pod_id, t.pod_hostname = self.worker.name, HOST
            elif status is TaskStatus.PROCESSING:
                t.fetched_at = t.started_at = now
            self.store.publish_now(s, [("task_status", t, int(status), "", "")])
            return True


def _cancel_dequeued(tx: Tx, job: Job) -> None:
    """A queued task of a closed session is cancelled when dequeued, its outputs aborted."""
    tx.finish_job(job.ref)
    t = tx.wtask(job.id)
    graph.set_status(tx, t, TaskStatus.CANCELLING)
    graph.end_task(tx, t, TaskStatus.CANCELLED, "session closed")
