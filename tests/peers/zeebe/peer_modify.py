"""ModifyProcessInstance and DeleteResource from pyzeebe 4.7.0's venv (run in its own process):
`python peer_modify.py <scenario> --target host:port`. pyzeebe 4.7 has no methods for these
rpcs, so they go through the Zeebe 8.6.6 stubs it ships (`pyzeebe.proto`) on its own channel;
deploys, creates and cancels use the pyzeebe client. Prints PASS on success.
"""

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

import grpc
from pyzeebe import ZeebeClient, create_insecure_channel
from pyzeebe.errors import ProcessDefinitionNotFoundError
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc as pb_grpc

sys.path.insert(0, str(Path(__file__).parent))
import processes

Modify = pb.ModifyProcessInstanceRequest


def abc(pid, end="end"):
    body = processes.task("A", "mod-a") + processes.task("B", "mod-b") + processes.task("C", "mod-c")
    xml = processes.process(pid, '<bpmn:startEvent id="start" />' + body + f'<bpmn:endEvent id="{end}" />'
                            + processes.chain("start", "A", "B", "C", end))
    path = Path(tempfile.mkdtemp(prefix="zeebe-mod-")) / f"{pid}-{end}.bpmn"
    path.write_text(xml)
    return str(path)


def check(cond, message):
    if not cond:
        raise AssertionError(message)


async def poll(stub, job_type, wait=3000):
    jobs = []
    async for resp in stub.ActivateJobs(pb.ActivateJobsRequest(
        type=job_type, worker="peer", timeout=30000, maxJobsToActivate=8, requestTimeout=wait
    ), timeout=wait / 1000 + 5):
        jobs.extend(resp.jobs)
    return jobs


async def code_of(call):
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details()
    raise AssertionError("expected an error")


async def modify(client, stub):
    await client.deploy_resource(abc("peer-modify"))
    key = (await client.run_process("peer-modify", {"x": 1})).process_instance_key
    [a] = await poll(stub, "mod-a")
    await stub.ModifyProcessInstance(Modify(
        processInstanceKey=key,
        activateInstructions=[Modify.ActivateInstruction(elementId="C", variableInstructions=[
            Modify.VariableInstruction(variables=json.dumps({"g": 2})),
            Modify.VariableInstruction(variables=json.dumps({"l": 3}), scopeId="C"),
        ])],
        terminateInstructions=[Modify.TerminateInstruction(elementInstanceKey=a.elementInstanceKey)],
    ))
    [c] = await poll(stub, "mod-c")
    check(json.loads(c.variables) == {"x": 1, "g": 2, "l": 3}, f"C variables {c.variables}")
    code, _ = await code_of(stub.CompleteJob(pb.CompleteJobRequest(jobKey=a.key, variables="{}")))
    check(code == grpc.StatusCode.NOT_FOUND, f"terminated job completes: {code}")
    await stub.CompleteJob(pb.CompleteJobRequest(jobKey=c.key, variables="{}"))
    check(await poll(stub, "mod-b", wait=500) == [], "B was never activated")
    code, text = await code_of(stub.ModifyProcessInstance(Modify(
        processInstanceKey=key, activateInstructions=[Modify.ActivateInstruction(elementId="nope")])))
    check(code == grpc.StatusCode.NOT_FOUND, f"completed instance: {code} {text}")
    key2 = (await client.run_process("peer-modify", {})).process_instance_key
    await poll(stub, "mod-a")
    code, text = await code_of(stub.ModifyProcessInstance(Modify(
        processInstanceKey=key2, activateInstructions=[Modify.ActivateInstruction(elementId="nope")])))
    check(code == grpc.StatusCode.INVALID_ARGUMENT and "could not be found: 'nope'" in text, f"{code} {text}")
    code, text = await code_of(stub.ModifyProcessInstance(Modify(
        processInstanceKey=key2, terminateInstructions=[Modify.TerminateInstruction(elementInstanceKey=7)])))
    check(code == grpc.StatusCode.INVALID_ARGUMENT, f"{code} {text}")
    await client.cancel_process_instance(key2)


async def delete(client, stub):
    first = (await client.deploy_resource(abc("peer-delete"))).deployments[0]
    second = (await client.deploy_resource(abc("peer-delete", end="end2"))).deployments[0]
    check((first.version, second.version) == (1, 2), "versions")
    key = (await client.run_process("peer-delete", {})).process_instance_key
    code, text = await code_of(stub.DeleteResource(pb.DeleteResourceRequest(
        resourceKey=second.process_definition_key)))
    check(code == grpc.StatusCode.FAILED_PRECONDITION and "still running instances" in text, f"{code} {text}")
    await client.cancel_process_instance(key)
    await asyncio.sleep(0.3)
    await stub.DeleteResource(pb.DeleteResourceRequest(resourceKey=second.process_definition_key))
    code, _ = await code_of(stub.DeleteResource(pb.DeleteResourceRequest(resourceKey=second.process_definition_key)))
    check(code == grpc.StatusCode.NOT_FOUND, f"second delete: {code}")
    r = await stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="peer-delete", version=-1))
    check(r.version == 1, f"latest after delete: v{r.version}")
    await client.cancel_process_instance(r.processInstanceKey)
    await asyncio.sleep(0.3)
    await stub.DeleteResource(pb.DeleteResourceRequest(resourceKey=first.process_definition_key))
    try:
        await client.run_process("peer-delete", {})
        raise AssertionError("created an instance of a deleted process")
    except ProcessDefinitionNotFoundError:
        pass
    third = (await client.deploy_resource(abc("peer-delete"))).deployments[0]
    check(third.version == 3, f"versions are not reused: v{third.version}")


SCENARIOS = {"modify": modify, "delete": delete}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--target", required=True)
    ns = parser.parse_args()
    channel = create_insecure_channel(grpc_address=ns.target)
    try:
        await SCENARIOS[ns.scenario](ZeebeClient(channel), pb_grpc.GatewayStub(channel))
    finally:
        await channel.close()
    print("PASS", ns.scenario, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
