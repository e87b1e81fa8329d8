"""Two gateway replicas on one PostgreSQL whose polling fallback is 30 s, driven by pyzeebe 4.7.0
(its own venv): `python peer_replicas_cross.py --a host:port --b host:port`. Prints PASS; any
failed check raises.

Every hand-over here crosses replicas, so only PostgreSQL's LISTEN/NOTIFY can wake the other side
in time: a job created through one replica reaches a worker long-polling the other, a completion
through one answers a CreateProcessInstanceWithResult waiting on the other. Jobs of one instance
are completed through both replicas at once (the instance's revision guard sorts it out, each
completion applied once), a message start is raced through both, and a definition deleted through
one is gone on the other. DeleteResource and CreateProcessInstance by key go through the Zeebe 8.6
stubs pyzeebe ships (`pyzeebe.proto`), the rest through the pyzeebe client and workers.

No `from __future__ import annotations` (pyzeebe compares the `job: Job` annotation object).
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import grpc
from pyzeebe import Job, ZeebeClient, ZeebeWorker, create_insecure_channel
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc as pb_grpc

sys.path.insert(0, str(Path(__file__).parent))
import processes as P

#: Long polls outlast every wait below, so a job is only delivered in time if a NOTIFY woke the poll.
LONG_POLL_MS = 25000

SEQ = P.process("rep-seq", P.start_end(["first", "second"], P.task("first", "rep-first")
                                       + P.task("second", "rep-second")))
PAR = P.process(
    "rep-par",
    '<bpmn:startEvent id="start" /><bpmn:parallelGateway id="split" /><bpmn:parallelGateway id="join" />'
    + P.task("left", "rep-left") + P.task("right", "rep-right") + '<bpmn:endEvent id="end" />'
    + P.flow("f0", "start", "split") + P.chain("split", "left", "join") + P.chain("split", "right", "join")
    + P.flow("f9", "join", "end"),
)
MSG_START = P.process(
    "rep-msg-start",
    '<bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="m" /></bpmn:startEvent>'
    + P.task("t", "rep-started") + '<bpmn:endEvent id="end" />' + P.chain("start", "t", "end"),
    '<bpmn:message id="m" name="rep-go" />',
)


def empty_version(n):
    """Process `rep-del`, a different resource per n (so each deploy is a new version)."""
    return P.process("rep-del", f'<bpmn:startEvent id="start" /><bpmn:endEvent id="end{n}" />'
                     + P.flow("f", "start", f"end{n}"))


def write(folder, name, xml):
    path = Path(folder) / name
    path.write_text(xml)
    return str(path)


T0 = time.monotonic()


def stage(what):
    print(f"{time.monotonic() - T0:6.2f}s {what}", flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    ns = parser.parse_args()
    ch_a, ch_b = create_insecure_channel(grpc_address=ns.a), create_insecure_channel(grpc_address=ns.b)
    a, b = ZeebeClient(ch_a), ZeebeClient(ch_b)
    stub_a, stub_b = pb_grpc.GatewayStub(ch_a), pb_grpc.GatewayStub(ch_b)
    folder = tempfile.mkdtemp(prefix="zeebe-cross-")
    files = P.write_all(folder)
    await a.deploy_resource(write(folder, "seq.bpmn", SEQ), write(folder, "par.bpmn", PAR),
                            write(folder, "msg-start.bpmn", MSG_START), files["timer.bpmn"])

    worker_a = ZeebeWorker(ch_a, name="replica-a", request_timeout=LONG_POLL_MS)
    worker_b = ZeebeWorker(ch_b, name="replica-b", request_timeout=LONG_POLL_MS)
    release = asyncio.Event()
    started_jobs = []

    @worker_b.task(task_type="rep-first")
    async def first(job: Job):
        return {"first": job.variables["x"] * 10}

    @worker_a.task(task_type="rep-second")
    async def second(job: Job):
        return {"second": job.variables["first"] + 1}

    @worker_a.task(task_type="rep-left")
    async def left(job: Job):
        return {"l": job.variables["x"]}

    @worker_b.task(task_type="rep-right")
    async def right(job: Job):
        return {"r": -job.variables["x"]}

    @worker_b.task(task_type="after-timer")
    async def after_timer():
        return {"timer": "fired"}

    @worker_a.task(task_type="rep-started")
    async def started(job: Job):
        started_jobs.append(job.variables)
        await release.wait()  # keep the instance active while the other publish arrives
        return {}

    running = [asyncio.create_task(worker_a.work()), asyncio.create_task(worker_b.work())]
    try:
        await asyncio.sleep(1.0)  # both workers are inside their first long poll now
        # Created through B, job 1 on B, job 2 on A (its poll woken by B's commit), result awaited on B.
        t0 = time.monotonic()
        one = await b.run_process_with_result("rep-seq", {"x": 1}, timeout=15000)
        elapsed = time.monotonic() - t0
        check(one.variables == {"x": 1, "first": 10, "second": 11}, f"seq {one.variables}")
        check(elapsed < 10, f"cross-replica wake-ups took {elapsed:.1f}s (the 30 s poll, not a NOTIFY?)")

        stage("first round trip")
        # Many at once through both: every instance hops replicas (seq), or has its two jobs
        # completed through both replicas at the same time (par).
        n = 16
        t0 = time.monotonic()
        seq, par = await asyncio.gather(
            asyncio.gather(*((a if i % 2 else b).run_process_with_result("rep-seq", {"x": i}, timeout=30000)
                             for i in range(n))),
            asyncio.gather(*((b if i % 2 else a).run_process_with_result("rep-par", {"x": i}, timeout=30000)
                             for i in range(n))),
        )
        check([r.variables for r in seq] == [{"x": i, "first": 10 * i, "second": 10 * i + 1} for i in range(n)],
              f"seq {[r.variables for r in seq]}")
        check([r.variables for r in par] == [{"x": i, "l": i, "r": -i} for i in range(n)],
              f"par {[r.variables for r in par]}")
        keys = [r.process_instance_key for r in [*seq, *par]]
        check(len(set(keys)) == 2 * n, "instance keys distinct across replicas")
        elapsed = time.monotonic() - t0
        check(elapsed < 15, f"{2 * n} instances took {elapsed:.1f}s: a hand-over waited for the 30 s poll")

        stage("concurrent instances")
        # A timer catch event of an instance created through A; its job worked through B.
        t0 = time.monotonic()
        timer = await a.run_process_with_result("e2e-timer", {}, timeout=15000)
        check(timer.variables == {"timer": "fired"}, f"timer {timer.variables}")
        check(time.monotonic() - t0 < 10, "a 1 s timer took over 10 s")

        stage("timer")
        # A message start raced through both replicas with one correlation key: one instance.
        await asyncio.gather(a.publish_message("rep-go", "mk", {"via": "a"}, time_to_live_in_milliseconds=0),
                             b.publish_message("rep-go", "mk", {"via": "b"}, time_to_live_in_milliseconds=0))
        for _ in range(100):
            if started_jobs:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # time for a second instance's job to show up, were there one
        check(len(started_jobs) == 1 and started_jobs[0]["via"] in ("a", "b"), f"started {started_jobs}")
        await b.publish_message("rep-go", "other", {"via": "b"}, time_to_live_in_milliseconds=0)
        for _ in range(100):
            if len(started_jobs) == 2:
                break
            await asyncio.sleep(0.1)
        check(len(started_jobs) == 2, f"another correlation key starts its own instance: {started_jobs}")
        release.set()

        stage("message start")
        # Two versions deployed through A; the latest deleted through B is gone on A at once.
        v1 = (await a.deploy_resource(write(folder, "del-1.bpmn", empty_version(1)))).deployments[0]
        v2 = (await a.deploy_resource(write(folder, "del-2.bpmn", empty_version(2)))).deployments[0]
        check((v1.version, v2.version) == (1, 2), f"versions {v1.version}, {v2.version}")
        await stub_b.DeleteResource(pb.DeleteResourceRequest(resourceKey=v2.process_definition_key))
        latest = await stub_a.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="rep-del",
                                                                                    version=-1))
        check((latest.processDefinitionKey, latest.version) == (v1.process_definition_key, 1),
              f"latest after delete: {latest}")
        try:
            await stub_a.CreateProcessInstance(pb.CreateProcessInstanceRequest(
                processDefinitionKey=v2.process_definition_key))
        except grpc.aio.AioRpcError as exc:
            check(exc.code() == grpc.StatusCode.NOT_FOUND, f"deleted key: {exc.code()}")
        else:
            raise AssertionError("the deleted definition still starts instances on the other replica")
        v3 = (await b.deploy_resource(write(folder, "del-3.bpmn", empty_version(3)))).deployments[0]
        check(v3.version == 3, f"a deleted version number is not reused: {v3.version}")
        stage("delete")
    finally:
        release.set()
        await worker_a.stop()
        await worker_b.stop()
        for task in running:
            task.cancel()
    stage("workers stopped")
    print("PASS", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
