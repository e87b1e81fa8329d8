"""Prometheus metrics (`gateway_*` and go-grpc-prometheus `grpc_server_*`) and logging set-up.

Everything lives in one `CollectorRegistry` owned by `GatewayMetrics`, exposed by the metrics
listener. Label values are bounded: `protocol` is a job's origin, `queue` is kept for the first
`queue_label_limit` distinct names and "other" afterwards.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gateway.grpc_metrics import GrpcServerMetrics
from gateway.model import InstanceStatus, Job
from gateway.ports import CommitResult, TickResult

# _created series double the exposition for no use to Prometheus (and go-grpc-prometheus has none).
# The switch is process-wide in prometheus_client; the gateway owns the process.
prometheus_client.disable_created_metrics()

OTHER = "other"

_LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_LEASE_MEMORY = 65536
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class GatewayMetrics:
    """The gateway's metrics; implements `gateway.ports.Metrics`.

    The scheduler and storage call the `on_*`/`observe_*` hooks; the metrics listener calls
    `set_gauges` then `render` per scrape; the gRPC server gets `grpc_interceptor()`.
    """

    def __init__(
        self,
        version: str,
        *,
        queue_label_limit: int = 100,
        grpc_handling_histogram: bool = False,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._queue_limit = queue_label_limit
        self._queues: set[str] = set()
        self._known_depth_labels: set[str] = set()
        self._known_instance_labels: set[tuple[str, str]] = set()
        self._known_active: set[str] = set()
        #: Lease start per (job id, attempt) leased here: the Job itself only carries the expiry.
        self._lease_started: dict[tuple[str, int], float] = {}
        #: Label children already resolved (their label values are bounded, see queue_label).
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r = self.registry

        info = Gauge("gateway_build_info", "Gateway build information.", ["version"], registry=r)
        info.labels(version).set(1)
        self.jobs_created = Counter("gateway_jobs_created", "Jobs created.", ["protocol", "queue"], registry=r)
        self.jobs_leased = Counter("gateway_jobs_leased", "Jobs leased.", ["protocol", "queue"], registry=r)
        self.jobs_finished = Counter(
            "gateway_jobs_finished",
            "Jobs finished by outcome: completed|failed|retried|released|canceled.",
            ["protocol", "queue", "outcome"],
            registry=r,
        )
        self.queue_wait = Histogram(
            "gateway_job_queue_wait_seconds",
            "Time from a job becoming ready (created or not-before) to its lease.",
            ["protocol"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.execution = Histogram(
            "gateway_job_execution_seconds",
            "Time from a job's lease to its outcome.",
            ["protocol", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.lease_expired = Counter("gateway_job_lease_expired", "Job leases that expired.", ["protocol"], registry=r)
        self.timers_fired = Counter("gateway_timers_fired", "Timers fired.", registry=r)
        self.queue_depth = Gauge("gateway_queue_depth", "READY jobs per queue.", ["queue"], registry=r)
        self.instances = Gauge(
            "gateway_instances",
            "Instances by owning protocol and status.",
            ["protocol", "status"],
            registry=r,
        )
        self.instances_active = Gauge(
            "gateway_instances_active", "Instances not in a terminal status.", ["protocol"], registry=r
        )
        self.workers_connected = Gauge(
            "gateway_workers_connected", "Workers connected per protocol.", ["protocol"], registry=r
        )
        self.step_seconds = Histogram(
            "gateway_instance_step_seconds",
            "One instance step: decide + commit.",
            ["engine"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.commit_batch = Histogram(
            "gateway_storage_commit_batch_size",
            "Commits carried by one storage transaction.",
            ["backend"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.commit_seconds = Histogram(
            "gateway_storage_commit_seconds",
            "Duration of one storage transaction.",
            ["backend"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.grpc = GrpcServerMetrics(r, handling_histogram=grpc_handling_histogram)

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, resolved once: prometheus_client's lookup validates and locks on
        every call, and these run several times per job."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # --- label bounding ------------------------------------------------------------------------

    def queue_label(self, queue: str) -> str:
        """The queue's own name for the first `queue_label_limit` distinct queues, else "other"."""
        if queue in self._queues:
            return queue
        if len(self._queues) < self._queue_limit:
            self._queues.add(queue)
            return queue
        return OTHER

    @staticmethod
    def _protocol(job: Job) -> str:
        return job.origin or OTHER

    # --- gateway.ports.Metrics -----------------------------------------------------------------

    def worker_connected(self, protocol: str, delta: int) -> None:
        self.workers_connected.labels(protocol or OTHER).inc(delta)

    def on_commit(self, result: CommitResult, now: float) -> None:
        for job in result.created_jobs:
            self._child(self.jobs_created, self._protocol(job), self.queue_label(job.queue)).inc()
        for job, outcome in result.finished_jobs:
            protocol = self._protocol(job)
            self._child(self.jobs_finished, protocol, self.queue_label(job.queue), outcome).inc()
            started = self._lease_started.pop((job.id, job.attempt), None)
            if started is None and job.lease_expires > 0:
                # Leased by another replica (or before a restart): the job carries its lease expiry,
                # not its start, so estimate start = expiry - timeout.
                started = job.lease_expires - job.timeout
            if started is not None:
                self._child(self.execution, protocol, outcome).observe(max(0.0, now - started))

    def on_leased(self, jobs: Sequence[Job], now: float) -> None:
        for job in jobs:
            protocol = self._protocol(job)
            self._child(self.jobs_leased, protocol, self.queue_label(job.queue)).inc()
            if len(self._lease_started) >= _LEASE_MEMORY:
                # Bounded: drop the oldest (a job whose outcome never reaches this replica).
                del self._lease_started[next(iter(self._lease_started))]
            self._lease_started[(job.id, job.attempt)] = now
            ready_at = max(job.created_at, job.not_before)
            if ready_at > 0:
                self._child(self.queue_wait, protocol).observe(max(0.0, now - ready_at))

    def on_tick(self, result: TickResult) -> None:
        if result.fired_timers:
            self.timers_fired.inc(result.fired_timers)
        for job in result.expired_jobs:
            self._child(self.lease_expired, self._protocol(job)).inc()
            self._lease_started.pop((job.id, job.attempt), None)

    def observe_step(self, engine: str, seconds: float) -> None:
        self._child(self.step_seconds, engine or OTHER).observe(seconds)

    def observe_storage_commit(self, backend: str, batch_size: int, seconds: float) -> None:
        self._child(self.commit_batch, backend).observe(batch_size)
        self._child(self.commit_seconds, backend).observe(seconds)

    def set_gauges(self, queue_depths: dict[str, int], instances: dict[tuple[str, InstanceStatus], int]) -> None:
        depth: dict[str, int] = dict.fromkeys(self._known_depth_labels, 0)
        for queue, n in queue_depths.items():
            label = self.queue_label(queue)
            depth[label] = depth.get(label, 0) + n
        for label, n in depth.items():
            self.queue_depth.labels(label).set(n)
        self._known_depth_labels.update(depth)

        # Series seen before stay, at 0, so a drained status reads 0 rather than vanishing.
        counts: dict[tuple[str, str], int] = dict.fromkeys(self._known_instance_labels, 0)
        active: dict[str, int] = dict.fromkeys(self._known_active, 0)
        for (engine, status), n in instances.items():
            key = (engine or OTHER, str(status))
            counts[key] = counts.get(key, 0) + n
            active.setdefault(key[0], 0)
            if not InstanceStatus(status).terminal:
                active[key[0]] += n
        for (protocol, status_label), n in counts.items():
            self.instances.labels(protocol, status_label).set(n)
        for protocol, n in active.items():
            self.instances_active.labels(protocol).set(n)
        self._known_instance_labels.update(counts)
        self._known_active.update(active)

    # --- adapters' own series ------------------------------------------------------------------

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(_checked(name), documentation, list(labels), registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(_checked(name), documentation, list(labels), registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = _LATENCY_BUCKETS,
    ) -> Histogram:
        return Histogram(_checked(name), documentation, list(labels), buckets=buckets, registry=self.registry)

    # --- exposition ----------------------------------------------------------------------------

    def grpc_interceptor(self) -> GrpcServerMetrics:
        """The `grpc.aio.ServerInterceptor` recording `grpc_server_*`."""
        return self.grpc

    def render(self) -> bytes:
        """Prometheus text exposition of the whole registry."""
        return generate_latest(self.registry)


def _checked(name: str) -> str:
    if not name.startswith("gateway_"):
        raise ValueError(f"metric name {name!r} must start with 'gateway_'")
    return name


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO") -> None:
    """One stderr handler on the root logger; grpc/hypercorn/asyncio chatter kept at WARNING."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    quiet = logging.WARNING if level != "DEBUG" else logging.DEBUG
    for name in ("hypercorn.error", "hypercorn.access", "asyncio", "grpc"):
        logging.getLogger(name).setLevel(quiet)
