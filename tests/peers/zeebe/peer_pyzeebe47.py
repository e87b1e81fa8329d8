"""Acceptance scenarios with pyzeebe 4.7.0 (run in its own venv): `python peer_pyzeebe47.py <scenario>
--target host:port --admin http://...`. Prints PASS on success; any failed check raises.

No `from __future__ import annotations`: pyzeebe recognises the injected `job: Job` parameter by
comparing the annotation object itself.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import grpc
from pyzeebe import Job, ZeebeClient, ZeebeWorker, create_insecure_channel
from pyzeebe.errors import (
    BusinessError,
    InvalidJSONError,
    MessageAlreadyExistsError,
    ProcessDefinitionNotFoundError,
    ProcessTimeoutError,
    ZeebeDeadlineExceeded,
)
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc as pb_grpc

sys.path.insert(0, str(Path(__file__).parent))
import processes

FILES = processes.write_all(tempfile.mkdtemp(prefix="zeebe-bpmn-"))
KEY_BASE = 2251799813685249


class Ctx:
    def __init__(self, target, admin):
        self.target = target
        self.admin = admin
        self.channel = create_insecure_channel(grpc_address=target)
        self.client = ZeebeClient(self.channel)
        self.stub = pb_grpc.GatewayStub(self.channel)
        self.tasks = []

    async def deploy(self, *names):
        return await self.client.deploy_resource(*(FILES[n] for n in names))

    def worker(self, request_timeout=2000):
        return ZeebeWorker(self.channel, name="peer", request_timeout=request_timeout)

    def run(self, worker):
        self.tasks.append((worker, asyncio.create_task(worker.work())))

    async def stop(self):
        for worker, task in self.tasks:
            await worker.stop()
            task.cancel()
        self.tasks.clear()

    def inspect(self, key):
        with urllib.request.urlopen(f"{self.admin}/zeebe/instances/{key}", timeout=5) as resp:
            return json.loads(resp.read())

    async def wait_for(self, predicate, what, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    async def poll(self, job_type, request_timeout=2000, n=32, job_timeout=30000):
        jobs = []
        async for resp in self.stub.ActivateJobs(pb.ActivateJobsRequest(
            type=job_type, worker="raw", timeout=job_timeout, maxJobsToActivate=n, requestTimeout=request_timeout
        ), timeout=request_timeout / 1000 + 5):
            jobs.extend(resp.jobs)
        return jobs


def check(cond, message):
    if not cond:
        raise AssertionError(message)


# ---------------------------------------------------------------------------------------------- scenarios

async def smoke(c):
    dep = await c.deploy("one-task.bpmn")
    meta = dep.deployments[0]
    check(meta.version == 1 and meta.process_definition_key >= KEY_BASE, f"deploy: {meta}")
    seen = []
    w = c.worker()

    @w.task(task_type="double", timeout_ms=10000, max_jobs_to_activate=32, max_running_jobs=32)
    async def double(x: int, job: Job):
        seen.append((dict(job.custom_headers), job.retries))
        return {"y": x * int(job.custom_headers["factor"])}

    c.run(w)
    res = await c.client.run_process_with_result(
        "e2e-one-task", {"x": 21}, timeout=10000, variables_to_fetch=["x", "y"]
    )
    check(res.variables == {"x": 21, "y": 42}, f"result {res.variables}")
    check(seen == [({"factor": "2"}, 3)], f"job {seen}")


async def dedupe(c):
    r = await c.client.publish_message("order-paid", "o-1", {}, time_to_live_in_milliseconds=500, message_id="m-1")
    check(r.key >= KEY_BASE, "publish key")
    try:
        await c.client.publish_message("order-paid", "o-1", {}, time_to_live_in_milliseconds=500, message_id="m-1")
        raise AssertionError("duplicate publish accepted")
    except MessageAlreadyExistsError:
        pass
    await asyncio.sleep(1.0)
    await c.client.publish_message("order-paid", "o-1", {}, time_to_live_in_milliseconds=500, message_id="m-1")


async def topology(c):
    t = await c.client.topology()
    part = t.brokers[0].partitions[0]
    check(part.role == pb.Partition.PartitionBrokerRole.LEADER, f"role {part}")
    check(part.health == pb.Partition.PartitionBrokerHealth.HEALTHY, f"health {part}")
    major, minor, patch = t.gateway_version.split(".")
    check(all(p.isdigit() for p in (major, minor, patch)), f"version {t.gateway_version}")
    h = await c.client.healthcheck()
    check(h.status == 1, f"health {h}")


async def retries(c):
    await c.deploy("always-fail.bpmn")
    calls = []
    w = c.worker()

    @w.task(task_type="always-fail")
    async def fail(job: Job):
        calls.append(job.retries)
        raise RuntimeError("always")

    c.run(w)
    created = await c.client.run_process("e2e-always-fail")
    await c.wait_for(lambda: len(calls) >= 3, "three attempts")
    await asyncio.sleep(1.0)
    await c.stop()
    check(calls == [3, 2, 1], f"retries seen {calls}")
    started = time.monotonic()
    check(await c.poll("always-fail", request_timeout=10000) == [], "no activation after the incident")
    check(9.0 <= time.monotonic() - started <= 13.0, "the empty poll lasted about 10 s")
    incidents = c.inspect(created.process_instance_key)["incidents"]
    check(len(incidents) == 1 and incidents[0]["type"] == "JOB_NO_RETRIES", f"incidents {incidents}")
    job_key = int(incidents[0]["job"])
    await c.stub.UpdateJobRetries(pb.UpdateJobRetriesRequest(jobKey=job_key, retries=1))
    await c.stub.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=int(incidents[0]["key"])))
    jobs = await c.poll("always-fail")
    check(len(jobs) == 1 and jobs[0].key == job_key and jobs[0].retries == 1, f"reactivated {jobs}")


async def business(c):
    await c.deploy("business.bpmn", "no-boundary.bpmn", "catch-all.bpmn")
    handled = []
    w = c.worker()

    @w.task(task_type="risky")
    async def risky():
        raise BusinessError("ORDER_REJECTED")

    @w.task(task_type="handle-reject")
    async def handle():
        handled.append("reject")
        return {"handled": True}

    @w.task(task_type="risky-nb")
    async def risky_nb():
        raise BusinessError("ORDER_REJECTED")

    @w.task(task_type="risky-ca")
    async def risky_ca():
        raise BusinessError("SOMETHING_ELSE")

    @w.task(task_type="handle-any")
    async def handle_any():
        handled.append("any")
        return {}

    c.run(w)
    res = await c.client.run_process_with_result("e2e-business-error", {}, timeout=10000)
    check(res.variables == {"handled": True} and handled == ["reject"], f"boundary {res.variables} {handled}")
    nb = await c.client.run_process("e2e-no-boundary")
    incidents = await c.wait_for(lambda: c.inspect(nb.process_instance_key)["incidents"], "unhandled incident")
    check(incidents[0]["type"] == "UNHANDLED_ERROR_EVENT", f"{incidents}")
    await c.client.run_process_with_result("e2e-catch-all", {}, timeout=10000)
    check(handled == ["reject", "any"], f"catch-all {handled}")


async def xor(c):
    await c.deploy("xor.bpmn")
    taken = []
    w = c.worker()

    @w.task(task_type="approve")
    async def approve():
        taken.append("approve")
        return {}

    @w.task(task_type="auto-approve")
    async def auto():
        taken.append("auto-approve")
        return {}

    c.run(w)
    await c.client.run_process_with_result("e2e-xor", {"amount": 150}, timeout=10000)
    await c.client.run_process_with_result("e2e-xor", {"amount": 50}, timeout=10000)
    check(taken == ["approve", "auto-approve"], f"paths {taken}")
    stuck = await c.client.run_process("e2e-xor", {})
    key = stuck.process_instance_key
    incidents = await c.wait_for(lambda: c.inspect(key)["incidents"], "condition incident")
    check(incidents[0]["type"] == "EXTRACT_VALUE_ERROR", f"{incidents}")
    await c.stub.SetVariables(pb.SetVariablesRequest(elementInstanceKey=key, variables='{"amount":10}'))
    await c.stub.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=int(incidents[0]["key"])))
    await c.wait_for(lambda: c.inspect(key)["status"] == "COMPLETED", "completion after resolve")
    check(taken == ["approve", "auto-approve", "auto-approve"], f"after resolve {taken}")


async def parallel(c):
    await c.deploy("parallel.bpmn")
    created = await c.client.run_process("e2e-parallel")
    await asyncio.sleep(0.5)
    jobs = await c.poll("bench")
    check(len(jobs) == 4, f"one response with 4 jobs, got {len(jobs)}")
    for j in jobs:
        await c.stub.CompleteJob(pb.CompleteJobRequest(jobKey=j.key, variables="{}"))
    key = created.process_instance_key
    await c.wait_for(lambda: c.inspect(key)["status"] == "COMPLETED", "parallel completion")


async def timers(c):
    await c.deploy("timer.bpmn", "timer-boundary.bpmn")
    started = time.monotonic()
    await c.client.run_process("e2e-timer")
    check(await c.poll("after-timer", request_timeout=-1) == [], "no job before the timer")
    jobs = await c.poll("after-timer", request_timeout=5000)
    check(len(jobs) == 1 and time.monotonic() - started >= 0.9, "job after about 1 s")
    await c.client.run_process("e2e-timer-boundary")
    main = await c.poll("main-work", request_timeout=3000)
    side = await c.poll("side-work", request_timeout=5000)
    check(len(main) == 1 and len(side) == 1, "side task while the main job stays active")
    await c.stub.CompleteJob(pb.CompleteJobRequest(jobKey=main[0].key, variables="{}"))


async def event_gateway(c):
    await c.deploy("event-gateway.bpmn")
    fast = await c.client.run_process("e2e-event-gateway", {"key": "a"})
    await asyncio.sleep(0.3)
    await c.client.publish_message("ping", "a", {"via": "msg"}, time_to_live_in_milliseconds=0)
    check(len(await c.poll("via-msg", request_timeout=3000)) == 1, "message path")
    slow = await c.client.run_process("e2e-event-gateway", {"key": "b"})
    check(len(await c.poll("via-timer", request_timeout=5000)) == 1, "timer path")
    await c.client.publish_message("ping", "c", {}, time_to_live_in_milliseconds=10000)
    await c.client.run_process("e2e-event-gateway", {"key": "c"})
    check(len(await c.poll("via-msg", request_timeout=3000)) == 1, "buffered message correlates on arrival")
    check(await c.poll("via-timer", request_timeout=2500) == [], "timer of the message path was cancelled")
    del fast, slow


async def cardinality(c):
    await c.deploy("cardinality.bpmn")
    a = await c.client.run_process("e2e-cardinality", {"key": "same"})
    b = await c.client.run_process("e2e-cardinality", {"key": "same"})
    await asyncio.sleep(0.5)
    await c.client.publish_message("wake", "same", {}, time_to_live_in_milliseconds=0)
    await asyncio.sleep(1.0)
    states = sorted(c.inspect(k.process_instance_key)["status"] for k in (a, b))
    check(states == ["COMPLETED", "RUNNING"], f"exactly one completed: {states}")


async def scopes(c):
    await c.deploy("scopes.bpmn")
    w = c.worker()

    @w.task(task_type="scoped")
    async def scoped(local: int):
        check(local == 4, f"local {local}")
        return {"local": 5, "z": 1}

    c.run(w)
    res = await c.client.run_process_with_result("e2e-scopes", {"x": 4}, timeout=10000)
    check(res.variables == {"x": 4, "z": 1}, f"root {res.variables}")


async def multi_instance(c):
    await c.deploy("multi-instance.bpmn")
    w = c.worker()

    @w.task(task_type="mi-work")
    async def work(item: int):
        return {"r": item * 10}

    c.run(w)
    res = await c.client.run_process_with_result("e2e-multi-instance", {"items": [1, 2, 3]}, timeout=10000)
    check(sorted(res.variables["results"]) == [10, 20, 30], f"results {res.variables}")


async def errors(c):
    await c.deploy("one-task.bpmn")
    try:
        await c.client.run_process("no-such-process")
        raise AssertionError("unknown id accepted")
    except ProcessDefinitionNotFoundError:
        pass
    try:
        await c.stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task",
                                                                           version=-1, variables="[1]"))
        raise AssertionError("array variables accepted")
    except grpc.aio.AioRpcError as exc:
        check(exc.code() == grpc.StatusCode.INVALID_ARGUMENT, f"variables {exc.code()}")
    calls = [
        c.stub.ActivateJobs(pb.ActivateJobsRequest(type="t", worker="w", timeout=1000, maxJobsToActivate=0)),
        c.stub.UpdateJobRetries(pb.UpdateJobRetriesRequest(jobKey=1, retries=0)),
        c.stub.PublishMessage(pb.PublishMessageRequest(name="m", correlationKey="k", tenantId="other")),
        c.stub.DeployResource(pb.DeployResourceRequest(resources=[pb.Resource(name="x.bpmn", content=b"<bad")])),
    ]
    for call in calls:
        try:
            if hasattr(call, "__aiter__"):
                _ = [r async for r in call]
            else:
                await call
            raise AssertionError("accepted")
        except grpc.aio.AioRpcError as exc:
            check(exc.code() == grpc.StatusCode.INVALID_ARGUMENT, f"expected INVALID_ARGUMENT, got {exc.code()}")
    try:
        await c.stub.EvaluateDecision(pb.EvaluateDecisionRequest(decisionId="d", variables="{}"))
        raise AssertionError("EvaluateDecision answered")
    except grpc.aio.AioRpcError as exc:
        check(exc.code() == grpc.StatusCode.UNIMPLEMENTED, f"EvaluateDecision {exc.code()}")
    try:
        await c.stub.CreateProcessInstanceWithResult(pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1, variables='{"x":1}'),
            requestTimeout=1000))
        raise AssertionError("WithResult without a worker answered")
    except grpc.aio.AioRpcError as exc:
        check(exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED, f"WithResult {exc.code()}")
    try:
        await c.client.run_process_with_result("e2e-one-task", {"x": 1}, timeout=1000)
        raise AssertionError("pyzeebe WithResult answered")
    except (ProcessTimeoutError, ZeebeDeadlineExceeded):
        pass
    try:
        await c.client.run_process("e2e-one-task", "not-json")  # type: ignore[arg-type]
    except (InvalidJSONError, Exception):
        pass


async def versions(c):
    first = (await c.deploy("one-task.bpmn")).deployments[0]
    again = (await c.deploy("one-task.bpmn")).deployments[0]
    check((again.version, again.process_definition_key) == (1, first.process_definition_key), "identical redeploy")
    changed = Path(tempfile.mkdtemp()) / "one-task.bpmn"
    changed.write_text(processes.ONE_TASK.replace('id="end"', 'id="end" name="Done"'))
    second = (await c.client.deploy_resource(str(changed))).deployments[0]
    check(second.version == 2, f"changed deploy {second}")
    check((await c.client.run_process("e2e-one-task", version=-1)).version == 2, "latest")
    check((await c.client.run_process("e2e-one-task", version=1)).version == 1, "explicit v1")


async def feel(c):
    await c.deploy("feel.bpmn")
    res = await c.client.run_process_with_result("e2e-feel", processes.FEEL_INPUT, timeout=10000)
    for i, (expr, expected) in enumerate(processes.FEEL_CASES, 1):
        check(res.variables.get(f"r{i}") == expected, f"{expr}: {res.variables.get(f'r{i}')!r} != {expected!r}")


async def keepalive(c):
    options = [("grpc.keepalive_time_ms", 1000), ("grpc.keepalive_permit_without_calls", 1),
               ("grpc.http2.max_pings_without_data", 0), ("grpc.keepalive_timeout_ms", 5000)]
    async with grpc.aio.insecure_channel(c.target, options=options) as ch:
        stub = pb_grpc.GatewayStub(ch)
        for _ in range(2):
            started = time.monotonic()
            got = [r async for r in stub.ActivateJobs(pb.ActivateJobsRequest(
                type="nobody", worker="k", timeout=1000, maxJobsToActivate=1, requestTimeout=6000), timeout=20)]
            check(got == [] and 5.5 <= time.monotonic() - started <= 9, "an empty 6 s poll ended OK")


STATE_FILE = Path(tempfile.gettempdir()) / "zeebe-durable-keys.json"


def write_state(path, data):
    Path(path).write_text(json.dumps(data))


def read_state(path):
    return json.loads(Path(path).read_text())


async def durable_setup(c):
    """Instances waiting on a job (one leased), a timer and a message; the gateway is then killed."""
    await c.deploy("durable-job.bpmn", "durable-timer.bpmn", "durable-message.bpmn")
    job_a = await c.client.run_process("e2e-durable-job", {"n": 1})
    job_b = await c.client.run_process("e2e-durable-job", {"n": 2})
    timer = await c.client.run_process("e2e-durable-timer", {})
    msg = await c.client.run_process("e2e-durable-message", {"key": "dk"})
    await asyncio.sleep(0.5)
    leased = await c.poll("durable", n=1, job_timeout=3000)
    check(len(leased) == 1, "one durable job leased before the crash")
    keys = [job_a.process_instance_key, job_b.process_instance_key, timer.process_instance_key,
            msg.process_instance_key]
    write_state(c.state_file, {"instances": keys, "leased": leased[0].key})
    for k in keys:
        check(c.inspect(k)["status"] == "RUNNING", f"{k} running")


async def durable_finish(c):
    """After kill -9 and restart: everything completes; new keys never reuse old ones."""
    saved = read_state(c.state_file)
    w = c.worker(request_timeout=1000)

    @w.task(task_type="durable", timeout_ms=5000)
    async def durable(job: Job):
        return {"done": job.key}

    @w.task(task_type="durable-after-timer")
    async def after_timer():
        return {"timer": "fired"}

    c.run(w)
    await c.client.publish_message("durable-msg", "dk", {"m": 1}, time_to_live_in_milliseconds=30000)
    for k in saved["instances"]:
        await c.wait_for(lambda k=k: c.inspect(k)["status"] == "COMPLETED", f"instance {k} completed", timeout=30)
    fresh = await c.client.run_process("e2e-durable-message", {"key": "other"})
    check(fresh.process_instance_key > max(saved["instances"]) and fresh.process_instance_key > saved["leased"],
          "keys keep counting after the restart")


SCENARIOS = {f.__name__: f for f in (
    durable_setup, durable_finish, smoke, dedupe, topology, retries, business, xor, parallel, timers,
    event_gateway, cardinality, scopes, multi_instance, errors, versions, feel, keepalive,
)}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--target", required=True)
    parser.add_argument("--admin", default="")
    parser.add_argument("--state-file", default=str(STATE_FILE))
    ns = parser.parse_args()
    c = Ctx(ns.target, ns.admin)
    c.state_file = ns.state_file
    try:
        await SCENARIOS[ns.scenario](c)
    finally:
        await c.stop()
    print("PASS", ns.scenario, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
