"""Two gateway replicas on one PostgreSQL, driven by pyzeebe 4.7.0 (its own venv):
`python peer_replicas.py --a host:port --b host:port`. Prints PASS; any failed check raises.

Work is split across the replicas the way a load balancer would split it: deployed through one,
started, worked, correlated and awaited through the other.

No `from __future__ import annotations` (pyzeebe compares the `job: Job` annotation object).
"""

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from pyzeebe import Job, ZeebeClient, ZeebeWorker, create_insecure_channel

sys.path.insert(0, str(Path(__file__).parent))
import processes

FILES = processes.write_all(tempfile.mkdtemp(prefix="zeebe-replicas-"))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def version_of(pid, n):
    """A new resource of process `pid` each time (a different task type name inside)."""
    path = Path(tempfile.mkdtemp(prefix="zeebe-ver-")) / f"{pid}.bpmn"
    path.write_text(processes.process(pid, processes.start_end(["t"], processes.task("t", f"ver-{n}"))))
    return str(path)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    ns = parser.parse_args()
    ch_a, ch_b = create_insecure_channel(grpc_address=ns.a), create_insecure_channel(grpc_address=ns.b)
    a, b = ZeebeClient(ch_a), ZeebeClient(ch_b)

    # Deployed through A, started through B at once (by id, latest), worked by a worker on A.
    await a.deploy_resource(FILES["one-task.bpmn"], FILES["timer.bpmn"], FILES["durable-message.bpmn"])
    worker = ZeebeWorker(ch_a, name="replica-a", request_timeout=1000)

    @worker.task(task_type="double")
    async def double(job: Job):
        return {"y": job.variables["x"] * int(job.custom_headers["factor"])}

    @worker.task(task_type="after-timer")
    async def after_timer():
        return {"timer": "fired"}

    running = asyncio.create_task(worker.work())
    try:
        results = await asyncio.gather(*(
            (b if i % 2 else a).run_process_with_result("e2e-one-task", {"x": i}, timeout=20000)
            for i in range(40)
        ))
        check([r.variables["y"] for r in results] == [2 * i for i in range(40)], "doubled on the other replica")
        keys = [r.process_instance_key for r in results]
        check(len(set(keys)) == 40, f"instance keys distinct across replicas: {sorted(keys)}")

        # A timer instance created through B, its job worked through A.
        timer = await b.run_process_with_result("e2e-timer", {}, timeout=20000)
        check(timer.variables == {"timer": "fired"}, f"timer {timer.variables}")

        # Waiting on a message subscription opened through A; the message is published through B.
        waiting = asyncio.create_task(
            a.run_process_with_result("e2e-durable-message", {"key": "rk"}, timeout=20000))
        await asyncio.sleep(0.5)
        await b.publish_message("durable-msg", "rk", {"m": 7}, time_to_live_in_milliseconds=10000)
        msg = await waiting
        check(msg.variables == {"key": "rk", "m": 7}, f"message {msg.variables}")

        # The same process id deployed concurrently through both: two versions, never one twice.
        deployed = await asyncio.gather(a.deploy_resource(version_of("rep-ver", 1)),
                                        b.deploy_resource(version_of("rep-ver", 2)))
        versions = sorted(d.deployments[0].version for d in deployed)
        check(versions == [1, 2], f"versions {versions}")
        latest = max(deployed, key=lambda d: d.deployments[0].version).deployments[0]
        for client in (a, b):
            inst = await client.run_process("rep-ver", {})
            check(inst.process_definition_key == latest.process_definition_key, "latest is the same everywhere")
    finally:
        await worker.stop()
        running.cancel()
    print("PASS", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
