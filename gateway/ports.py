"""The small interfaces between the core's parts, and between the core and the adapters.

- `Clock`, `Notifier`, `Storage`, `SchedulingPolicy`: what the scheduler is built on; storage
  backends (memory, sqlite, postgres) implement `Storage` and pass one conformance suite.
- `Engine` (a decider) and `PushExecutor`: what adapters register with the scheduler.
- `Scheduler`: the core's API as adapters see it.
- `Adapter` and `AdapterContext`: how a protocol front-end plugs into the process.

Adapters import only `gateway.model`, `gateway.ports` and `gateway.errors`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from gateway.errors import GatewayError
from gateway.model import (
    Commit,
    DataObject,
    Event,
    Instance,
    InstanceQuery,
    InstanceStatus,
    Job,
    JobRef,
    Message,
    Page,
    StepClaim,
)

# ---------------------------------------------------------------------------------------------
# Time and wake-ups
# ---------------------------------------------------------------------------------------------


class Clock(Protocol):
    """The one source of time. Tests use a manual clock they can move."""

    def now(self) -> float:
        """POSIX seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep on this clock (a manual clock returns when time is moved past the deadline)."""
        ...


class Notifier(Protocol):
    """Wake-ups by topic: asyncio events in one process, LISTEN/NOTIFY across replicas.

    Topics used by the core: `q:<queue>` (a job became ready), `steps` (an instance became
    runnable), `i:<instance id>` (an instance changed), `timers` (an earlier due time exists).
    A wake-up is a hint: waiters always re-check storage, and poll as a fallback.
    """

    def notify(self, topics: Iterable[str]) -> None:
        """Wake every waiter of any of these topics (local; backends may also publish remotely)."""
        ...

    async def wait(self, topics: Collection[str], timeout: float) -> bool:
        """Wait until one of the topics is notified or `timeout` passes; True if notified."""
        ...


# ---------------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class CommitResult:
    """What a commit changed that somebody may be waiting for (the scheduler turns it into wake-ups)."""

    ready_queues: set[str] = field(default_factory=set)
    runnable: bool = False
    changed_instances: set[str] = field(default_factory=set)
    earliest_due: float | None = None
    #: Jobs created / finished by the commit, for metrics: (origin, queue, kind) and outcome.
    created_jobs: list[Job] = field(default_factory=list)
    finished_jobs: list[tuple[Job, str]] = field(default_factory=list)


@dataclass(slots=True)
class TickResult:
    """What one time-driven maintenance pass did."""

    fired_timers: int = 0
    expired_jobs: list[Job] = field(default_factory=list)
    expired_steps: int = 0
    expired_messages: int = 0
    ready_queues: set[str] = field(default_factory=set)
    runnable: bool = False
    changed_instances: set[str] = field(default_factory=set)
    #: The next time something becomes due (timer, not-before, lease or message expiry), if any.
    next_due: float | None = None


@dataclass(slots=True)
class PublishResult:
    """Where a published message went: correlated instance ids; `buffered` if it was kept."""

    message_id: str
    correlated: list[str] = field(default_factory=list)
    buffered: bool = False


class Storage(Protocol):
    """Durable state of the core. Every method is atomic on its own; `commit` is the write path.

    Implementations: `memory`, `sqlite` (embedded default), `postgres` (several replicas).
    One conformance suite (`tests/contract`) runs over all of them.
    """

    name: str

    async def open(self) -> None:
        """Connect / load / migrate. Raises `Unavailable` with a clear message if it cannot."""
        ...

    async def close(self) -> None:
        """Flush what is queued and release resources."""
        ...

    # --- the write path ------------------------------------------------------------------------

    async def commit(self, commit: Commit, now: float) -> CommitResult:
        """Apply `commit` atomically (see `gateway.model.Commit` for guards and order).

        Raises `LeaseLost`, `AlreadyExists` (instance id taken), `NotFound` (an update, outcome or
        event names an instance that does not exist) and applies nothing in that case.
        """
        ...

    async def commit_many(self, commits: Sequence[Commit], now: float) -> list[CommitResult | GatewayError]:
        """Apply each commit as `commit` would, in order and independently (one refused commit does
        not affect the others), and make them durable together: one wait for the whole batch.
        Returns, per commit, its result or the `GatewayError` it was refused with."""
        ...

    async def publish(self, message: Message, now: float) -> PublishResult:
        """Correlate `message` with open subscriptions (at most one per group, oldest first),
        posting one event per correlated instance; buffer it until `expires_at` if it is still
        deliverable (expires_at > now). Raises `AlreadyExists` when a buffered message has the same
        (name, correlation_key, message_id) with a non-empty message_id."""
        ...

    # --- instance steps -------------------------------------------------------------------------

    async def claim_steps(
        self, owner: str, limit: int, lease_for: float, now: float, engines: Collection[str] | None = None
    ) -> list[StepClaim]:
        """Lease up to `limit` runnable instances (`inbox_seq > seen_seq`, step lease free or expired)
        of the given engines, returning each with its unconsumed inbox events in seq order."""
        ...

    # --- jobs ----------------------------------------------------------------------------------

    async def lease_jobs(
        self,
        queues: Sequence[str],
        owner: str,
        limit: int,
        now: float,
        order: str = "fifo",
        lease_for: float | None = None,
    ) -> list[Job]:
        """Lease up to `limit` READY jobs of these queues whose `not_before <= now`, taking the
        queues in the order given.

        `order` is "fifo" (creation seq) or "priority" (priority desc, then seq). Each leased job
        gets attempt+1, status LEASED, owner and lease_expires = now + (lease_for or job.timeout)."""
        ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def list_jobs(self, instance_id: str) -> list[Job]: ...

    async def update_job(
        self,
        job_id: str,
        *,
        retries: int | None = None,
        lease_expires: float | None = None,
        not_before: float | None = None,
        ref: JobRef | None = None,
        now: float,
    ) -> Job:
        """Change retries / extend a lease / move not-before. With `ref`, the lease must be held.
        Setting retries > 0 on a FAILED job makes it READY again. Raises NotFound, LeaseLost."""
        ...

    async def queue_depths(self) -> dict[str, int]:
        """READY jobs per queue."""
        ...

    # --- time-driven maintenance ----------------------------------------------------------------

    async def tick(self, now: float, since: float, limit: int = 1000) -> TickResult:
        """Fire due timers, return expired job leases to READY (attempt unchanged, retries
        unchanged), free expired step leases, drop expired buffered messages, and report queues
        whose jobs' not_before fell in (since, now]."""
        ...

    # --- reads ---------------------------------------------------------------------------------

    async def get_instance(self, instance_id: str) -> Instance | None: ...

    async def query_instances(self, query: InstanceQuery) -> Page:
        """Instances matching `query`, ordered by id, at most `query.limit`."""
        ...

    async def history(self, instance_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Consumed events with seq > after_seq, in seq order."""
        ...

    async def inbox(self, instance_id: str) -> list[Event]:
        """Unconsumed events, in seq order."""
        ...

    async def count_instances(self) -> dict[tuple[str, InstanceStatus], int]:
        """Instance counts by (engine, status), for metrics."""
        ...

    async def get_data(self, object_id: str) -> DataObject | None: ...

    async def list_data(self, owner_id: str) -> list[DataObject]: ...

    async def subscriptions(self, instance_id: str) -> list[Any]:
        """Open subscriptions of an instance."""
        ...

    async def timers(self, instance_id: str) -> list[Any]:
        """Pending timers of an instance."""
        ...


class SchedulingPolicy(Protocol):
    """The order in which ready jobs are handed out.

    `order` is passed to `Storage.lease_jobs`; `arrange` orders the queues a worker polls, so a
    fair-share policy can rotate them and no queue starves.
    """

    name: str
    order: str

    def arrange(self, queues: Sequence[str]) -> Sequence[str]: ...


# ---------------------------------------------------------------------------------------------
# What adapters plug into the scheduler
# ---------------------------------------------------------------------------------------------


class Engine(Protocol):
    """A local decider: given an instance and its new inbox events, decide what happens.

    The returned commit is applied atomically with the step lease as guard. The scheduler fills in
    `step` and, unless the engine set it, `seen_upto` = the last inbox event shown; the engine sets
    `consume_upto` for the events it has dealt with (they move to the history). A remote decider
    (a Durable Task orchestrator turn, a Restate attempt) decides by
    creating a job and committing the worker's answer when it completes.
    """

    name: str

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        """Called for a batch of claims one after the other, and the batch is committed together:
        decide from the claim (instance, its state, its inbox); avoid I/O here."""
        ...


class PushExecutor(Protocol):
    """Receives leased jobs of its queues and delivers them (Functions, Restate, ArmoniK workers).

    `deliver` hands the job over; the executor later completes or fails it through the scheduler.
    An exception from `deliver` fails the attempt (retried per the job's retries).
    """

    name: str
    queues: Collection[str]
    capacity: int

    async def deliver(self, job: Job) -> None: ...


class Scheduler(Protocol):
    """The core as adapters see it."""

    clock: Clock

    def register_engine(self, engine: Engine) -> None: ...

    def register_push_executor(self, executor: PushExecutor) -> Callable[[], None]:
        """Start dispatching to `executor`; returns a function that unregisters it."""
        ...

    async def commit(self, commit: Commit) -> CommitResult: ...

    async def publish(self, message: Message) -> PublishResult: ...

    async def activate(
        self, queues: Sequence[str], owner: str, limit: int, wait: float, lease_for: float | None = None
    ) -> list[Job]:
        """Long-poll lease: return as soon as jobs are leased, or [] after `wait` seconds.
        With `lease_for`, it overrides each job's timeout."""
        ...

    async def complete(self, ref: JobRef, result: bytes = b"", commit: Commit | None = None) -> None:
        """Complete a leased job (posts its on_complete event unless `commit` says otherwise),
        together with `commit`. Raises LeaseLost on a lost lease."""
        ...

    async def fail(
        self, ref: JobRef, error: str, retries: int | None = None, backoff: float | None = None
    ) -> None: ...

    async def release(self, ref: JobRef, delay: float = 0.0) -> None:
        """Give a leased job back without consuming a retry (abandon, unhealthy worker)."""
        ...

    async def wait_instance(
        self, instance_id: str, until: Callable[[Instance | None], bool], timeout: float
    ) -> Instance | None:
        """Return the instance as soon as `until(instance)` holds; raise DeadlineExceeded after `timeout`."""
        ...

    async def get_instance(self, instance_id: str) -> Instance | None: ...

    async def query_instances(self, query: InstanceQuery) -> Page: ...

    async def history(self, instance_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]: ...

    async def inbox(self, instance_id: str) -> list[Event]: ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def update_job(
        self,
        job_id: str,
        *,
        retries: int | None = None,
        timeout: float | None = None,
        ref: JobRef | None = None,
    ) -> Job: ...

    async def get_data(self, object_id: str) -> DataObject | None: ...


# ---------------------------------------------------------------------------------------------
# Observability as adapters see it
# ---------------------------------------------------------------------------------------------


class Metrics(Protocol):
    """The gateway's Prometheus metrics (see `gateway.observability`). Labels are bounded.

    The scheduler and storage call the `on_*`/`observe_*` hooks; adapters call `worker_connected`
    and may create their own series through `counter`/`gauge`/`histogram` (names must start with
    `gateway_`).
    """

    def worker_connected(self, protocol: str, delta: int) -> None: ...

    def on_commit(self, result: CommitResult, now: float) -> None:
        """Jobs created and finished by a commit (created/finished counters, execution time)."""
        ...

    def on_leased(self, jobs: Sequence[Job], now: float) -> None:
        """Jobs leased (leased counter, queue-wait histogram: created -> leased)."""
        ...

    def on_tick(self, result: TickResult) -> None:
        """Lease expirations and fired timers."""
        ...

    def observe_step(self, engine: str, seconds: float) -> None:
        """One instance step (decide + commit)."""
        ...

    def observe_storage_commit(self, backend: str, batch_size: int, seconds: float) -> None:
        """One storage transaction: how many commits it carried and how long it took."""
        ...

    def set_gauges(
        self, queue_depths: dict[str, int], instances: dict[tuple[str, InstanceStatus], int]
    ) -> None:
        """Refresh queue-depth and instance-count gauges (called before each scrape)."""
        ...


# ---------------------------------------------------------------------------------------------
# Adapters
# ---------------------------------------------------------------------------------------------

GrpcRegistrar = Callable[[Any], None]
"""Called with the `grpc.aio.Server` to add servicers / generic handlers to it."""

HttpEndpoint = Callable[[Any], Awaitable[Any]]
"""A Starlette endpoint: `async (request) -> response`."""


class AdapterContext(Protocol):
    """What an adapter gets at start: the scheduler, clock, metrics, its settings, and ways to serve."""

    scheduler: Scheduler
    clock: Clock
    metrics: Metrics
    settings: dict[str, Any]
    """The adapter's own config section, as loaded (the adapter validates it)."""

    def add_grpc_service(self, registrar: GrpcRegistrar, service_names: Sequence[str]) -> None:
        """Register gRPC services on the gateway's gRPC server (every configured port); the names
        are marked SERVING in gRPC health and listed by reflection."""
        ...

    def add_reflection_files(self, descriptor_pool: Any) -> None:
        """Make these services' descriptors available to reflection (their own pool)."""
        ...

    def add_http_route(
        self, listener: str, path: str, endpoint: HttpEndpoint, methods: Sequence[str] | None = None
    ) -> None:
        """Mount a route on a named HTTP listener (`ingress`, `admin`, `functions`, `metrics`)."""
        ...


@runtime_checkable
class Adapter(Protocol):
    """A protocol front-end. Registered in the composition root by name (config `[adapters.<name>]`)."""

    name: str

    async def start(self, ctx: AdapterContext) -> None:
        """Register engines, executors, gRPC services and HTTP routes. Called before serving."""
        ...

    async def stop(self) -> None:
        """Stop accepting work; in-flight calls get the grace period."""
        ...
