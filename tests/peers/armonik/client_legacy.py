"""The unmodified `armonik` client side of the CreateTask peer tests (worker: worker_legacy.py).

Usage: client_legacy.py --target 127.0.0.1:PORT --worker-log FILE --scenario NAME
Prints one `RESULT {json}` line, then `PASS`; a failed check raises (exit 1).
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

import grpc
from armonik.client import ArmoniKEvents, ArmoniKResults, ArmoniKSessions, ArmoniKTasks
from armonik.common import Task, TaskDefinition, TaskOptions, TaskStatus, create_channel

OPTIONS = TaskOptions(max_duration=timedelta(seconds=10), priority=1, max_retries=2)


def expect(cond: bool, what: object) -> None:
    if not cond:
        raise AssertionError(what)


class Client:
    def __init__(self, channel: grpc.Channel, worker_log: str) -> None:
        self.sessions = ArmoniKSessions(channel)
        self.results = ArmoniKResults(channel)
        self.tasks = ArmoniKTasks(channel)
        self.events = ArmoniKEvents(channel)
        self.worker_log = worker_log
        self.sid = self.sessions.create_session(OPTIONS, partition_ids=["default"])

    def run(self, name: str, body: dict) -> tuple[str, str]:
        """Submit one task with a fresh output and a JSON payload: (task id, output id)."""
        out = self.results.create_results_metadata([f"{name}-out"], self.sid)[f"{name}-out"].result_id
        payload = self.results.create_results({"payload": json.dumps(body).encode()}, self.sid)["payload"].result_id
        [task] = self.tasks.submit_tasks(self.sid, [TaskDefinition(payload_id=payload, expected_output_ids=[out])])
        return task.id, out

    def value(self, out: str) -> bytes:
        self.events.wait_for_result_availability(out, self.sid)
        return self.results.download_result_data(out, self.sid)

    def log(self, event: str) -> list[dict]:
        with open(self.worker_log) as fh:
            return [r for line in fh if (r := json.loads(line))["event"] == event and r["session"] == self.sid]

    def session_tasks(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks.list_tasks(task_filter=Task.session_id == self.sid, page_size=100)[1]}

    def session_results(self) -> set[str]:
        from armonik.common import Result
        return {r.result_id for r in self.results.list_results(Result.session_id == self.sid, page_size=100)[1]}

    def missing(self, ids: list[str], get: object) -> bool:
        """Every id is unknown to the control plane (NOT_FOUND)."""
        for ident in ids:
            try:
                get(ident)  # type: ignore[operator]
            except grpc.RpcError as exc:
                expect(exc.code() == grpc.StatusCode.NOT_FOUND, f"{ident}: {exc.code()}")
                continue
            return False
        return True


def s_ok(c: Client) -> dict:
    """Three `square` subtasks and their `sum`, streamed through CreateTask: 2²+3²+4² = 29."""
    parent, out = c.run("legacy", {"mode": "legacy", "ns": [2, 3, 4]})
    value = c.value(out)
    expect(value == b"29", f"value {value!r}")
    [created] = c.log("create_task")
    subs = created["tasks"]
    expect(created["error"] == "" and len(subs) == 4, created)
    # the reply echoes each header, in stream order, with a fresh payload per task
    expect([s["out"] for s in subs] == [[m] for m in created["mids"]] + [[out]], subs)
    expect([s["deps"] for s in subs] == [[], [], [], created["mids"]], subs)
    tasks = c.session_tasks()
    expect(set(tasks) == {parent} | {s["id"] for s in subs}, f"tasks {sorted(tasks)}")
    for s in subs:
        t = c.tasks.get_task(s["id"])
        expect(t.status == TaskStatus.COMPLETED and t.parent_task_ids[-1:] == [parent], f"sub {t}")
        expect(t.payload_id == s["payload"] and t.created_by == parent, f"sub {t}")
        # init_request options over the session defaults
        o = t.options
        expect((o.priority, o.options, o.max_retries, o.max_duration) ==
               (3, {"via": "CreateTask"}, 2, timedelta(seconds=10)), f"options {o}")
        # the streamed payload, reassembled from its chunks, is a COMPLETED result of the session
        r = c.results.get_result(s["payload"])
        expect(r.status.name == "COMPLETED" and r.created_by == parent, f"payload {r}")
        data = json.loads(c.results.download_result_data(s["payload"], c.sid))
        expect(len(data["pad"]) == 2500 and data["mode"] in ("square", "sum") and r.size > 2 * 1024, f"payload {r}")
    expect(c.results.get_result(out).owner_task_id == subs[-1]["id"], "out not owned by the sum task")
    expect(c.tasks.get_task(parent).status == TaskStatus.COMPLETED, "parent not COMPLETED")
    processes = c.log("process")
    expect(len(processes) == 5, f"{len(processes)} Process calls")
    return {"value": value.decode(), "subtasks": len(subs), "messages": created["messages"]}


def s_error(c: Client) -> dict:
    """CreateTask succeeds, then the worker answers an error: nothing it streamed ever exists."""
    parent, out = c.run("legacy", {"mode": "legacy", "ns": [5], "variant": "error"})
    try:
        c.events.wait_for_result_availability(out, c.sid)
        raise AssertionError("waiting on the output did not raise")
    except RuntimeError as exc:
        expect(str(exc) == f"Result {out} has been aborted.", exc)
    [created] = c.log("create_task")
    subs = created["tasks"]
    expect(created["error"] == "" and len(subs) == 2, created)
    task = c.tasks.get_task(parent)
    expect(task.status == TaskStatus.ERROR and task.output.error == "refused after CreateTask", f"parent {task}")
    expect(set(c.session_tasks()) == {parent}, "streamed subtasks are visible")
    tasks_missing = c.missing([s["id"] for s in subs], c.tasks.get_task)
    results_missing = c.missing([s["payload"] for s in subs] + created["mids"], c.results.get_result)
    expect(len(c.log("process")) == 1, "a streamed subtask ran")
    return {"tasks_missing": tasks_missing, "results_missing": results_missing, "results": len(c.session_results())}


def s_malformed(c: Client) -> dict:
    """Broken and refused streams: the worker sees each answer; the session gains nothing from them."""
    _, first = c.run("first", {"mode": "square", "n": 6})  # one worker: its token is then finished
    expect(c.value(first) == b"36", "first task")
    tid, out = c.run("malformed", {"mode": "malformed"})
    verdicts = json.loads(c.value(out))
    expect(c.tasks.get_task(tid).status == TaskStatus.COMPLETED, "malformed task not COMPLETED")
    # two tasks, each with its payload and output: nothing from the refused streams
    tasks, results = c.session_tasks(), c.session_results()
    expect(len(tasks) == 2 and len(results) == 4, f"a refused stream left something: {tasks} {results}")
    return verdicts


SCENARIOS = {"ok": s_ok, "error": s_error, "malformed": s_malformed}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--worker-log", required=True)
    ap.add_argument("--scenario", required=True)
    ns = ap.parse_args()
    with create_channel(f"http://{ns.target}") as channel:
        out = SCENARIOS[ns.scenario](Client(channel, ns.worker_log))
    print("RESULT " + json.dumps(out), flush=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
