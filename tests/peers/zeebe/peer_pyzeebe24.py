"""Scenarios 6 and 7 with pyzeebe 2.4.0 + zeebe-grpc 0.26 (old Workflow names), in their own venv:
`python peer_pyzeebe24.py <workflow|raw026> --target host:port --admin http://...`; prints PASS.
"""

import argparse
import json
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import grpc
from pyzeebe import ZeebeClient, ZeebeWorker
from zeebe_grpc import gateway_pb2 as pb
from zeebe_grpc import gateway_pb2_grpc as pb_grpc

sys.path.insert(0, str(Path(__file__).parent))
import processes

FILES = processes.write_all(tempfile.mkdtemp(prefix="zeebe-bpmn-"))


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def inspect(admin, key):
    with urllib.request.urlopen(f"{admin}/zeebe/instances/{key}", timeout=5) as resp:
        return json.loads(resp.read())


def wait_for(predicate, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def workflow(host, port, admin):
    client = ZeebeClient(hostname=host, port=port)
    client.deploy_workflow(FILES["one-task.bpmn"], FILES["always-fail.bpmn"], FILES["no-boundary.bpmn"])
    worker = ZeebeWorker(name="pz24", hostname=host, port=port, request_timeout=2000)

    @worker.task(task_type="double")
    def double(x):
        return {"y": x * 2}

    @worker.task(task_type="always-fail")
    def fail():
        raise RuntimeError("boom")

    def error_status(job):
        job.set_error_status("rejected by pyzeebe 2.4")

    @worker.task(task_type="risky-nb", exception_handler=lambda exc, job: error_status(job))
    def risky():
        raise RuntimeError("to ThrowError")

    thread = threading.Thread(target=worker.work, daemon=True)
    thread.start()
    try:
        result = client.run_workflow_with_result("e2e-one-task", {"x": 11}, timeout=10000)
        check(result.get("y") == 22 and result.get("x") == 11, f"result {result}")
        # A handler exception fails the job with retries unset (0): an immediate incident.
        key = client.run_workflow("e2e-always-fail")
        incidents = wait_for(lambda: inspect(admin, key)["incidents"], "JOB_NO_RETRIES incident")
        check(incidents[0]["type"] == "JOB_NO_RETRIES", f"{incidents}")
        # An error status throws an error with an empty code: uncaught here.
        key = client.run_workflow("e2e-no-boundary")
        incidents = wait_for(lambda: inspect(admin, key)["incidents"], "UNHANDLED_ERROR_EVENT incident")
        check(incidents[0]["type"] == "UNHANDLED_ERROR_EVENT", f"{incidents}")
    finally:
        worker.stop()


def raw026(host, port, admin):
    channel = grpc.insecure_channel(f"{host}:{port}")
    stub = pb_grpc.GatewayStub(channel)
    xml = Path(FILES["one-task.bpmn"]).read_bytes()
    dep = stub.DeployWorkflow(pb.DeployWorkflowRequest(workflows=[
        pb.WorkflowRequestObject(name="one-task.bpmn", type=pb.WorkflowRequestObject.BPMN, definition=xml)]))
    wf = dep.workflows[0]
    check((wf.bpmnProcessId, wf.version) == ("e2e-one-task", 1) and wf.workflowKey > 0, f"deploy {dep}")
    try:
        stub.DeployWorkflow(pb.DeployWorkflowRequest(workflows=[
            pb.WorkflowRequestObject(name="x.yaml", type=pb.WorkflowRequestObject.YAML, definition=b"a: 1")]))
        raise AssertionError("YAML accepted")
    except grpc.RpcError as exc:
        check(exc.code() == grpc.StatusCode.INVALID_ARGUMENT, f"YAML {exc.code()}")
    future = stub.CreateWorkflowInstanceWithResult.future(pb.CreateWorkflowInstanceWithResultRequest(
        request=pb.CreateWorkflowInstanceRequest(bpmnProcessId="e2e-one-task", version=-1, variables='{"x":7}'),
        requestTimeout=10000))
    jobs = []
    for resp in stub.ActivateJobs(pb.ActivateJobsRequest(type="double", worker="raw", timeout=10000,
                                                         maxJobsToActivate=1, requestTimeout=5000)):
        jobs.extend(resp.jobs)
    check(len(jobs) == 1, "one job")
    job = jobs[0]
    check(job.workflowInstanceKey > 0 and job.workflowKey == wf.workflowKey, f"job keys {job}")
    check(job.workflowDefinitionVersion == 1 and json.loads(job.variables) == {"x": 7}, f"job {job}")
    stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables=json.dumps({"y": 14})))
    result = future.result(timeout=10)
    check(json.loads(result.variables) == {"x": 7, "y": 14} and result.workflowKey == wf.workflowKey, f"{result}")
    created = stub.CreateWorkflowInstance(pb.CreateWorkflowInstanceRequest(bpmnProcessId="e2e-one-task", version=-1,
                                                                          variables="{}"))
    stub.CancelWorkflowInstance(pb.CancelWorkflowInstanceRequest(workflowInstanceKey=created.workflowInstanceKey))
    topo = stub.Topology(pb.TopologyRequest())
    check(topo.brokers[0].partitions[0].role == pb.Partition.LEADER, f"{topo}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["workflow", "raw026"])
    parser.add_argument("--target", required=True)
    parser.add_argument("--admin", default="")
    ns = parser.parse_args()
    host, port = ns.target.rsplit(":", 1)
    {"workflow": workflow, "raw026": raw026}[ns.scenario](host, int(port), ns.admin)
    print("PASS", ns.scenario, flush=True)


if __name__ == "__main__":
    main()
