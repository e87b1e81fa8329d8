"""Zeebe front-end benchmark: instances/s and job activation latency, beside a gRPC echo ceiling.

The gateway runs as its own process (`gateway serve`, Zeebe adapter only, storage of choice). The
load comes from `--clients` load processes, each a lightweight grpc.aio starter + worker with the
project's stubs (as Zeebe's own benchmark has separate starter and worker apps):
- each client owns one process definition (`bench-<i>`, job type `bench-<i>`), so it can run a
  closed loop: at most `--inflight` of its instances exist at once, and its starters create a new
  one as soon as its worker completed one;
- its workers (`--workers` each) long-poll ActivateJobs for up to `--batch` jobs and complete every
  activated job at once, concurrently (CompleteJob per job, as Zeebe workers do), re-polling
  without waiting for the completions;
- instances/s = completed jobs (one per instance) per second across clients, counted in the
  measuring window after `--warmup` seconds; "under load" latency = from the starter's clock
  (variable `t`) to the job arriving at its worker;
- idle latency: one worker parked in ActivateJobs, one instance created at a time: from sending
  CreateProcessInstance to the job arriving, p50/p99;
- ceiling: the same client processes, at the same concurrency, against a trivial grpc.aio echo
  server in its own process: unary calls/s. An instance costs ~2 rpcs (create + complete; an
  activation is shared by up to `--batch` jobs), so ceiling/2 is the rpc-bound upper limit.

Usage: `python bench/zeebe.py [--runs 3] [--seconds 5] [--clients 1] [--backend sqlite]`; the
median of the runs is reported, with the CPU (in cores) the server and the clients used while
measuring. On a 2-core machine one client process already keeps the gateway's loop busy (more
only take CPU from it); raise `--clients` on bigger machines. `--profile FILE` records the
gateway with py-spy during the last run (`.txt` raw stacks, `.svg` flamegraph, else speedscope;
py-spy from PATH or `--py-spy`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.zeebe._pb import gateway_pb2 as pb
from adapters.zeebe._pb import gateway_pb2_grpc as pb_grpc
from tests.peers.gateway_process import GatewayProcess, free_ports

OPTIONS = [("grpc.keepalive_permit_without_calls", 1)]


def one_task(pid: str, job_type: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">'
        f'<bpmn:process id="{pid}" isExecutable="true"><bpmn:startEvent id="s" />'
        f'<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="{job_type}" />'
        '</bpmn:extensionElements></bpmn:serviceTask><bpmn:endEvent id="e" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /></bpmn:process></bpmn:definitions>'
    ).encode()


# ------------------------------------------------------------------ echo server (own process)

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


# ------------------------------------------------------------------ load client (own process)

async def _echo_client(target: str, concurrency: int, start_at: float, stop_at: float) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(target, options=OPTIONS) as ch:
        call = ch.unary_unary("/bench.Echo/Echo")
        await ch.channel_ready()
        done = 0
        payload = b"x" * 64

        async def loop() -> None:
            nonlocal done
            while time.monotonic() < stop_at:
                await call(payload)
                if time.monotonic() >= start_at:
                    done += 1

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return {"calls": done}


async def _zeebe_client(target: str, index: int, cfg: dict[str, Any], start_at: float, stop_at: float
                        ) -> dict[str, Any]:
    pid, job_type = f"bench-{index}", f"bench-{index}"
    async with grpc.aio.insecure_channel(target, options=OPTIONS) as ch:
        stub = pb_grpc.GatewayStub(ch)
        await ch.channel_ready()
        slots = asyncio.Semaphore(cfg["inflight"])
        completed = 0
        latencies: list[float] = []
        running: set[asyncio.Task[None]] = set()

        async def starter() -> None:
            while time.monotonic() < stop_at:
                await slots.acquire()
                try:
                    await stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(
                        bpmnProcessId=pid, version=-1, variables=f'{{"t":{time.time()}}}'))
                except grpc.aio.AioRpcError:
                    slots.release()
                    await asyncio.sleep(0.05)

        async def complete(job: pb.ActivatedJob) -> None:
            nonlocal completed
            try:
                await stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables='{"r":2}'))
            except grpc.aio.AioRpcError:
                return
            finally:
                slots.release()
            if start_at <= time.monotonic() < stop_at:
                completed += 1

        async def worker() -> None:
            while time.monotonic() < stop_at:
                request = pb.ActivateJobsRequest(type=job_type, worker="bench", timeout=30000,
                                                 maxJobsToActivate=cfg["batch"], requestTimeout=1000,
                                                 fetchVariable=["t"])
                async for resp in stub.ActivateJobs(request):
                    now = time.time()
                    measuring = start_at <= time.monotonic() < stop_at
                    for job in resp.jobs:
                        if measuring:
                            latencies.append(now - json.loads(job.variables)["t"])
                        task = asyncio.create_task(complete(job))
                        running.add(task)
                        task.add_done_callback(running.discard)

        await asyncio.gather(*(starter() for _ in range(cfg["starters"])), *(worker() for _ in range(cfg["workers"])))
        if running:
            await asyncio.wait(running, timeout=5)
        return {"completed": completed, "latencies": latencies}


def _client_main(kind: str, target: str, index: int, cfg: dict[str, Any], start_at: float, stop_at: float,
                 out: Any) -> None:
    if kind == "echo":
        result = asyncio.run(_echo_client(target, cfg["starters"] + cfg["workers"], start_at, stop_at))
    else:
        result = asyncio.run(_zeebe_client(target, index, cfg, start_at, stop_at))
    out.put(result)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process and its threads so far."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_clients(kind: str, target: str, cfg: dict[str, Any], server_pid: int | None = None
                ) -> tuple[float, list[dict[str, Any]], dict[str, float]]:
    """Spawn the client processes; returns (measured seconds, their results, CPU use in cores of
    the server and of the clients during the measuring window)."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.monotonic() + 1.5 + cfg["warmup"]  # spawn + connect, then warm up
    stop_at = start_at + cfg["seconds"]
    procs = [ctx.Process(target=_client_main, args=(kind, target, i, cfg, start_at, stop_at, out))
             for i in range(cfg["clients"])]
    for p in procs:
        p.start()
    time.sleep(max(0.0, start_at - time.monotonic()))
    before = [cpu_seconds(server_pid), sum(cpu_seconds(p.pid) for p in procs)]
    time.sleep(max(0.0, stop_at - time.monotonic()))
    after = [cpu_seconds(server_pid), sum(cpu_seconds(p.pid) for p in procs)]
    results = [out.get(timeout=cfg["seconds"] + cfg["warmup"] + 60) for _ in procs]
    for p in procs:
        p.join(10)
    cpu = {"server": (after[0] - before[0]) / cfg["seconds"], "clients": (after[1] - before[1]) / cfg["seconds"]}
    return cfg["seconds"], results, cpu


