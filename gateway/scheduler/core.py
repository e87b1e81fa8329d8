"""The scheduler core: one loop family for every protocol.

- Instance steps: claim runnable instances (single writer through the step lease and the revision
  fence), run their engine's decider, commit the decision atomically.
- Jobs: pull workers lease by queue with long-poll (`activate`); push executors get jobs leased
  and delivered by a dispatcher task each. Completing or failing a job posts an event to its
  instance in the same commit. Retries back off exponentially unless told otherwise.
- Time: one tick loop fires due timers, returns expired leases, expires buffered messages and
  wakes whoever waits for those queues or instances.

Wake-ups go through the `Notifier`, with a polling fallback (`poll_interval`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.errors import DeadlineExceeded, LeaseLost, Unavailable
from gateway.model import (
    Commit,
    DataObject,
    Event,
    Instance,
    InstanceQuery,
    InstanceUpdate,
    Job,
    JobOutcome,
    JobRef,
    Message,
    Page,
    StepClaim,
)
from gateway.ports import (
    Clock,
    CommitResult,
    Engine,
    Metrics,
    Notifier,
    PublishResult,
    PushExecutor,
    SchedulingPolicy,
    Storage,
    TickResult,
)
from gateway.scheduler.policy import FifoPolicy

log = logging.getLogger("gateway.scheduler")


@dataclass(slots=True, frozen=True)
class Route:
    """Jobs created for `queue` go to `target_queue` (and are marked for `executor`) instead."""

    queue: str
    target_queue: str
    executor: str = ""


class CoreScheduler:
    """Implements `gateway.ports.Scheduler` on a `Storage`, a `Clock` and a `Notifier`."""

    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        notifier: Notifier,
        *,
        policy: SchedulingPolicy | None = None,
        metrics: Metrics | None = None,
        owner: str = "",
        step_lease: float = 5.0,
        poll_interval: float = 1.0,
        step_batch: int = 64,
        retry_backoff: tuple[float, float] = (1.0, 60.0),
        routes: Sequence[Route] = (),
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.notifier = notifier
        self.policy: SchedulingPolicy = policy or FifoPolicy()
        self.metrics = metrics
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.step_lease = step_lease
        self.poll_interval = poll_interval
        self.step_batch = step_batch
        self.retry_backoff = retry_backoff
        self.routes = {r.queue: r for r in routes}
        self.engines: dict[str, Engine] = {}
        self._executors: dict[str, PushExecutor] = {}
        self._dispatchers: dict[str, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._deliveries: set[asyncio.Task[None]] = set()
        self._running = False
        self._next_due: float | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the step loop, the tick loop and one dispatcher per registered push executor."""
        self._running = True
        self._tasks = [
            asyncio.create_task(self._step_loop(), name="gateway-steps"),
            asyncio.create_task(self._tick_loop(), name="gateway-ticks"),
        ]
        for name in self._executors:
            self._start_dispatcher(name)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the loops; deliveries in flight get `grace` seconds to finish."""
        self._running = False
        self.notifier.notify(["steps", "timers", *(f"q:{q}" for x in self._executors.values() for q in x.queues)])
        for task in [*self._tasks, *self._dispatchers.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._dispatchers.values(), return_exceptions=True)
        self._tasks.clear()
        self._dispatchers.clear()
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=grace)
            for task in self._deliveries:
                task.cancel()

    # ------------------------------------------------------------------ registration

    def register_engine(self, engine: Engine) -> None:
        self.engines[engine.name] = engine
        self.notifier.notify(["steps"])

    def register_push_executor(self, executor: PushExecutor) -> Callable[[], None]:
        self._executors[executor.name] = executor
        if self._running:
            self._start_dispatcher(executor.name)

        def unregister() -> None:
            if self._executors.get(executor.name) is executor:
                del self._executors[executor.name]
                task = self._dispatchers.pop(executor.name, None)
                if task is not None:
                    task.cancel()

        return unregister

    # ------------------------------------------------------------------ writes

    async def commit(self, commit: Commit) -> CommitResult:
        if self.routes and commit.new_jobs:
            for job in commit.new_jobs:
                route = self.routes.get(job.queue)
                if route is not None:
                    job.queue = route.target_queue
                    job.executor = route.executor or job.executor
        now = self.clock.now()
        result = await self.storage.commit(commit, now)
        self._wake(result.ready_queues, result.runnable, result.changed_instances, result.earliest_due)
        if self.metrics is not None:
            self.metrics.on_commit(result, now)
        return result

    def _wake(self, queues: set[str], runnable: bool, instances: set[str], due: float | None) -> None:
        topics = [f"q:{q}" for q in queues]
        if runnable:
            topics.append("steps")
        topics.extend(f"i:{i}" for i in instances)
        if due is not None and (self._next_due is None or due < self._next_due):
            self._next_due = due
            topics.append("timers")
        if topics:
            self.notifier.notify(topics)

    async def publish(self, message: Message) -> PublishResult:
        result = await self.storage.publish(message, self.clock.now())
        if result.correlated:
            self._wake(set(), True, set(result.correlated), None)
        if result.buffered:
            self._wake(set(), False, set(), message.expires_at)
        return result

    async def complete(self, ref: JobRef, result: bytes = b"", commit: Commit | None = None) -> None:
        c = commit if commit is not None else Commit()
        c.jobs.append(JobOutcome(ref, "complete", result))
        await self.commit(c)

    async def fail(
        self, ref: JobRef, error: str, retries: int | None = None, backoff: float | None = None
    ) -> None:
        if backoff is None:
            base, cap = self.retry_backoff
            backoff = min(cap, base * 2 ** max(0, ref.attempt - 1))
        await self.commit(Commit(jobs=[JobOutcome(ref, "fail", error=error, retries=retries, backoff=backoff)]))

    async def release(self, ref: JobRef, delay: float = 0.0) -> None:
        await self.commit(Commit(jobs=[JobOutcome(ref, "release", backoff=delay)]))

    async def update_job(
        self,
        job_id: str,
        *,
        retries: int | None = None,
        timeout: float | None = None,
        ref: JobRef | None = None,
    ) -> Job:
        now = self.clock.now()
        job = await self.storage.update_job(
            job_id,
            retries=retries,
            lease_expires=None if timeout is None else now + timeout,
            ref=ref,
            now=now,
        )
        if retries is not None:
            self.notifier.notify([f"q:{job.queue}"])
        return job

    # ------------------------------------------------------------------ pull leasing

    async def activate(
        self, queues: Sequence[str], owner: str, limit: int, wait: float, lease_for: float | None = None
    ) -> list[Job]:
        clock = self.clock
        # The wait is a duration of the caller's request (its RPC deadline), so it is measured on
        # the monotonic clock; lease times come from the scheduler's clock.
        deadline = time.monotonic() + wait
        topics = [f"q:{q}" for q in queues]
        waiter: asyncio.Task[bool] | None = None
        try:
            while True:
                now = clock.now()
                jobs = await self.storage.lease_jobs(
                    self.policy.arrange(queues), owner, limit, now, self.policy.order, lease_for
                )
                if jobs:
                    if self.metrics is not None:
                        self.metrics.on_leased(jobs, now)
                    return jobs
                if time.monotonic() >= deadline:
                    return []
                if waiter is not None:
                    await waiter  # listening since before the read above
                waiter = await self._listen(topics, min(deadline - time.monotonic(), self.poll_interval))
        finally:
            if waiter is not None:
                waiter.cancel()

    # ------------------------------------------------------------------ reads

    async def wait_instance(
        self, instance_id: str, until: Callable[[Instance | None], bool], timeout: float
    ) -> Instance | None:
        deadline = time.monotonic() + timeout
        topic = [f"i:{instance_id}"]
        waiter: asyncio.Task[bool] | None = None
        try:
            while True:
                inst = await self.storage.get_instance(instance_id)
                if until(inst):
                    return inst
                if time.monotonic() >= deadline:
                    raise DeadlineExceeded(f"instance {instance_id!r} did not reach the awaited state in time")
                if waiter is not None:
                    await waiter  # listening since before the read above
                waiter = await self._listen(topic, min(deadline - time.monotonic(), self.poll_interval))
        finally:
            if waiter is not None:
                waiter.cancel()

    async def _listen(self, topics: Sequence[str], timeout: float) -> asyncio.Task[bool]:
        """A wait on `topics` that is already listening when this returns. Start it before reading
        storage and await it only if the read found nothing: waiting after the read would lose a
        wake-up that arrives during the read (a NOTIFY from another replica can arrive at any
        time) and cost a whole poll interval."""
        waiter = asyncio.ensure_future(self.notifier.wait(topics, timeout))
        await asyncio.sleep(0)  # its first step registers the interest, before our next read
        return waiter

    async def get_instance(self, instance_id: str) -> Instance | None:
        return await self.storage.get_instance(instance_id)

    async def query_instances(self, query: InstanceQuery) -> Page:
        return await self.storage.query_instances(query)

    async def history(self, instance_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        return await self.storage.history(instance_id, after_seq, limit)

    async def inbox(self, instance_id: str) -> list[Event]:
        return await self.storage.inbox(instance_id)

    async def get_job(self, job_id: str) -> Job | None:
        return await self.storage.get_job(job_id)

    async def list_jobs(self, instance_id: str) -> list[Job]:
        return await self.storage.list_jobs(instance_id)

    async def get_data(self, object_id: str) -> DataObject | None:
        return await self.storage.get_data(object_id)

    # ------------------------------------------------------------------ loops

    async def _step_loop(self) -> None:
        waiter: asyncio.Task[bool] | None = None  # listening since before the last empty claim
        try:
            while self._running:
                try:
                    if not self.engines:
                        await self.notifier.wait(["steps"], self.poll_interval)
                        continue
                    claims = await self.storage.claim_steps(
                        self.owner, self.step_batch, self.step_lease, self.clock.now(), self.engines.keys()
                    )
                    if not claims:
                        if waiter is not None:
                            await waiter
                        waiter = await self._listen(["steps"], self.poll_interval)
                        continue
                    await self._steps(claims)
                except asyncio.CancelledError:
                    raise
                except Unavailable as exc:
                    log.warning("step loop: storage unavailable: %s", exc)
                    await asyncio.sleep(self.poll_interval)
                except Exception:
                    log.exception("step loop failed; retrying")
                    await asyncio.sleep(self.poll_interval)
        finally:
            if waiter is not None:
                waiter.cancel()

    async def _steps(self, claims: list[StepClaim]) -> None:
        """Decide every claim, then commit the decisions together: one storage round trip (and one
        durability wait) for the batch instead of one per instance."""
        started = time.perf_counter()
        now = self.clock.now()
        commits: list[Commit] = []
        engines: list[str] = []
        for claim in claims:
            engine = self.engines[claim.instance.engine]
            try:
                commit = await engine.decide(claim, now)
            except Exception:
                # The step lease stays until it expires: a failing decider is retried after step_lease.
                log.exception("engine %s failed on instance %s", engine.name, claim.instance.id)
                continue
            commit.step = claim.token
            if claim.inbox:
                last = claim.inbox[-1].seq
                for update in commit.updates:
                    if update.instance_id == claim.instance.id:
                        if update.seen_upto is None:
                            update.seen_upto = last
                        break
                else:
                    commit.updates.append(InstanceUpdate(claim.instance.id, seen_upto=last))
            commits.append(commit)
            engines.append(engine.name)
        if not commits:
            return
        results = await self.storage.commit_many(commits, self.clock.now())
        now = self.clock.now()
        for commit, result in zip(commits, results, strict=True):
            if isinstance(result, CommitResult):
                self._wake(result.ready_queues, result.runnable, result.changed_instances, result.earliest_due)
                if self.metrics is not None:
                    self.metrics.on_commit(result, now)
            elif isinstance(result, LeaseLost):
                log.debug("step on %s lost its lease; it will be stepped again", commit.step)
            else:
                log.error("commit of a step on %s failed: %s", commit.step, result)
        if self.metrics is not None:
            each = (time.perf_counter() - started) / len(commits)
            for name in engines:
                self.metrics.observe_step(name, each)

    async def _tick_loop(self) -> None:
        since = self.clock.now()
        while self._running:
            # Listening before the tick reads storage: an earlier timer committed meanwhile (here
            # or by another replica) then cuts the wait short instead of being missed.
            waiter = await self._listen(["timers"], self.poll_interval)
            try:
                now = self.clock.now()
                res: TickResult = await self.storage.tick(now, since)
                since = now
                self._next_due = res.next_due
                self._wake(res.ready_queues, res.runnable, res.changed_instances, None)
                if self.metrics is not None:
                    self.metrics.on_tick(res)
                if res.fired_timers >= 1000 or len(res.expired_jobs) >= 1000:
                    continue
                delay = self.poll_interval
                if res.next_due is not None:
                    delay = max(0.0, min(delay, res.next_due - self.clock.now()))
                if delay > 0:
                    await asyncio.wait([waiter], timeout=delay)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tick failed; retrying")
                await asyncio.sleep(self.poll_interval)
            finally:
                waiter.cancel()

    # ------------------------------------------------------------------ push dispatch

    def _start_dispatcher(self, name: str) -> None:
        if name not in self._dispatchers:
            self._dispatchers[name] = asyncio.create_task(self._dispatch(name), name=f"gateway-push-{name}")

    async def _dispatch(self, name: str) -> None:
        executor = self._executors[name]
        owner = f"{self.owner}/{name}"
        free = asyncio.Semaphore(executor.capacity)
        queues = list(executor.queues)
        while self._running and self._executors.get(name) is executor:
            try:
                await free.acquire()
                n = 1
                # Take every free slot at once so a burst is leased in one storage call.
                while n < executor.capacity and not free.locked():
                    await free.acquire()
                    n += 1
                jobs = await self.activate(queues, owner, n, self.poll_interval)
                for _ in range(n - len(jobs)):
                    free.release()
                for job in jobs:
                    task = asyncio.create_task(self._deliver(executor, job, free))
                    self._deliveries.add(task)
                    task.add_done_callback(self._deliveries.discard)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher %s failed; retrying", name)
                await asyncio.sleep(self.poll_interval)

    async def _deliver(self, executor: PushExecutor, job: Job, free: asyncio.Semaphore) -> None:
        try:
            await executor.deliver(job)
        except Exception as exc:
            log.warning("delivery of job %s to %s failed: %s", job.id, executor.name, exc)
            try:
                await self.fail(job.ref, f"{type(exc).__name__}: {exc}")
            except LeaseLost:
                pass
        finally:
            free.release()
