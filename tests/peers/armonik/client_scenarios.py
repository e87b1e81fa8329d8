"""The acceptance scenarios (protocols/armonik.md section 6), driven by the unmodified SDK client.

Usage: client_scenarios.py --target 127.0.0.1:PORT --worker-log FILE --scenario NAME [...]
Prints one `RESULT {json}` line per scenario, then `PASS`; a failed check raises (exit 1).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta

import grpc
from armonik.client import (
    ArmoniKEvents,
    ArmoniKHealthChecks,
    ArmoniKPartitions,
    ArmoniKResults,
    ArmoniKSessions,
    ArmoniKTasks,
    ArmoniKVersions,
)
from armonik.common import TaskDefinition, TaskOptions, TaskStatus, create_channel

OPTIONS = TaskOptions(max_duration=timedelta(seconds=10), priority=1, max_retries=2)


class Client:
    def __init__(self, channel: grpc.Channel, worker_log: str) -> None:
        self.sessions = ArmoniKSessions(channel)
        self.results = ArmoniKResults(channel)
        self.tasks = ArmoniKTasks(channel)
        self.events = ArmoniKEvents(channel)
        self.partitions = ArmoniKPartitions(channel)
        self.versions = ArmoniKVersions(channel)
        self.health = ArmoniKHealthChecks(channel)
        self.worker_log = worker_log

    def session(self) -> str:
        return self.sessions.create_session(OPTIONS, partition_ids=["default"])

    def out(self, sid: str, name: str) -> str:
        return self.results.create_results_metadata([f"{name}-out"], sid)[f"{name}-out"].result_id

    def payload(self, sid: str, body: dict) -> str:
        return self.results.create_results({"payload": json.dumps(body).encode()}, sid)["payload"].result_id

    def submit(self, sid: str, payload: str, outs: list[str], deps: list[str] | None = None,
               options: TaskOptions | None = None) -> str:
        task = TaskDefinition(payload_id=payload, expected_output_ids=outs, data_dependencies=deps or [],
                              options=options)
        return self.tasks.submit_tasks(sid, [task])[0].id

    def run(self, sid: str, name: str, body: dict, options: TaskOptions | None = None) -> tuple[str, str]:
        out = self.out(sid, name)
        tid = self.submit(sid, self.payload(sid, body), [out], options=options)
        return tid, out

    def value(self, sid: str, out: str) -> bytes:
        self.events.wait_for_result_availability(out, sid)
        return self.results.download_result_data(out, sid)

    def aborted(self, sid: str, out: str) -> str:
        try:
            self.events.wait_for_result_availability(out, sid)
        except RuntimeError as exc:
            return str(exc)
        raise AssertionError(f"waiting on {out} did not raise")

    def log(self, sid: str) -> list[dict]:
        with open(self.worker_log) as fh:
            return [r for line in fh if (r := json.loads(line)).get("session", sid) == sid or
                    r.get("task") in self._tasks(sid)]

    def _tasks(self, sid: str) -> set[str]:
        return {t.id for t in self.tasks.list_tasks(task_filter=self._in(sid), page_size=1000)[1]}

    @staticmethod
    def _in(sid: str):
        from armonik.common import Task
        return Task.session_id == sid

    def processes(self, sid: str) -> list[dict]:
        return [r for r in self.log(sid) if r["event"] == "process" and r["session"] == sid]

    def agent_calls(self, sid: str) -> list[dict]:
        tasks = {r["task"] for r in self.processes(sid)}
        return [r for r in self.log(sid) if r["event"] == "agent" and r["task"] in tasks]


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def wait_status(c: Client, tid: str, status: TaskStatus, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := c.tasks.get_task(tid).status) != status:
        expect(time.monotonic() < deadline, f"task {tid} is {got!r}, not {status!r}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------


def s0_smoke(c: Client) -> dict:
    versions = c.versions.list_versions()
    expect(set(versions) == {"core", "api"}, f"versions {versions}")
    health = c.health.check_health()
    expect(health == {"control_plane": {"message": "ok", "status": 1}}, f"health {health}")
    total, parts = c.partitions.list_partitions()
    expect(total >= 1 and "default" in [p.id for p in parts], f"partitions {total} {parts}")
    return {"versions": sorted(versions), "health": health, "partitions": [p.id for p in parts]}


def s1_square(c: Client) -> dict:
    sid = c.session()
    tid, out = c.run(sid, "sq", {"mode": "square", "n": 7})
    value = c.value(sid, out)
    expect(value == b"49", f"value {value!r}")
    procs = c.processes(sid)
    expect(len(procs) == 1, f"{len(procs)} Process calls")
    task = c.tasks.get_task(tid)
    expect(procs[0]["folder"] == [procs[0]["payload_id"]], f"folder {procs[0]['folder']}")
    expect(procs[0]["options"] == {"max_duration": 10.0, "max_retries": 2, "priority": 1, "partition_id": "default"},
           f"options {procs[0]['options']}")
    notifies = [a for a in c.agent_calls(sid) if a["rpc"] == "NotifyResultData"]
    expect([n["ids"] for n in notifies] == [[out]], f"notifies {notifies}")
    expect(task.status == TaskStatus.COMPLETED and task.output.error is None, f"task {task.status} {task.output}")
    return {"value": value.decode(), "sid": sid, "out": out, "status": task.status.name}


def s2_delegate(c: Client) -> dict:
    sid = c.session()
    tid, out = c.run(sid, "dg", {"mode": "delegate", "n": 4})
    value = c.value(sid, out)
    expect(value == b"25", f"value {value!r}")
    calls = [a["rpc"] for a in c.agent_calls(sid) if a["task"] == tid]
    expect(calls == ["CreateResults", "SubmitTasks"], f"agent calls {calls}")
    submit = next(a for a in c.agent_calls(sid) if a["rpc"] == "SubmitTasks")
    expect(submit["tasks"][0]["out"] == [out], f"submit {submit}")
    owner = c.results.get_result(out).owner_task_id
    expect(owner != tid, "out still owned by the parent")
    expect(c.tasks.get_task(tid).status == TaskStatus.COMPLETED, "parent not COMPLETED")
    expect(len(c.processes(sid)) == 2, f"{len(c.processes(sid))} Process calls")
    return {"value": value.decode(), "owner_moved": owner != tid}


def s3_fanout(c: Client) -> dict:
    sid = c.session()
    tid, out = c.run(sid, "fo", {"mode": "fanout"})
    value = c.value(sid, out)
    expect(value == b"13", f"value {value!r}")
    calls = [a for a in c.agent_calls(sid) if a["task"] == tid]
    expect([a["rpc"] for a in calls] == ["CreateResultsMetaData", "CreateResults", "SubmitTasks"], f"calls {calls}")
    expect(calls[1]["names"] == ["pa", "pb", "ps"] and len(calls[2]["tasks"]) == 3, f"calls {calls}")
    procs = c.processes(sid)
    expect(len(procs) == 4, f"{len(procs)} Process calls")
    summer = next(p for p in procs if p["outputs"] == [out] and p["task"] != tid)
    expect(len(summer["folder"]) == 3 and len(summer["deps"]) == 2, f"sum folder {summer}")
    return {"value": value.decode(), "processes": len(procs)}


def s4_late_payload(c: Client) -> dict:
    sid = c.session()
    out = c.out(sid, "late")
    payload = c.results.create_results_metadata(["payload"], sid)["payload"].result_id
    tid = c.submit(sid, payload, [out])
    expect(c.tasks.get_task(tid).status == TaskStatus.PENDING, "not PENDING after submit")
    time.sleep(0.3)
    expect(c.tasks.get_task(tid).status == TaskStatus.PENDING, "not PENDING 0.3 s later")
    c.results.upload_result_data(payload, sid, json.dumps({"mode": "square", "n": 5}).encode())
    value = c.value(sid, out)
    expect(value == b"25", f"value {value!r}")
    return {"value": value.decode()}


def s5_reverse(c: Client) -> dict:
    sid = c.session()
    a_out, b_out = c.out(sid, "a"), c.out(sid, "b")
    b = c.submit(sid, c.payload(sid, {"mode": "square", "n": 1}), [b_out], deps=[a_out])
    time.sleep(0.2)
    expect(c.tasks.get_task(b).status == TaskStatus.PENDING, "B not PENDING")
    c.submit(sid, c.payload(sid, {"mode": "square", "n": 10}), [a_out])
    c.events.wait_for_result_availability([a_out, b_out], sid)
    a_val, b_val = c.results.download_result_data(a_out, sid), c.results.download_result_data(b_out, sid)
    expect((a_val, b_val) == (b"100", b"101"), f"values {a_val!r} {b_val!r}")
    return {"a": a_val.decode(), "b": b_val.decode()}


def s6_worker_error(c: Client) -> dict:
    sid = c.session()
    tid, out = c.run(sid, "err", {"mode": "fail"})
    msg = c.aborted(sid, out)
    expect(msg == f"Result {out} has been aborted.", msg)
    task = c.tasks.get_task(tid)
    expect(task.status == TaskStatus.ERROR and task.retry_of_ids == [], f"task {task.status} {task.retry_of_ids}")
    expect(task.output.error == "worker said no", f"output {task.output}")
    expect(c.results.get_result(out).status.name == "ABORTED", "out not ABORTED")
    expect(len(c.processes(sid)) == 1, "retried")
    return {"error": task.output.error, "sid": sid, "out": out}


def s7_retry(c: Client) -> dict:
    sid = c.session()
    opts = TaskOptions(max_duration=timedelta(seconds=10), priority=1, max_retries=1)
    tid, out = c.run(sid, "rt", {"mode": "raise"}, options=opts)
    c.aborted(sid, out)
    procs = c.processes(sid)
    expect(len(procs) == 2, f"{len(procs)} Process calls")
    first, retry = c.tasks.get_task(tid), c.tasks.get_task(f"{tid}###1")
    expect(first.status == TaskStatus.RETRIED, f"first {first.status}")
    expect(retry.retry_of_ids == [tid] and retry.initial_task_id == tid, f"retry {retry}")
    expect(retry.payload_id == first.payload_id and retry.expected_output_ids == [out], "retry differs")
    expect(retry.status == TaskStatus.ERROR, f"retry {retry.status}")
    expect("Failed to serialize response" in (retry.output.error or ""), f"error {retry.output.error}")
    return {"first": first.status.name, "retry": retry.status.name}


def s8_timeout(c: Client) -> dict:
    sid = c.session()
    opts = TaskOptions(max_duration=timedelta(seconds=1), priority=1, max_retries=3)
    started = time.monotonic()
    tid, out = c.run(sid, "to", {"mode": "sleep", "s": 3}, options=opts)
    c.aborted(sid, out)
    took = time.monotonic() - started
    task = c.tasks.get_task(tid)
    expect(task.status == TaskStatus.TIMEOUT and task.retry_of_ids == [], f"task {task.status}")
    expect(took < 2.5, f"took {took:.1f}s")
    proc = c.processes(sid)[0]
    late = []
    deadline = time.monotonic() + 6
    while not late and time.monotonic() < deadline:
        time.sleep(0.2)
        late = [r for r in c.log(sid) if r["event"] == "late" and r["task"] == tid]
    expect(late and late[0]["error"] == "FileNotFoundError", f"late {late}")
    return {"status": task.status.name, "seconds": round(took, 1), "worker": proc["worker"]}


def s9_close(c: Client) -> dict:
    sid = c.session()
    status = c.sessions.close_session(sid).status
    expect(int(status) == 4, f"status {status}")
    return {"status": int(status)}


def s10_replay(c: Client) -> dict:
    done = s1_square(c)
    t0 = time.monotonic()
    c.events.wait_for_result_availability(done["out"], done["sid"])
    t_failed = time.monotonic()
    failed = s6_worker_error(c)
    failed["seconds_total"] = time.monotonic() - t_failed
    t1 = time.monotonic()
    msg = c.aborted(failed["sid"], failed["out"])
    completed_wait = t1 - t0 - failed["seconds_total"]
    aborted_wait = time.monotonic() - t1
    expect(completed_wait < 1.0 and aborted_wait < 1.0, f"waits {completed_wait:.2f}s {aborted_wait:.2f}s")
    return {"completed_wait": round(completed_wait, 2), "aborted": msg, "aborted_wait": round(aborted_wait, 2)}


def s11_resource(c: Client) -> dict:
    sid = c.session()
    rid = c.results.create_results({"res": b"xyz"}, sid)["res"].result_id
    _, out = c.run(sid, "rs", {"mode": "resource", "rid": rid})
    value = c.value(sid, out)
    expect(value == b"resource:xyz", f"value {value!r}")
    return {"value": value.decode()}


def s12_cascade(c: Client) -> dict:
    sid = c.session()
    x_out, d_out = c.out(sid, "x"), c.out(sid, "d")
    d = c.submit(sid, c.payload(sid, {"mode": "square", "n": 1}), [d_out], deps=[x_out])
    c.submit(sid, c.payload(sid, {"mode": "fail"}), [x_out])
    c.aborted(sid, d_out)
    expect(c.results.get_result(x_out).status.name == "ABORTED", "x-out not ABORTED")
    expect(c.tasks.get_task(d).status == TaskStatus.ERROR, "D not ERROR")
    try:
        c.submit(sid, c.payload(sid, {"mode": "square", "n": 1}), [c.out(sid, "e")], deps=[x_out])
        code = "OK"
    except grpc.RpcError as exc:
        code = exc.code().name
    expect(code == "FAILED_PRECONDITION", f"submit on aborted dep: {code}")
    return {"d": "ERROR", "submit": code}


def s13_after_close(c: Client) -> dict:
    sid = c.session()
    _, out = c.run(sid, "ac", {"mode": "square", "n": 3})
    c.value(sid, out)
    c.sessions.close_session(sid)
    codes = []
    for action in (lambda: c.run(sid, "late", {"mode": "square", "n": 1}), lambda: c.sessions.close_session(sid)):
        try:
            action()
            codes.append("OK")
        except grpc.RpcError as exc:
            codes.append(exc.code().name)
    expect(codes == ["FAILED_PRECONDITION", "FAILED_PRECONDITION"], f"codes {codes}")
    purged = c.sessions.purge_session(sid)
    expect(int(purged.status) == 5, f"purge status {purged.status}")
    expect(c.results.get_result(out).status.name == "DELETED", "result not DELETED")
    return {"codes": codes, "purged": int(purged.status)}


def s14_pause_resume(c: Client) -> dict:
    sid = c.session()
    c.sessions.pause_session(sid)
    tid, out = c.run(sid, "pr", {"mode": "square", "n": 2})
    time.sleep(0.5)
    status = c.tasks.get_task(tid).status
    expect(status == TaskStatus.PAUSED, f"status {status}")
    expect(c.processes(sid) == [], "dispatched while paused")
    c.sessions.resume_session(sid)
    value = c.value(sid, out)
    expect(value == b"4", f"value {value!r}")
    return {"paused": status.name, "value": value.decode()}


def s_token(c: Client) -> dict:
    sid = c.session()
    _, out = c.run(sid, "tk", {"mode": "token"})
    value = c.value(sid, out).decode()
    expect(value == "INVALID_ARGUMENT,INVALID_ARGUMENT", value)
    return {"value": value}


def s_priority(c: Client) -> dict:
    """Within a partition, higher priority first once workers free up (FIFO among equals)."""
    sid = c.session()
    # The blockers must outlast submitting the six tasks below, even on a loaded machine.
    blockers = [c.run(sid, f"blk{i}", {"mode": "square", "n": i, "sleep": 3.0})[0] for i in range(3)]
    for b in blockers:
        wait_status(c, b, TaskStatus.PROCESSING)
    low = [c.run(sid, f"lo{i}", {"mode": "square", "n": i}, options=_prio(1))[0] for i in range(3)]
    high = [c.run(sid, f"hi{i}", {"mode": "square", "n": i}, options=_prio(9))[0] for i in range(3)]
    outs = [t.expected_output_ids[0] for t in (c.tasks.get_task(x) for x in low + high)]
    c.events.wait_for_result_availability(outs, sid)
    order = [p["task"] for p in sorted(c.processes(sid), key=lambda p: p["t"]) if p["task"] not in blockers]
    expect(set(order[:3]) == set(high), f"order {order} high {high}")
    return {"high_first": True}


def _prio(p: int) -> TaskOptions:
    return TaskOptions(max_duration=timedelta(seconds=10), priority=p, max_retries=2)


def s_parallel(c: Client) -> dict:
    """30 tasks of 0.3 s spread over the worker processes."""
    sid = c.session()
    started = time.monotonic()
    outs = [c.run(sid, f"par{i}", {"mode": "square", "n": i, "sleep": 0.3})[1] for i in range(30)]
    c.events.wait_for_result_availability(outs, sid)
    took = time.monotonic() - started
    values = [c.results.download_result_data(o, sid) for o in outs]
    expect(values == [str(i * i).encode() for i in range(30)], f"values {values}")
    workers = {p["worker"] for p in c.processes(sid)}
    expect(len(workers) >= 3 and took < 6.0, f"workers {workers} took {took:.1f}s")
    return {"workers": len(workers), "seconds": round(took, 1)}


def s_worker_crash(c: Client) -> dict:
    """A worker killed mid-Process: the attempt is RETRIED on a (restarted or other) worker."""
    import os
    import signal

    sid = c.session()
    tid, out = c.run(sid, "crash", {"mode": "square", "n": 6, "sleep": 2.0})
    deadline = time.monotonic() + 10
    while not (procs := c.processes(sid)):
        expect(time.monotonic() < deadline, "never processed")
        time.sleep(0.05)
    os.kill(procs[0]["pid"], signal.SIGKILL)
    value = c.value(sid, out)
    expect(value == b"36", f"value {value!r}")
    first = c.tasks.get_task(tid)
    expect(first.status == TaskStatus.RETRIED, f"first {first.status}")
    expect(c.tasks.get_task(f"{tid}###1").status == TaskStatus.COMPLETED, "retry not COMPLETED")
    return {"first": first.status.name, "value": value.decode()}


def _created(c: Client, sid: str) -> list[dict]:
    """The CreateTask replies the worker recorded for this session's tasks."""
    tasks = {r["task"] for r in c.processes(sid)}
    return [r for r in c.log(sid) if r["event"] == "create_task" and r["task"] in tasks]


