"""ArmoniK front-end benchmark: the real `armonik==3.29.4` client and N real worker processes.

Measures, in one run:
- empty tasks/s: M tasks whose worker only writes an empty result (payload + output per task,
  submitted in batches of 100, one wait on every output);
- a 1,000-task fan-out/fan-in graph: one task creates 1,000 `square` subtasks and a `sum` task that
  depends on all their outputs (1,002 Process calls); time from submit to the sum's value;
- the ceiling: the same N worker processes' `Process` called directly (one call in flight per
  worker, data folder prepared, no agent calls), i.e. what any control plane could push through them.

Usage: .venv/bin/python bench/armonik.py [--workers 4] [--tasks 2000] [--fan 1000] [--backend sqlite]
(the client side re-runs this file with `--role client` inside the peer venv).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def ceiling(sockets: list[str], shared: str, tasks: int) -> dict:
    """Call Process directly on each worker, one call in flight per worker (threads)."""
    from concurrent.futures import ThreadPoolExecutor

    import grpc
    from armonik.protogen.common.objects_pb2 import Configuration, TaskOptions
    from armonik.protogen.common.worker_common_pb2 import ProcessRequest
    from armonik.protogen.worker.worker_service_pb2_grpc import WorkerStub
    from google.protobuf.duration_pb2 import Duration

    payload = json.dumps({"mode": "nop"}).encode()
    per = tasks // len(sockets)

    def drive(sock: str) -> int:
        stub = WorkerStub(grpc.insecure_channel(f"unix://{sock}"))
        folder = Path(shared) / f"ceiling-{os.getpid()}-{Path(sock).stem}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "payload").write_bytes(payload)
        ok = 0
        for i in range(per):
            reply = stub.Process(ProcessRequest(
                communication_token="bench", session_id="bench", task_id=f"t{i}", payload_id="payload",
                task_options=TaskOptions(max_duration=Duration(seconds=60), priority=1, partition_id="default"),
                expected_output_keys=["out"], data_folder=str(folder),
                configuration=Configuration(data_chunk_max_size=2097152)), timeout=60)
            ok += reply.output.HasField("ok")
        shutil.rmtree(folder, ignore_errors=True)
        return ok

    started = time.perf_counter()
    with ThreadPoolExecutor(len(sockets)) as pool:
        ok = sum(pool.map(drive, sockets))
    took = time.perf_counter() - started
    return {"tasks": per * len(sockets), "ok": ok, "seconds": round(took, 3), "tasks_per_s": round(ok / took, 1)}


# ---------------------------------------------------------------------------------------------
# Orchestrator role (runs in the gateway's venv)
# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["main", "client", "ceiling"], default="main")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--fan", type=int, default=1000)
    ap.add_argument("--backend", default="sqlite", choices=["memory", "sqlite", "postgres"])
    ap.add_argument("--health-check-interval", type=float, default=0.0,
                    help="adapters.armonik.health_check_interval (0: a HealthCheck before every task, as Core)")
    ap.add_argument("--target", default="")
    ap.add_argument("--sockets", default="")
    ap.add_argument("--shared", default="")
    ns = ap.parse_args()
    if ns.role == "client":
        print(json.dumps(client(ns.target, ns.tasks, ns.fan)))
        return 0
    if ns.role == "ceiling":
        print(json.dumps(ceiling(ns.sockets.split(","), ns.shared, ns.tasks)))
        return 0

    sys.path.insert(0, str(ROOT))
    from tests.peers.armonik.conftest import PINS, write_config
    from tests.peers.harness import GatewayProcess, python_venv

    env = python_venv("armonik", python="3.11", requirements=PINS)
    tmp = Path(tempfile.mkdtemp(prefix="akbench-"))
    run_dir = Path(tempfile.mkdtemp(prefix="ak-", dir="/tmp"))
    config = tmp / "gateway.toml"
    write_config(config, env, run_dir, tmp, tmp / "unused.jsonl", ns.workers,
                 extra=f"health_check_interval = {ns.health_check_interval}")
    # No per-call worker log in a benchmark.
    config.write_text(config.read_text().replace(f'WORKER_LOG = "{tmp / "unused.jsonl"}", ', ""))
    gw = GatewayProcess(tmp / "gw", backend=ns.backend, probe=False, config_file=config)
    try:
        gw.start()
        time.sleep(1.0)  # let the workers come up
        # -P: this file is named armonik.py; do not let its folder shadow the SDK package.
        run = [str(env.python), "-P", __file__, "--tasks", str(ns.tasks), "--fan", str(ns.fan)]
        proc = subprocess.run([*run, "--role", "client", "--target", gw.grpc_target], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr[-4000:], gw.log_tail(40), sep="\n", file=sys.stderr)
            return 1
        through = json.loads(proc.stdout)
        sockets = ",".join(str(run_dir / f"w{i}.sock") for i in range(ns.workers))
        direct = json.loads(subprocess.run([*run, "--role", "ceiling", "--sockets", sockets,
                                            "--shared", str(tmp / "shared")],
                                           check=True, capture_output=True, text=True).stdout)
    finally:
        gw.close()
        shutil.rmtree(run_dir, ignore_errors=True)
    report = {"workers": ns.workers, "backend": ns.backend, "health_check_interval": ns.health_check_interval,
              **through, "ceiling": direct,
              "empty_vs_ceiling": round(through["empty"]["tasks_per_s"] / direct["tasks_per_s"], 3),
              "fan_vs_ceiling": round(through["fan"]["tasks_per_s"] / direct["tasks_per_s"], 3)}
    print(json.dumps(report, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
