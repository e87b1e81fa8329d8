"""Job commands and activation on the core's job queues (queue = Zeebe job type).

Retries follow the core's Zeebe semantics: `Job.retries` counts attempts left including the
current one, FailJob sets an absolute count, a lease timeout re-enables a job without touching
its retries. A job's variables are computed at activation from the instance's current state, as
Zeebe does, not frozen at creation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from adapters.zeebe.bpmn.state import State, StateCache
from gateway.errors import FailedPrecondition, InvalidArgument, LeaseLost, NotFound
from gateway.model import Commit, Job, JobOutcome, JobStatus, NewEvent
from gateway.ports import Scheduler

TENANT = "<default>"


@dataclass(slots=True)
class ActivatedJobData:
    """An activated job as the wire needs it (the servicer turns it into `ActivatedJob`)."""

    key: int
    type: str
    process_instance_key: int
    bpmn_process_id: str
    version: int
    process_definition_key: int
    element_id: str
    element_instance_key: int
    custom_headers: str
    worker: str
    retries: int
    deadline: int
    variables: str
    job: Job

    @property
    def size(self) -> int:
        return len(self.variables) + len(self.custom_headers) + 200


class JobService:
    """CompleteJob, FailJob, ThrowError, UpdateJobRetries/Timeout and activation."""

    def __init__(
        self, scheduler: Scheduler, states: StateCache | None = None,
        inline: Callable[[Job, dict[str, Any]], Awaitable[bool]] | None = None,
    ) -> None:
        self.scheduler = scheduler
        #: Parsed instance states shared with the engine (read-only here).
        self.states = states or StateCache()
        #: The engine's one-commit completion (`ZeebeEngine.complete_inline`), if any.
        self.inline = inline

    async def _job(self, key: int, verb: str) -> Job:
        job = await self.scheduler.get_job(str(key))
        if job is None or job.kind != "zeebe":
            raise NotFound(f"Expected to {verb} job with key '{key}', but no such job was found")
        return job

    async def complete(self, key: int, variables: dict[str, Any]) -> None:
        job = await self._job(key, "complete")
        if job.status is JobStatus.FAILED:
            raise FailedPrecondition(
                f"Expected to complete job with key '{key}', but it is in state 'FAILED'; resolve its incident first"
            )
        if job.status is JobStatus.LEASED and self.inline is not None and await self.inline(job, variables):
            return
        data = json.dumps(variables).encode()
        try:
            if job.status is JobStatus.LEASED:
                await self.scheduler.complete(job.ref, data)
            else:
                # Zeebe completes an activatable job too (e.g. after its activation timed out).
                await self.scheduler.commit(
                    Commit(cancel_jobs=[job.id], inbox=[NewEvent(job.instance_id, "job.completed", data, job.id)])
                )
        except LeaseLost:
            raise NotFound(f"Expected to complete job with key '{key}', but no such job was found") from None

    async def fail(self, key: int, retries: int, message: str, backoff_ms: int, variables: dict[str, Any]) -> None:
        job = await self._job(key, "fail")
        if job.status is not JobStatus.LEASED:
            state = "FAILED" if job.status is JobStatus.FAILED else "ACTIVATABLE"
            raise FailedPrecondition(f"Expected to fail job with key '{key}', but it is in state '{state}'")
        commit = Commit(
            jobs=[JobOutcome(job.ref, "fail", error=message, retries=retries, backoff=max(0, backoff_ms) / 1000.0)]
        )
        if variables:
            data = json.dumps({"job": job.id, "vars": variables}).encode()
            commit.inbox.append(NewEvent(job.instance_id, "zeebe.job_vars", data))
        try:
            await self.scheduler.commit(commit)
        except LeaseLost:
            raise FailedPrecondition(f"Expected to fail job with key '{key}', but it is not activated") from None

    async def throw_error(self, key: int, code: str, message: str, variables: dict[str, Any]) -> None:
        job = await self._job(key, "throw an error for")
        if job.status is not JobStatus.LEASED:
            raise FailedPrecondition(f"Expected to throw an error for job with key '{key}', but it is not activated")
        data = json.dumps({"job": job.id, "code": code, "msg": message, "vars": variables}).encode()
        commit = Commit(
            jobs=[JobOutcome(job.ref, "complete", post_event=False)],
            inbox=[NewEvent(job.instance_id, "zeebe.throw", data)],
        )
        try:
            await self.scheduler.commit(commit)
        except LeaseLost:
            raise FailedPrecondition(
                f"Expected to throw an error for job with key '{key}', but it is not activated"
            ) from None

    async def update_retries(self, key: int, retries: int) -> None:
        if retries < 1:
            raise InvalidArgument(f"Expected retries to be greater than zero, but it was '{retries}'")
        await self._job(key, "update retries of")
        await self.scheduler.update_job(str(key), retries=retries)

    async def update_timeout(self, key: int, timeout_ms: int) -> None:
        job = await self._job(key, "update the timeout of")
        if job.status is not JobStatus.LEASED:
            raise FailedPrecondition(f"Expected to update the timeout of job with key '{key}', but it is not activated")
        await self.scheduler.update_job(str(key), timeout=max(0, timeout_ms) / 1000.0)

    # ------------------------------------------------------------------ activation

    async def activate(
        self, job_type: str, worker: str, timeout_ms: int, limit: int, fetch: list[str], wait: float
    ) -> list[ActivatedJobData]:
        jobs = await self.scheduler.activate([job_type], worker or "default", limit, wait, timeout_ms / 1000.0)
        if not jobs:
            return []
        try:
            return await self.describe(jobs, fetch)
        except BaseException:
            # The call was cancelled (or reading the instance failed) after the lease: give the jobs
            # back at once instead of leaving them to their lease timeout.
            await asyncio.shield(self._release_jobs(jobs))
            raise

    async def _release_jobs(self, jobs: list[Job]) -> None:
        for job in jobs:
            try:
                await self.scheduler.release(job.ref)
            except LeaseLost:
                pass

    async def describe(self, jobs: list[Job], fetch: list[str]) -> list[ActivatedJobData]:
        states: dict[str, State | None] = {}
        out = []
        for job in jobs:
            if job.instance_id not in states:
                inst = await self.scheduler.get_instance(job.instance_id)
                states[job.instance_id] = (
                    self.states.peek(inst.id, inst.state) if inst is not None and inst.state else None
                )
            state = states[job.instance_id]
            meta = json.loads(job.payload.data or b"{}")
            ei = str(meta.get("ei", ""))
            variables = state.visible(ei) if state is not None and ei in state.ei else {}
            if fetch:
                variables = {k: v for k, v in variables.items() if k in fetch}
            out.append(
                ActivatedJobData(
                    key=int(job.id), type=job.queue, process_instance_key=int(meta.get("pik", 0)),
                    bpmn_process_id=meta.get("pid", ""), version=int(meta.get("ver", 0)),
                    process_definition_key=int(meta.get("pdk", 0)), element_id=meta.get("el", ""),
                    element_instance_key=int(meta.get("ei", 0)), custom_headers=json.dumps(job.headers),
                    worker=job.lease_owner, retries=job.retries if job.retries is not None else 0,
                    deadline=int(job.lease_expires * 1000), variables=json.dumps(variables), job=job,
                )
            )
        return out

    async def release(self, jobs: list[ActivatedJobData]) -> None:
        """Give jobs that could not be delivered back, retries unchanged."""
        await self._release_jobs([j.job for j in jobs])