# ------------------------------------------------------------------ idle latency

async def idle_latency(target: str, samples: int) -> tuple[float, float]:
    async with grpc.aio.insecure_channel(target, options=OPTIONS) as ch:
        stub = pb_grpc.GatewayStub(ch)
        out = []
        for _ in range(samples):
            arrived = asyncio.get_running_loop().create_future()

            async def poll(fut: asyncio.Future[float] = arrived) -> None:
                async for resp in stub.ActivateJobs(pb.ActivateJobsRequest(
                    type="latency", worker="bench", timeout=30000, maxJobsToActivate=1, requestTimeout=5000
                )):
                    if resp.jobs:
                        fut.set_result(time.perf_counter())
                    for j in resp.jobs:
                        await stub.CompleteJob(pb.CompleteJobRequest(jobKey=j.key, variables="{}"))

            task = asyncio.create_task(poll())
            await asyncio.sleep(0.01)  # let the poll park first
            sent = time.perf_counter()
            await stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="bench-latency", version=-1))
            got = await asyncio.wait_for(arrived, 10)
            out.append((got - sent) * 1000)
            await task
        out.sort()
        return statistics.median(out), out[min(len(out) - 1, int(len(out) * 0.99))]


async def deploy(target: str, clients: int) -> None:
    async with grpc.aio.insecure_channel(target) as ch:
        stub = pb_grpc.GatewayStub(ch)
        resources = [pb.Resource(name=f"bench-{i}.bpmn", content=one_task(f"bench-{i}", f"bench-{i}"))
                     for i in range(clients)]
        resources.append(pb.Resource(name="latency.bpmn", content=one_task("bench-latency", "latency")))
        await stub.DeployResource(pb.DeployResourceRequest(resources=resources))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000 if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=1, help="load processes (2 cores: more only add contention)")
    parser.add_argument("--starters", type=int, default=32, help="concurrent creates per client")
    parser.add_argument("--workers", type=int, default=2, help="ActivateJobs pollers per client")
    parser.add_argument("--batch", type=int, default=128, help="maxJobsToActivate")
    parser.add_argument("--inflight", type=int, default=384, help="live instances per client")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--backend", default="sqlite", choices=["memory", "sqlite", "postgres"])
    parser.add_argument("--profile", default="", help="py-spy output (speedscope json or .svg) of the last run")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")
    ns = parser.parse_args()
    cfg = {k: getattr(ns, k) for k in ("seconds", "warmup", "clients", "starters", "workers", "batch", "inflight")}

    echo_port = free_ports(1)[0]
    echo = multiprocessing.get_context("spawn").Process(target=_echo_server, args=(echo_port,), daemon=True)
    echo.start()
    env = {"GATEWAY_ADAPTERS__ZEEBE__ENABLED": "true", "GATEWAY_ADAPTERS__DURABLETASK__ENABLED": "false",
           "GATEWAY_LOG__LEVEL": "WARNING"}
    ceilings, rates, p50s, p99s = [], [], [], []
    try:
        time.sleep(0.5)
        for run in range(ns.runs):
            secs, res, ecpu = run_clients("echo", f"127.0.0.1:{echo_port}", cfg, echo.pid)
            ceilings.append(sum(r["calls"] for r in res) / secs)
            gw = GatewayProcess(Path(tempfile.mkdtemp(prefix="bench-zeebe-")), backend=ns.backend, probe=False,
                                extra_env=env)
            spy = None
            try:
                gw.start()
                asyncio.run(deploy(gw.grpc_target, ns.clients))
                if ns.profile and run == ns.runs - 1 and os.path.exists(ns.py_spy) and gw.pid:
                    fmt = {".svg": "flamegraph", ".txt": "raw"}.get(Path(ns.profile).suffix, "speedscope")
                    spy = subprocess.Popen([ns.py_spy, "record", "-p", str(gw.pid), "-o", ns.profile, "-f", fmt,
                                            "-d", str(int(ns.seconds + ns.warmup + 2)), "-r", "200"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                secs, res, zcpu = run_clients("zeebe", gw.grpc_target, cfg, gw.pid)
                if spy is not None:
                    spy.wait(30)
                rates.append(sum(r["completed"] for r in res) / secs)
                lat = [x for r in res for x in r["latencies"]]
                p50s.append(_pct(lat, 0.5))
                p99s.append(_pct(lat, 0.99))
                if run == ns.runs - 1:
                    idle50, idle99 = asyncio.run(idle_latency(gw.grpc_target, ns.samples))
            finally:
                gw.close()
                if spy is not None and spy.poll() is None:
                    spy.kill()
            print(f"run {run + 1}: echo {ceilings[-1]:.0f} calls/s (server {ecpu['server']:.2f} cores, clients "
                  f"{ecpu['clients']:.2f}); zeebe {rates[-1]:.0f} instances/s (gateway {zcpu['server']:.2f} cores, "
                  f"clients {zcpu['clients']:.2f}); loaded activation p50 {p50s[-1]:.1f} ms p99 {p99s[-1]:.1f} ms",
                  flush=True)
    finally:
        echo.kill()
    ceiling, rate = statistics.median(ceilings), statistics.median(rates)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}")
    print(f"backend {ns.backend}; {ns.clients} client processes x ({ns.starters} starters, {ns.workers} workers, "
          f"batch {ns.batch}, {ns.inflight} in flight); {ns.runs} runs x {ns.seconds:g} s, medians")
    print(f"gRPC echo ceiling:            {ceiling:10.0f} calls/s  (/2 = {ceiling / 2:.0f} instances/s rpc bound)")
    print(f"one-service-task instances:   {rate:10.0f} /s       ({rate / (ceiling / 2):.1%} of the rpc bound)")
    print(f"activation latency, loaded:   p50 {statistics.median(p50s):.1f} ms  p99 {statistics.median(p99s):.1f} ms"
          "  (created -> activated, closed loop)")
    print(f"activation latency, idle:     p50 {idle50:.2f} ms  p99 {idle99:.2f} ms  ({ns.samples} samples)")


if __name__ == "__main__":
    main()