def s_legacy(c: Client) -> dict:
    """The deprecated streamed Agent.CreateTask: three subtasks (square 2, square 3, their sum)."""
    sid = c.session()
    tid, out = c.run(sid, "lg", {"mode": "legacy", "variant": "ok"})
    value = c.value(sid, out)
    expect(value == b"13", f"value {value!r}")
    [created] = _created(c, sid)
    subs = created["tasks"]
    expect(created["error"] == "" and len(subs) == 3, f"reply {created}")
    expect(subs[2]["out"] == [out] and subs[2]["deps"] == [subs[0]["out"][0], subs[1]["out"][0]], f"subs {subs}")
    expect(len({s["payload"] for s in subs}) == 3, f"payloads {subs}")
    for s in subs:
        task = c.tasks.get_task(s["id"])
        expect(task.status == TaskStatus.COMPLETED and task.parent_task_ids[-1:] == [tid], f"sub {task}")
        expect(c.results.get_result(s["payload"]).status.name == "COMPLETED", "payload not COMPLETED")
    expect(c.results.get_result(out).owner_task_id == subs[2]["id"], "out not owned by the sum task")
    expect(len(c.processes(sid)) == 4, f"{len(c.processes(sid))} Process calls")
    return {"value": value.decode(), "subtasks": len(subs)}


