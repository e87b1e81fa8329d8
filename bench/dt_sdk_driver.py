"""The SDK side of `bench/durabletask.py`; runs in the durabletask==1.12.0 peer venv, never in the gateway's.

Roles:
- `--role reference --port P`: the SDK's own in-memory sidecar (`durabletask.testing.
  InMemoryOrchestrationBackend`) on a 127.0.0.1 `grpc.server` of our own (its `start()` binds [::]).
  Prints READY, then serves until stdin closes.
- `--role load --host H`: a real `TaskHubGrpcWorker` (orchestrator `one` = one activity `echo`) plus
  `--concurrency` asyncio tasks on the SDK's `AsyncTaskHubGrpcClient`, each looping
  schedule_new_orchestration -> wait_for_orchestration_completion. After `--warmup` seconds, every
  completion within `--seconds` counts; start-to-complete is measured around that pair of calls.
  Then `--samples` orchestrations one at a time for the unloaded latency. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
import uuid
from concurrent import futures


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def reference(port: int, threads: int) -> None:
    import grpc
    from durabletask.internal import orchestrator_service_pb2_grpc as stubs
    from durabletask.testing import InMemoryOrchestrationBackend

    backend = InMemoryOrchestrationBackend(max_history_size=10000, port=port)
    # Every long poll (GetWorkItems, WaitForInstanceCompletion) holds a thread of a sync server:
    # size the pool for the load driver's concurrency so the reference is never starved of threads.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads))
    stubs.add_TaskHubSidecarServiceServicer_to_server(backend, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()  # the parent closes our stdin to stop us
    finally:
        backend.stop(grace=None)  # wakes its GetWorkItems loops
        server.stop(grace=1).wait()


def load(host: str, seconds: float, warmup: float, concurrency: int, samples: int) -> dict[str, float]:
    from durabletask import client, task, worker

    def echo(ctx: task.ActivityContext, value: int) -> int:
        return value

    def one(ctx: task.OrchestrationContext, value: int):  # type: ignore[no-untyped-def]
        result = yield ctx.call_activity(echo, input=value)
        return result

    w = worker.TaskHubGrpcWorker(host_address=host)
    w.add_orchestrator(one)
    w.add_activity(echo)
    w.start()
    try:
        return asyncio.run(_drive(client, one, host, seconds, warmup, concurrency, samples))
    finally:
        w.stop()


async def _drive(client, one, host, seconds, warmup, concurrency, samples) -> dict[str, float]:  # type: ignore[no-untyped-def]
    c = client.AsyncTaskHubGrpcClient(host_address=host)
    failures = 0
    total = 0

    async def run_one(n: int) -> float:
        nonlocal failures, total
        total += 1
        sent = time.perf_counter()
        iid = await c.schedule_new_orchestration(one, input=n, instance_id=uuid.uuid4().hex)
        st = await c.wait_for_orchestration_completion(iid, timeout=60)
        took = time.perf_counter() - sent
        if st is None or st.runtime_status.name != "COMPLETED" or st.serialized_output != str(n):
            failures += 1
        return took

    await run_one(0)  # connect, and let the worker's stream settle
    began = time.perf_counter()
    t0, t1 = began + warmup, began + warmup + seconds
    done: list[float] = []

    async def loop(k: int) -> None:
        n = k
        while time.perf_counter() < t1:
            took = await run_one(n)
            end = time.perf_counter()
            if t0 <= end - took and end <= t1:  # started and finished inside the window
                done.append(took)
            n += concurrency

    await asyncio.gather(*(loop(k) for k in range(concurrency)))
    quiet = [await run_one(i) for i in range(samples)]
    await c.close()
    return {
        "rate": len(done) / seconds, "count": len(done), "total": total, "failures": failures,
        "p50": _pct(done, 0.50) * 1000, "p99": _pct(done, 0.99) * 1000,
        "quiet_p50": _pct(quiet, 0.50) * 1000, "quiet_p99": _pct(quiet, 0.99) * 1000,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--role", choices=["reference", "load"], required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--threads", type=int, default=64)
    p.add_argument("--host", default="127.0.0.1:4001")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--samples", type=int, default=50)
    args = p.parse_args()
    logging.disable(logging.WARNING)  # the SDK logs every start and wait at INFO
    if args.role == "reference":
        reference(args.port, args.threads)
    else:
        print(json.dumps(load(args.host, args.seconds, args.warmup, args.concurrency, args.samples)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
