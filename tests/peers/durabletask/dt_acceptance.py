"""Durable Task acceptance driver: runs in the peer venv (durabletask==1.12.0), client + worker in one process.

Usage: python dt_acceptance.py --host 127.0.0.1:4001 [--extended] [--timeout 30] [--no-parent-check]
Implements the brief's acceptance scenarios 1-12 (1 always; 2-7 and 9-12 with --extended), plus 13
rewind, 14 restart and 15 workItemFilters (with --extended), and prints
PASS on success (exit 0). `--role drop-worker` is the helper subprocess of scenario 11.
`--phase start|finish --iid X` drive the gateway-restart test (a 3 s timer across a kill -9).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import grpc
from durabletask import client, task, worker
from durabletask.entities import EntityInstanceId
from durabletask.grpc_options import GrpcWorkerResiliencyOptions

FAST = GrpcWorkerResiliencyOptions(reconnect_backoff_base_seconds=0.2, reconnect_backoff_cap_seconds=1.0)
MARKER = os.environ.get("DT_DROP_MARKER", "")


# ------------------------------------------------------------------ orchestrations, activities, entity

def say_hello(ctx: task.ActivityContext, name: str) -> str:
    return f"Hello, {name}!"


def child(ctx: task.OrchestrationContext, name: str):
    greeting = yield ctx.call_activity(say_hello, input=f"child-{name}")
    return {"child_greeting": greeting, "parent": ctx.parent_instance_id}


def parent(ctx: task.OrchestrationContext, name: str):
    greeting = yield ctx.call_activity(say_hello, input=name)
    ctx.set_custom_status("waiting-for-timer")
    yield ctx.create_timer(timedelta(seconds=2))
    ctx.set_custom_status("waiting-for-approval")
    approval = yield ctx.wait_for_external_event("approval")
    sub = yield ctx.call_sub_orchestrator(child, input=name, instance_id=f"{ctx.instance_id}-child")
    return {"greeting": greeting, "approval": approval, "sub": sub}


def waiter(ctx: task.OrchestrationContext, _):
    value = yield ctx.wait_for_external_event("go")
    return value


def counter_loop(ctx: task.OrchestrationContext, n: int):
    if n < 3:
        ctx.continue_as_new(n + 1)
        return None
    return n


def boom(ctx: task.ActivityContext, _) -> None:
    raise ValueError("kaboom")


def fails(ctx: task.OrchestrationContext, _):
    try:
        yield ctx.call_activity(boom)
    except task.TaskFailedError as exc:
        return f"caught:{exc.details.error_type}"
    return "not-caught"


def counter_entity(ctx, input):
    if ctx.operation == "add":
        ctx.set_state((ctx.get_state(int) or 0) + input)
        return None
    if ctx.operation == "get":
        return ctx.get_state(int) or 0
    raise ValueError(f"unknown operation {ctx.operation}")


def entity_user(ctx: task.OrchestrationContext, _):
    eid = EntityInstanceId("counter_entity", "c1")
    ctx.signal_entity(eid, "add", input=5)
    value = yield ctx.call_entity(eid, "get")
    return value


def slow_step(ctx: task.ActivityContext, _) -> str:
    if MARKER:  # the doomed worker of scenario 11: announce, then hang until killed
        Path(MARKER).write_text("started")
        time.sleep(120)
    return "done"


def drop_orch(ctx: task.OrchestrationContext, _):
    result = yield ctx.call_activity(slow_step)
    return result


def sleeper(ctx: task.OrchestrationContext, _):
    yield ctx.create_timer(timedelta(seconds=3))
    return "woke"


FLAKY_CALLS = [0]


def flaky(ctx: task.ActivityContext, _) -> str:
    FLAKY_CALLS[0] += 1
    if FLAKY_CALLS[0] == 1:
        raise ValueError("first call fails")
    return "second time lucky"


def rewindable(ctx: task.OrchestrationContext, _):
    result = yield ctx.call_activity(flaky)
    return result


def filtered(ctx: task.OrchestrationContext, name: str):
    greeting = yield ctx.call_activity(say_hello, input=name)
    return greeting


ORCHESTRATORS = [parent, child, waiter, counter_loop, fails, entity_user, drop_orch, sleeper, rewindable, filtered]
ACTIVITIES = [say_hello, boom, slow_step, flaky]


def new_worker(host: str, resiliency: GrpcWorkerResiliencyOptions = FAST, interceptors=None):
    w = worker.TaskHubGrpcWorker(host_address=host, resiliency_options=resiliency, interceptors=interceptors)
    for fn in ORCHESTRATORS:
        w.add_orchestrator(fn)
    for fn in ACTIVITIES:
        w.add_activity(fn)
    w.add_entity(counter_entity)
    return w


class CountCalls(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Counts Hello and GetWorkItems calls (how often the worker (re)connected)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def _count(self, details) -> None:
        name = details.method.rsplit("/", 1)[-1]
        self.calls[name] = self.calls.get(name, 0) + 1

    def intercept_unary_unary(self, continuation, details, request):
        self._count(details)
        return continuation(details, request)

    def intercept_unary_stream(self, continuation, details, request):
        self._count(details)
        return continuation(details, request)


class TapTokens(grpc.UnaryStreamClientInterceptor):
    """Writes the completionToken of every activity work item to `<MARKER>.token` (scenario 11)."""

    def intercept_unary_stream(self, continuation, details, request):
        call = continuation(details, request)
        return _Tap(call) if details.method.endswith("/GetWorkItems") else call


class _Tap:
    def __init__(self, call) -> None:
        self._call = call

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self._call)
        if item.HasField("activityRequest") and MARKER:
            Path(MARKER + ".token").write_text(item.completionToken)
        return item

    def __getattr__(self, name):
        return getattr(self._call, name)


# ------------------------------------------------------------------ helpers

def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}", flush=True)


def out(state) -> object:
    return None if state is None or state.serialized_output is None else json.loads(state.serialized_output)


def status(state) -> str:
    return "None" if state is None else state.runtime_status.name


def uid(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------ scenarios

def scenario_main(c: client.TaskHubGrpcClient, t: float, parent_check: bool) -> None:
    started = time.monotonic()
    iid = c.schedule_new_orchestration(parent, input="World", instance_id=uid("e2e"))
    st = c.wait_for_orchestration_start(iid, timeout=t)
    check(status(st) in ("RUNNING", "COMPLETED"), f"1: {iid} RUNNING after start ({status(st)})")
    deadline = time.monotonic() + t
    seen = set()
    while time.monotonic() < deadline:
        st = c.get_orchestration_state(iid)
        cs = json.loads(st.serialized_custom_status) if st and st.serialized_custom_status else None
        seen.add(cs)
        if cs == "waiting-for-approval":
            break
        time.sleep(0.2)
    check("waiting-for-approval" in seen, f"1: custom status reached waiting-for-approval (saw {seen})")
    c.raise_orchestration_event(iid, "approval", data={"approved": True})
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "COMPLETED", f"1: COMPLETED ({status(st)}, {st and st.failure_details})")
    expected = {
        "greeting": "Hello, World!",
        "approval": {"approved": True},
        "sub": {"child_greeting": "Hello, child-World!", "parent": iid},
    }
    got = out(st)
    if not parent_check:
        got["sub"]["parent"] = iid  # type: ignore[index]
    check(got == expected, f"1: output {got}")
    cst = c.get_orchestration_state(f"{iid}-child")
    check(status(cst) == "COMPLETED", "1: child COMPLETED")
    res = c.purge_orchestration(iid, recursive=True)
    check(res.deleted_instance_count >= 1, f"1: purge deleted {res.deleted_instance_count}")
    check(c.get_orchestration_state(iid) is None, "1: state is None after purge")
    print(f"1: main scenario took {time.monotonic() - started:.1f}s", flush=True)


def scenario_suspend(c, t) -> None:
    iid = c.schedule_new_orchestration(waiter, instance_id=uid("sus"))
    c.wait_for_orchestration_start(iid, timeout=t)
    c.suspend_orchestration(iid, reason="test")
    time.sleep(1)
    check(status(c.get_orchestration_state(iid)) == "SUSPENDED", "2: SUSPENDED")
    c.raise_orchestration_event(iid, "go", data=42)
    c.resume_orchestration(iid)
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "COMPLETED" and out(st) == 42, f"2: COMPLETED 42 ({status(st)} {out(st)})")


def scenario_terminate(c, t) -> None:
    iid = c.schedule_new_orchestration(waiter, instance_id=uid("term"))
    c.wait_for_orchestration_start(iid, timeout=t)
    c.terminate_orchestration(iid, output="stopped")
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "TERMINATED" and out(st) == "stopped", f"3: TERMINATED stopped ({status(st)} {out(st)})")


def scenario_continue_as_new(c, t) -> None:
    iid = c.schedule_new_orchestration(counter_loop, input=0, instance_id=uid("can"))
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "COMPLETED" and out(st) == 3, f"4: COMPLETED 3 ({status(st)} {out(st)})")


def scenario_failure(c, t) -> None:
    iid = c.schedule_new_orchestration(fails, instance_id=uid("fail"))
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "COMPLETED" and out(st) == "caught:builtins.ValueError", f"5: {status(st)} {out(st)}")


def scenario_entity(c, t) -> None:
    iid = c.schedule_new_orchestration(entity_user, instance_id=uid("ent"))
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "COMPLETED" and out(st) == 5, f"6: COMPLETED 5 ({status(st)} {out(st)})")
    meta = c.get_entity(EntityInstanceId("counter_entity", "c1"), include_state=True)
    check(meta is not None and meta.get_state(int) == 5, f"6: entity state 5 ({meta and meta.get_state()})")


def scenario_query(c, expected: int) -> None:
    states = c.get_all_orchestration_states()
    ids = [s.instance_id for s in states]
    check(not any(i.startswith("@") for i in ids), "7: no entities among orchestrations")
    check(len(ids) == expected, f"7: {expected} surviving orchestrations ({len(ids)}: {ids})")


def scenario_watchdog(host: str) -> None:
    counter = CountCalls()
    opts = GrpcWorkerResiliencyOptions(silent_disconnect_timeout_seconds=2, reconnect_backoff_base_seconds=0.2,
                                       reconnect_backoff_cap_seconds=1.0)
    w = new_worker(host, opts, interceptors=[counter])
    w.start()
    time.sleep(9)
    w.stop()
    hellos = counter.calls.get("Hello", 0)
    check(hellos == 1, f"9: one Hello + GetWorkItems in 9 s under a 2 s watchdog ({counter.calls})")


def scenario_no_worker(c) -> str:
    iid = c.schedule_new_orchestration(counter_loop, input=3, instance_id=uid("late"))
    try:
        c.wait_for_orchestration_start(iid, timeout=2)
    except TimeoutError:
        print("ok: 10: TimeoutError while PENDING", flush=True)
    else:
        raise AssertionError("10: wait_for_orchestration_start returned without a worker")
    check(status(c.get_orchestration_state(iid)) == "PENDING", "10: PENDING without a worker")
    return iid


def scenario_stream_drop(c, host: str, t: float) -> None:
    marker = Path(f"/tmp/dt-drop-{os.getpid()}")
    marker.unlink(missing_ok=True)
    env = dict(os.environ, DT_DROP_MARKER=str(marker))
    proc = subprocess.Popen([sys.executable, __file__, "--role", "drop-worker", "--host", host], env=env)
    try:
        iid = c.schedule_new_orchestration(drop_orch, instance_id=uid("drop"))
        deadline = time.monotonic() + t
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        check(marker.exists(), "11: the doomed worker started the activity")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    marker.unlink(missing_ok=True)
    token_file = Path(str(marker) + ".token")
    check(token_file.exists(), "11: the doomed worker's activity token was recorded")
    old_token = token_file.read_text()
    token_file.unlink()
    w = new_worker(host)
    w.start()
    try:
        st = c.wait_for_orchestration_completion(iid, timeout=t)
        check(status(st) == "COMPLETED" and out(st) == "done", f"11: re-dispatched and COMPLETED ({status(st)})")
    finally:
        w.stop()
    from durabletask.internal import orchestrator_service_pb2 as pb
    from durabletask.internal import orchestrator_service_pb2_grpc as stubs

    late = pb.ActivityResponse(instanceId=iid, taskId=1, completionToken=old_token)
    late.result.value = '"stale"'
    with grpc.insecure_channel(host) as channel:
        try:
            stubs.TaskHubSidecarServiceStub(channel).CompleteActivityTask(late, timeout=10)
        except grpc.RpcError as exc:
            check(exc.code() == grpc.StatusCode.NOT_FOUND, f"11: the old token is rejected ({exc.code()})")
        else:
            raise AssertionError("11: a completion with the dead worker's token was accepted")
    check(out(c.get_orchestration_state(iid)) == "done", "11: the stale completion changed nothing")


def scenario_ids(c, t) -> None:
    iid = c.schedule_new_orchestration(waiter, instance_id=uid("dup"))
    try:
        c.schedule_new_orchestration(waiter, instance_id=iid)
    except grpc.RpcError as exc:
        check(exc.code() == grpc.StatusCode.ALREADY_EXISTS, f"12: second start -> {exc.code()}")
    else:
        raise AssertionError("12: second start of a running id succeeded")
    check(c.get_orchestration_state("nope") is None, "12: unknown id -> None")
    c.terminate_orchestration(iid, output="cleanup")
    c.wait_for_orchestration_completion(iid, timeout=t)


def scenario_rewind_restart(c, t) -> None:
    iid = c.schedule_new_orchestration(rewindable, instance_id=uid("rew"))
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "FAILED", f"13: the first activity call fails the orchestration ({status(st)})")
    c.rewind_orchestration(iid, reason="retry")
    st = c.wait_for_orchestration_completion(iid, timeout=t)
    check(status(st) == "COMPLETED" and out(st) == "second time lucky", f"13: rewound -> {status(st)} {out(st)}")
    new_id = c.restart_orchestration(iid, restart_with_new_instance_id=True)
    st = c.wait_for_orchestration_completion(new_id, timeout=t)
    check(new_id != iid and status(st) == "COMPLETED", f"14: restarted as {new_id} -> {status(st)}")
    same = c.restart_orchestration(iid)
    st = c.wait_for_orchestration_completion(same, timeout=t)
    check(same == iid and status(st) == "COMPLETED", f"14: restarted in place -> {status(st)}")
    for i in (iid, new_id):
        c.purge_orchestration(i)


def scenario_filters(c, host: str, t: float) -> None:
    """A worker that sends workItemFilters (auto-generated: `filtered` + `say_hello` only) never gets
    a `waiter`; without filtering it would fail it as an unregistered orchestrator."""
    w = worker.TaskHubGrpcWorker(host_address=host, resiliency_options=FAST)
    w.add_orchestrator(filtered)
    w.add_activity(say_hello)
    w.use_work_item_filters()
    w.start()
    try:
        other = c.schedule_new_orchestration(waiter, instance_id=uid("unfiltered"))
        iid = c.schedule_new_orchestration(filtered, input="F", instance_id=uid("filt"))
        st = c.wait_for_orchestration_completion(iid, timeout=t)
        check(status(st) == "COMPLETED" and out(st) == "Hello, F!", f"15: filtered worker ran its own ({status(st)})")
        time.sleep(1)
        check(status(c.get_orchestration_state(other)) == "PENDING", "15: an unmatched orchestration stays PENDING")
    finally:
        w.stop()
    full = new_worker(host)
    full.start()
    try:
        c.raise_orchestration_event(other, "go", data=7)
        st = c.wait_for_orchestration_completion(other, timeout=t)
        check(status(st) == "COMPLETED" and out(st) == 7, f"15: an unfiltered worker completes it ({status(st)})")
    finally:
        full.stop()
    for i in (iid, other):
        c.purge_orchestration(i)


# ------------------------------------------------------------------ entry points

def run(args: argparse.Namespace) -> None:
    t = args.timeout
    c = client.TaskHubGrpcClient(host_address=args.host)
    late = scenario_no_worker(c) if args.extended else None
    w = new_worker(args.host)
    w.start()
    try:
        if late:
            st = c.wait_for_orchestration_completion(late, timeout=t)
            check(status(st) == "COMPLETED" and out(st) == 3, "10: a worker started later completes it")
        scenario_main(c, t, not args.no_parent_check)
        if args.extended:
            scenario_suspend(c, t)
            scenario_terminate(c, t)
            scenario_continue_as_new(c, t)
            scenario_failure(c, t)
            scenario_entity(c, t)
            scenario_query(c, 5 + (1 if late else 0))
            scenario_ids(c, t)
            scenario_rewind_restart(c, t)
    finally:
        w.stop()
    if args.extended:
        scenario_filters(c, args.host, t)
        scenario_watchdog(args.host)
        scenario_stream_drop(c, args.host, t)
    print("PASS", flush=True)


def phase(args: argparse.Namespace) -> None:
    """The restart test: `start` schedules `sleeper` and returns once its timer is armed;
    `finish` starts a worker and waits for the result."""
    c = client.TaskHubGrpcClient(host_address=args.host)
    if args.phase == "start":
        w = new_worker(args.host)
        w.start()
        try:
            c.schedule_new_orchestration(sleeper, instance_id=args.iid)
            st = c.wait_for_orchestration_start(args.iid, timeout=args.timeout)
            check(status(st) == "RUNNING", "restart: sleeper RUNNING, timer armed")
        finally:
            w.stop()
    else:
        w = new_worker(args.host)
        w.start()
        try:
            st = c.wait_for_orchestration_completion(args.iid, timeout=args.timeout)
            check(status(st) == "COMPLETED" and out(st) == "woke", f"restart: COMPLETED woke ({status(st)})")
        finally:
            w.stop()
    print("PASS", flush=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1:4001")
    p.add_argument("--extended", action="store_true")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--no-parent-check", action="store_true")
    p.add_argument("--role", default="driver")
    p.add_argument("--phase", choices=["start", "finish"])
    p.add_argument("--iid", default="")
    args = p.parse_args()
    if args.role == "drop-worker":
        w = new_worker(args.host, interceptors=[TapTokens()])
        w.start()
        time.sleep(600)
        return 0
    if args.phase:
        phase(args)
    else:
        run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