def s_legacy_error(c: Client) -> dict:
    """CreateTask, then the worker answers an error: the streamed subtasks never exist."""
    sid = c.session()
    tid, out = c.run(sid, "lge", {"mode": "legacy", "variant": "error"})
    msg = c.aborted(sid, out)
    expect(msg == f"Result {out} has been aborted.", msg)
    [created] = _created(c, sid)
    missing = 0
    for s in created["tasks"]:
        try:
            c.tasks.get_task(s["id"])
        except grpc.RpcError as exc:
            expect(exc.code() == grpc.StatusCode.NOT_FOUND, f"get_task {exc.code()}")
            missing += 1
    expect(c.tasks.get_task(tid).output.error == "legacy refused", "parent error")
    return {"missing": missing, "processes": len(c.processes(sid))}


def s_legacy_malformed(c: Client) -> dict:
    sid = c.session()
    _, out = c.run(sid, "lgm", {"mode": "legacy", "variant": "malformed"})
    return {"value": c.value(sid, out).decode()}


SCENARIOS = {
    "0": s0_smoke, "1": s1_square, "2": s2_delegate, "3": s3_fanout, "4": s4_late_payload, "5": s5_reverse,
    "6": s6_worker_error, "7": s7_retry, "8": s8_timeout, "9": s9_close, "10": s10_replay, "11": s11_resource,
    "12": s12_cascade, "13": s13_after_close, "14": s14_pause_resume, "token": s_token,
    "priority": s_priority, "parallel": s_parallel, "worker_crash": s_worker_crash,
    "legacy": s_legacy, "legacy_error": s_legacy_error, "legacy_malformed": s_legacy_malformed,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--worker-log", required=True)
    ap.add_argument("--scenario", action="append", required=True)
    ns = ap.parse_args()
    with create_channel(f"http://{ns.target}") as channel:
        c = Client(channel, ns.worker_log)
        for name in ns.scenario:
            started = time.monotonic()
            out = SCENARIOS[name](c)
            print("RESULT " + json.dumps({"scenario": name, "seconds": round(time.monotonic() - started, 2), **out}),
                  flush=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
