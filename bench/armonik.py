"""ArmoniK front-end benchmark: the real `armonik==3.29.4` client and N real worker processes.

Measures, in one run:
- empty tasks/s: M tasks whose worker only writes an empty result (payload + output per task,
  submitted in batches of 100, one wait on every output);
- a 1,000-task fan-out/fan-in graph: one task creates 1,000 `square` subtasks and a `sum` task that
  depends on all their outputs (1,002 Process calls); time from submit to the sum's value;
- the ceiling, once the gateway is stopped: N fresh processes of the same worker app, their
  `Process` called directly (one call in flight per worker, threads), like-for-like with the empty
  task: the worker reads its payload file, writes its (empty) result file and makes the same one
  NotifyResultData call, answered by a minimal agent (a plain grpc server in the driver process).
  What the ceiling leaves out is exactly the control plane's own work: leasing, staging a fresh
  `<shared>/<token>` folder per task, committing, events. `ceiling_nop` is the same without the
  result file and the agent call (the worker returns at once): the raw Process round trip.

Usage: .venv/bin/python bench/armonik.py [--workers 4] [--tasks 2000] [--fan 1000] [--backend sqlite]
       [--runs 3] [--shared DIR] [--health-check-interval S]
(the client and ceiling sides re-run this file with `--role client|ceiling` inside the peer venv).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKER_APP = ROOT / "tests" / "peers" / "armonik" / "worker_app.py"


# ---------------------------------------------------------------------------------------------
# Client role (runs in the peer venv with the armonik SDK)
# ---------------------------------------------------------------------------------------------


def client(target: str, tasks: int, fan: int) -> dict:
    from datetime import timedelta

    from armonik.client import ArmoniKEvents, ArmoniKResults, ArmoniKSessions, ArmoniKTasks
    from armonik.common import TaskDefinition, TaskOptions, create_channel

    opts = TaskOptions(max_duration=timedelta(seconds=60), priority=1, max_retries=1)
    out: dict = {}
    with create_channel(f"http://{target}") as ch:
        sessions, results, tasks_c, events = (ArmoniKSessions(ch), ArmoniKResults(ch), ArmoniKTasks(ch),
                                              ArmoniKEvents(ch))
        sid = sessions.create_session(opts, partition_ids=["default"])
        started = time.perf_counter()
        outs = results.create_results_metadata([f"o{i}" for i in range(tasks)], sid)
        payload = json.dumps({"mode": "noop"}).encode()
        payloads = {}
        for i in range(0, tasks, 100):
            payloads.update(results.create_results({f"p{j}": payload for j in range(i, min(tasks, i + 100))}, sid,
                                                   batch_size=100))
        defs = [TaskDefinition(payload_id=payloads[f"p{i}"].result_id, expected_output_ids=[outs[f"o{i}"].result_id])
                for i in range(tasks)]
        submitted = time.perf_counter()
        tasks_c.submit_tasks(sid, defs)
        events.wait_for_result_availability([o.result_id for o in outs.values()], sid, parallelism=4)
        done = time.perf_counter()
        out["empty"] = {"tasks": tasks, "seconds": round(done - started, 3),
                        "tasks_per_s": round(tasks / (done - started), 1),
                        "tasks_per_s_after_submit": round(tasks / (done - submitted), 1)}

        sid = sessions.create_session(opts, partition_ids=["default"])
        started = time.perf_counter()
        res = results.create_results_metadata(["fan-out"], sid)["fan-out"].result_id
        p = results.create_results({"fan": json.dumps({"mode": "fan", "n": fan}).encode()}, sid)["fan"].result_id
        tasks_c.submit_tasks(sid, [TaskDefinition(payload_id=p, expected_output_ids=[res])])
        events.wait_for_result_availability(res, sid)
        value = int(results.download_result_data(res, sid))
        done = time.perf_counter()
        assert value == sum(i * i for i in range(fan)), value
        out["fan"] = {"subtasks": fan, "process_calls": fan + 2, "seconds": round(done - started, 3),
                      "tasks_per_s": round((fan + 2) / (done - started), 1)}
    return out


def ceiling(run_dir: str, shared: str, workers: int, tasks: int, mode: str) -> dict:
    """Start `workers` worker processes and a minimal agent, then call Process directly on each
    worker, one call in flight per worker (threads)."""
    from concurrent import futures

    import grpc
    from armonik.protogen.common.agent_common_pb2 import NotifyResultDataResponse
    from armonik.protogen.common.objects_pb2 import Configuration, Empty, TaskOptions
    from armonik.protogen.common.worker_common_pb2 import ProcessRequest
    from armonik.protogen.worker.agent_service_pb2_grpc import AgentServicer, add_AgentServicer_to_server
    from armonik.protogen.worker.worker_service_pb2_grpc import WorkerStub
    from google.protobuf.duration_pb2 import Duration

    class Agent(AgentServicer):
        def NotifyResultData(self, request, context):
            return NotifyResultDataResponse(result_ids=[i.result_id for i in request.ids])

    agent_sock = f"{run_dir}/agent.sock"
    agent = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    add_AgentServicer_to_server(Agent(), agent)
    agent.add_insecure_port(f"unix://{agent_sock}")
    agent.start()
    sockets = [f"{run_dir}/w{i}.sock" for i in range(workers)]
    procs = [subprocess.Popen([sys.executable, "-P", str(WORKER_APP)], env={
        **os.environ, "ComputePlane__WorkerChannel__Address": sock, "ComputePlane__AgentChannel__Address": agent_sock,
    }, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for sock in sockets]
    payload = json.dumps({"mode": mode}).encode()
    per = tasks // workers

    def drive(sock: str) -> int:
        channel = grpc.insecure_channel(f"unix://{sock}")
        stub = WorkerStub(channel)
        stub.HealthCheck(Empty(), timeout=30, wait_for_ready=True)
        folder = Path(shared) / f"ceiling-{Path(sock).stem}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "payload").write_bytes(payload)
        ok = 0
        start.wait()
        for i in range(per):
            reply = stub.Process(ProcessRequest(
                communication_token="bench", session_id="bench", task_id=f"t{i}", payload_id="payload",
                task_options=TaskOptions(max_duration=Duration(seconds=60), priority=1, partition_id="default"),
                expected_output_keys=["out"], data_folder=str(folder),
                configuration=Configuration(data_chunk_max_size=2097152)), timeout=60)
            ok += reply.output.HasField("ok")
        shutil.rmtree(folder, ignore_errors=True)
        channel.close()
        return ok

    import threading

    start = threading.Barrier(workers + 1)
    try:
        with futures.ThreadPoolExecutor(workers) as pool:
            running = [pool.submit(drive, sock) for sock in sockets]
            start.wait()
            started = time.perf_counter()
            ok = sum(f.result() for f in running)
            took = time.perf_counter() - started
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
        agent.stop(0)
    return {"tasks": per * workers, "ok": ok, "seconds": round(took, 3), "tasks_per_s": round(ok / took, 1)}


# ---------------------------------------------------------------------------------------------
# Orchestrator role (runs in the gateway's venv)
# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["main", "client", "ceiling"], default="main")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--fan", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3, help="runs; the report gives every run and the medians")
    ap.add_argument("--backend", default="sqlite", choices=["memory", "sqlite", "postgres"])
    ap.add_argument("--health-check-interval", type=float, default=None,
                    help="adapters.armonik.health_check_interval (default: the adapter's; 0: a HealthCheck "
                         "before every task, as Core)")
    ap.add_argument("--shared", default="", help="where the data folders go (default: the temp dir; e.g. /dev/shm)")
    ap.add_argument("--profile", default="", help="py-spy raw stacks of the gateway during the client phase")
    ap.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")
    ap.add_argument("--target", default="")
    ap.add_argument("--run-dir", default="")
    ap.add_argument("--mode", default="noop")
    ns = ap.parse_args()
    if ns.role == "client":
        print(json.dumps(client(ns.target, ns.tasks, ns.fan)))
        return 0
    if ns.role == "ceiling":
        print(json.dumps(ceiling(ns.run_dir, ns.shared, ns.workers, ns.tasks, ns.mode)))
        return 0

    sys.path.insert(0, str(ROOT))
    from tests.peers.armonik.conftest import PINS

    env = python_venv_for(PINS)
    runs = [one_run(ns, env) for _ in range(ns.runs)]
    if any(r is None for r in runs):
        return 1

    def median(path: str) -> float:
        values = []
        for r in runs:
            v: Any = r
            for k in path.split("."):
                v = v[k]
            values.append(v)
        return round(statistics.median(values), 3)

    report = {
        "workers": ns.workers, "backend": ns.backend, "runs": runs,
        "median": {k: median(k) for k in ("empty.tasks_per_s", "fan.tasks_per_s", "ceiling.tasks_per_s",
                                          "ceiling_nop.tasks_per_s", "empty_vs_ceiling", "fan_vs_ceiling")},
    }
    print(json.dumps(report, indent=1))
    return 0


def python_venv_for(pins: list[str]) -> Any:
    from tests.peers.harness import python_venv

    return python_venv("armonik", python="3.11", requirements=pins)


def one_run(ns: argparse.Namespace, env: Any) -> dict | None:
    from tests.peers.armonik.conftest import write_config
    from tests.peers.harness import GatewayProcess

    tmp = Path(tempfile.mkdtemp(prefix="akbench-"))
    data = Path(tempfile.mkdtemp(prefix="akbench-data-", dir=ns.shared or None))
    run_dir = Path(tempfile.mkdtemp(prefix="ak-", dir="/tmp"))
    config = tmp / "gateway.toml"
    extra = "" if ns.health_check_interval is None else f"health_check_interval = {ns.health_check_interval}"
    write_config(config, env, run_dir, data, tmp / "unused.jsonl", ns.workers, extra=extra)
    # No per-call worker log in a benchmark.
    config.write_text(config.read_text().replace(f'WORKER_LOG = "{tmp / "unused.jsonl"}", ', ""))
    gw = GatewayProcess(tmp / "gw", backend=ns.backend, probe=False, config_file=config)
    # -P: this file is named armonik.py; do not let its folder shadow the SDK package.
    run = [str(env.python), "-P", __file__, "--tasks", str(ns.tasks), "--fan", str(ns.fan)]
    try:
        try:
            gw.start()
            time.sleep(1.0)  # let the workers come up
            spy = None
            if ns.profile:
                spy = subprocess.Popen([ns.py_spy, "record", "-p", str(gw.pid), "-f", "raw", "-o", ns.profile,
                                        "-r", "200"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            proc = subprocess.run([*run, "--role", "client", "--target", gw.grpc_target],
                                  capture_output=True, text=True)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr[-4000:], gw.log_tail(40), sep="\n", file=sys.stderr)
                return None
            through = json.loads(proc.stdout)
        finally:
            gw.close()
        ceilings = {}
        for key, mode in (("ceiling", "noop"), ("ceiling_nop", "nop")):
            ceilings[key] = json.loads(subprocess.run(
                [*run, "--role", "ceiling", "--workers", str(ns.workers), "--mode", mode, "--run-dir", str(run_dir),
                 "--shared", str(data / "ceiling")], check=True, capture_output=True, text=True).stdout)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    top = ceilings["ceiling"]["tasks_per_s"]
    return {**through, **ceilings,
            "empty_vs_ceiling": round(through["empty"]["tasks_per_s"] / top, 3),
            "fan_vs_ceiling": round(through["fan"]["tasks_per_s"] / top, 3)}


if __name__ == "__main__":
    raise SystemExit(main())
