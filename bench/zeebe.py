"""Zeebe front-end benchmark: instances/s and job activation latency, beside a gRPC echo ceiling.

The gateway runs as its own process (`gateway serve`, Zeebe adapter only, storage of choice); this
process is a lightweight grpc.aio starter and worker using the project's stubs:
- throughput: `--concurrency` starters loop CreateProcessInstance on a one-service-task process
  while `--workers` workers long-poll ActivateJobs (up to 32 jobs) and CompleteJob each job;
  instances/s = completed jobs (one per instance) per second;
- latency: one worker is parked in ActivateJobs, one instance is created at a time; the time from
  sending CreateProcessInstance to the job arriving at the worker, p50/p99;
- ceiling: the same client against a grpc.aio echo server (a second process), unary calls/s at the
  same concurrency. An instance costs at least 3 rpcs (create, activate share, complete), so ceiling/3
  is the rpc-bound upper limit.

Usage: `python bench/zeebe.py [--seconds 5] [--concurrency 32] [--workers 4] [--backend sqlite]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.zeebe._pb import gateway_pb2 as pb
from adapters.zeebe._pb import gateway_pb2_grpc as pb_grpc
from tests.peers.gateway_process import GatewayProcess, free_ports

ONE_TASK = (
    b'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    b'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">'
    b'<bpmn:process id="bench-one-task" isExecutable="true"><bpmn:startEvent id="s" />'
    b'<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="bench" /></bpmn:extensionElements>'
    b'</bpmn:serviceTask><bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />'
    b'<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /></bpmn:process></bpmn:definitions>'
)
OPTIONS = [("grpc.keepalive_permit_without_calls", 1)]


# ------------------------------------------------------------------ echo ceiling

def _echo_server(port: int) -> None:
    async def serve() -> None:
        async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return request

        handler = grpc.method_handlers_generic_handler(
            "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
        )
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((handler,))
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(serve())


async def echo_ceiling(port: int, seconds: float, concurrency: int) -> float:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = ch.unary_unary("/bench.Echo/Echo")
        await ch.channel_ready()
        done = 0
        stop = time.monotonic() + seconds

        async def loop() -> None:
            nonlocal done
            payload = b"x" * 64
            while time.monotonic() < stop:
                await call(payload)
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return done / (time.monotonic() - started)


# ------------------------------------------------------------------ zeebe

async def throughput(target: str, seconds: float, concurrency: int, workers: int) -> float:
    async with grpc.aio.insecure_channel(target, options=OPTIONS) as ch:
        stub = pb_grpc.GatewayStub(ch)
        completed = 0
        running = True
        stop = time.monotonic() + seconds

        async def starter() -> None:
            while time.monotonic() < stop:
                await stub.CreateProcessInstance(
                    pb.CreateProcessInstanceRequest(bpmnProcessId="bench-one-task", version=-1, variables='{"n":1}')
                )

        async def worker() -> None:
            nonlocal completed
            while running:
                async for resp in stub.ActivateJobs(pb.ActivateJobsRequest(
                    type="bench", worker="bench", timeout=30000, maxJobsToActivate=32, requestTimeout=1000
                )):
                    await asyncio.gather(*(
                        stub.CompleteJob(pb.CompleteJobRequest(jobKey=j.key, variables='{"r":2}')) for j in resp.jobs
                    ))
                    if time.monotonic() < stop:
                        completed += len(resp.jobs)

        pollers = [asyncio.create_task(worker()) for _ in range(workers)]
        started = time.monotonic()
        await asyncio.gather(*(starter() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
        running = False
        await asyncio.gather(*pollers, return_exceptions=True)
        return completed / elapsed


async def latency(target: str, samples: int) -> tuple[float, float]:
    async with grpc.aio.insecure_channel(target, options=OPTIONS) as ch:
        stub = pb_grpc.GatewayStub(ch)
        out = []
        for _ in range(samples):
            arrived = asyncio.get_running_loop().create_future()

            async def poll(fut: asyncio.Future[float] = arrived) -> None:
                async for resp in stub.ActivateJobs(pb.ActivateJobsRequest(
                    type="latency", worker="bench", timeout=30000, maxJobsToActivate=1, requestTimeout=5000
                )):
                    for j in resp.jobs:
                        await stub.CompleteJob(pb.CompleteJobRequest(jobKey=j.key, variables="{}"))
                    fut.set_result(time.perf_counter())

            task = asyncio.create_task(poll())
            await asyncio.sleep(0.01)  # let the poll park first
            sent = time.perf_counter()
            await stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="bench-latency", version=-1))
            got = await asyncio.wait_for(arrived, 10)
            out.append((got - sent) * 1000)
            await task
        out.sort()
        return statistics.median(out), out[min(len(out) - 1, int(len(out) * 0.99))]


async def deploy(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as ch:
        stub = pb_grpc.GatewayStub(ch)
        latency_xml = ONE_TASK.replace(b"bench-one-task", b"bench-latency").replace(b'type="bench"', b'type="latency"')
        await stub.DeployResource(pb.DeployResourceRequest(resources=[
            pb.Resource(name="bench.bpmn", content=ONE_TASK), pb.Resource(name="latency.bpmn", content=latency_xml),
        ]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--backend", default="sqlite", choices=["memory", "sqlite", "postgres"])
    ns = parser.parse_args()

    echo_port = free_ports(1)[0]
    echo = multiprocessing.Process(target=_echo_server, args=(echo_port,), daemon=True)
    echo.start()
    env = {"GATEWAY_ADAPTERS__ZEEBE__ENABLED": "true", "GATEWAY_ADAPTERS__DURABLETASK__ENABLED": "false",
           "GATEWAY_LOG__LEVEL": "WARNING"}
    gw = GatewayProcess(Path(tempfile.mkdtemp(prefix="bench-zeebe-")), backend=ns.backend, probe=False,
                        extra_env=env)
    try:
        gw.start()
        asyncio.run(deploy(gw.grpc_target))
        time.sleep(0.5)
        ceiling = asyncio.run(echo_ceiling(echo_port, ns.seconds, ns.concurrency))
        rate = asyncio.run(throughput(gw.grpc_target, ns.seconds, ns.concurrency, ns.workers))
        p50, p99 = asyncio.run(latency(gw.grpc_target, ns.samples))
    finally:
        gw.close()
        echo.kill()
    print(f"machine: {platform.node()} {platform.machine()} python {platform.python_version()}")
    print(f"backend {ns.backend}, concurrency {ns.concurrency}, workers {ns.workers}, {ns.seconds:g} s")
    print(f"gRPC echo ceiling:            {ceiling:10.0f} calls/s  (/3 = {ceiling / 3:.0f} instances/s rpc bound)")
    print(f"one-service-task instances:   {rate:10.0f} /s       ({rate / (ceiling / 3):.1%} of the rpc bound)")
    print(f"job activation latency:       p50 {p50:.2f} ms  p99 {p99:.2f} ms  ({ns.samples} samples)")


if __name__ == "__main__":
    main()
