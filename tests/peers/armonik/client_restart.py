"""Restart scenario, driven by the SDK client in two phases around a `kill -9` of the gateway.

`--phase submit`: create a session and N slow `square` tasks, wait until some are running, save
the ids to `--state`. `--phase verify`: wait for every output, check each value and that every task
ran to COMPLETED exactly once (no extra attempts, no duplicate results).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta

from armonik.client import ArmoniKEvents, ArmoniKResults, ArmoniKSessions, ArmoniKTasks
from armonik.common import Task, TaskDefinition, TaskOptions, TaskStatus, create_channel


def submit(channel, state: str, worker_log: str, n: int) -> None:
    sessions, results, tasks = ArmoniKSessions(channel), ArmoniKResults(channel), ArmoniKTasks(channel)
    sid = sessions.create_session(TaskOptions(max_duration=timedelta(seconds=30), priority=1, max_retries=2),
                                  partition_ids=["default"])
    outs = results.create_results_metadata([f"o{i}" for i in range(n)], sid)
    payloads = results.create_results(
        {f"p{i}": json.dumps({"mode": "square", "n": i, "sleep": 0.4}).encode() for i in range(n)}, sid)
    defs = [TaskDefinition(payload_id=payloads[f"p{i}"].result_id, expected_output_ids=[outs[f"o{i}"].result_id])
            for i in range(n)]
    submitted = tasks.submit_tasks(sid, defs)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(worker_log) as fh:
            running = [r for line in fh if (r := json.loads(line)).get("session") == sid]
        if len(running) >= 2:
            break
        time.sleep(0.05)
    json.dump({"sid": sid, "outs": [outs[f"o{i}"].result_id for i in range(n)],
               "tasks": [t.id for t in submitted]}, open(state, "w"))
    print(f"RESULT {json.dumps({'phase': 'submit', 'running_at_kill': len(running)})}")


def verify(channel, state: str) -> None:
    st = json.load(open(state))
    sid, outs = st["sid"], st["outs"]
    results, tasks, events = ArmoniKResults(channel), ArmoniKTasks(channel), ArmoniKEvents(channel)
    events.wait_for_result_availability(outs, sid)
    values = [results.download_result_data(o, sid) for o in outs]
    assert values == [str(i * i).encode() for i in range(len(outs))], values
    total, listed = tasks.list_tasks(task_filter=Task.session_id == sid, page_size=1000)
    statuses = {t.id: t.status for t in listed}
    assert total == len(outs) and set(statuses) == set(st["tasks"]), (total, statuses)
    assert all(s == TaskStatus.COMPLETED for s in statuses.values()), statuses
    for o in outs:
        assert results.get_result(o).status.name == "COMPLETED"
    print(f"RESULT {json.dumps({'phase': 'verify', 'values': len(values), 'tasks': total})}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--phase", choices=["submit", "verify"], required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--worker-log", default="")
    ap.add_argument("-n", type=int, default=12)
    ns = ap.parse_args()
    with create_channel(f"http://{ns.target}") as channel:
        if ns.phase == "submit":
            submit(channel, ns.state, ns.worker_log, ns.n)
        else:
            verify(channel, ns.state)
    print("PASS")


if __name__ == "__main__":
    main()
