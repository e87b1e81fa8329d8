"""`Agent.CreateTask` over a real in-process gRPC server (unix socket): replies, statuses, buffering.

The agent runs on CoreScheduler + MemoryStorage; the client is the generated aio stub, so statuses
and replies are what a worker sees. The commit itself is `graph.task_ok` (tested in test_graph.py);
here it is applied once to show the streamed tasks and payloads land as SubmitTasks' would.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from adapters.armonik import graph
from adapters.armonik._pb import agent_common_pb2 as pb
from adapters.armonik._pb import agent_service_pb2_grpc, objects_pb2
from adapters.armonik.agent import AgentCall, AgentServicer, Tokens
from adapters.armonik.records import Options, ResultStatus, SessionMeta, TaskStatus
from adapters.armonik.store import Store, Tx, queue_name
from gateway.clock import SystemClock
from gateway.notifier import LocalNotifier
from gateway.scheduler import CoreScheduler
from gateway.storage.memory import MemoryStorage

OPTS = Options(max_duration=10, max_retries=1, priority=1, partition_id="default")
Req = pb.CreateTaskRequest


@dataclass
class Env:
    store: Store
    sched: CoreScheduler
    tokens: Tokens
    stub: Any
    call: AgentCall  # the live Process: token "tok", its parent task and buffer
    out: str  # a CREATED result of the session the parent owns
    dep: str  # a COMPLETED result of the session


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    sched = CoreScheduler(MemoryStorage(), SystemClock(), LocalNotifier(), poll_interval=0.02)
    store = Store(sched)
    await store.create_session(SessionMeta(id="s1", partition_ids=["default"], options=OPTS, created_at=1.0))
    s = store.session("s1")

    def setup(tx: Tx) -> tuple[str, str, str]:
        payload = graph.create_result(tx, "payload", data=b"{}").id
        out = graph.create_result(tx, "out").id
        dep = graph.create_result(tx, "dep", data=b"7").id
        parent = graph.create_task(tx, graph.NewTask(OPTS.copy(), payload, [], [out])).id
        return parent, out, dep

    parent, out, dep = await store.change(s, setup)
    tokens = Tokens()
    # Unix socket paths must stay under ~107 bytes: not in pytest's deep tmp dirs.
    run_dir = Path(tempfile.mkdtemp(prefix="akl-", dir="/tmp"))
    call = AgentCall("tok", s, parent, str(run_dir))
    tokens.open(call)
    server = grpc.aio.server()
    agent_service_pb2_grpc.add_AgentServicer_to_server(AgentServicer(store, tokens), server)  # type: ignore[no-untyped-call]
    server.add_insecure_port(f"unix:{run_dir / 'agent.sock'}")
    await server.start()
    channel = grpc.aio.insecure_channel(f"unix:{run_dir / 'agent.sock'}")
    try:
        yield Env(store, sched, tokens, agent_service_pb2_grpc.AgentStub(channel), call, out, dep)  # type: ignore[no-untyped-call]
    finally:
        await channel.close()
        await server.stop(None)
        shutil.rmtree(run_dir, ignore_errors=True)


def stream(tasks: list[tuple[list[str], list[str], bytes]], token: str = "tok",
           options: objects_pb2.TaskOptions | None = None, chunk: int = 3) -> list[Any]:
    """The stream as the C# worker writes it (TaskRequestExtensions.ToRequestStream)."""
    msgs = [Req(init_request=Req.InitRequest(task_options=options), communication_token=token)]
    for outs, deps, payload in tasks:
        header = objects_pb2.TaskRequestHeader(expected_output_keys=outs, data_dependencies=deps)
        msgs.append(Req(init_task=objects_pb2.InitTaskRequest(header=header), communication_token=token))
        msgs += [Req(task_payload=objects_pb2.DataChunk(data=payload[i:i + chunk]), communication_token=token)
                 for i in range(0, len(payload), chunk)]
        msgs.append(Req(task_payload=objects_pb2.DataChunk(data_complete=True), communication_token=token))
    msgs.append(Req(init_task=objects_pb2.InitTaskRequest(last_task=True), communication_token=token))
    return msgs


async def send(env: Env, msgs: list[Any], before: Callable[[int], None] | None = None) -> Any:
    async def gen() -> AsyncIterator[Any]:
        for i, m in enumerate(msgs):
            if before is not None:
                before(i)
            yield m

    return await env.stub.CreateTask(gen())


def snapshot(call: AgentCall) -> tuple[int, int]:
    return len(call.buffer.results), len(call.buffer.tasks)


async def test_tasks_are_buffered_with_their_payloads_and_applied_on_ok(env: Env) -> None:
    mid = graph.new_id()
    env.call.buffer.results.append((mid, "mid", None))  # as CreateResultsMetaData earlier in this Process
    reply = await send(env, stream([([mid], [env.dep], b"square"), ([env.out], [mid], b"")],
                                   options=objects_pb2.TaskOptions(priority=7, options={"k": "v"})))
    assert reply.WhichOneof("Response") == "creation_status_list" and reply.communication_token == "tok"
    infos = [st.task_info for st in reply.creation_status_list.creation_statuses]
    assert [(list(i.expected_output_keys), list(i.data_dependencies)) for i in infos] == [
        ([mid], [env.dep]), ([env.out], [mid])]
    payloads = {i.payload_id for i in infos}
    assert len(payloads) == 2 and all(i.task_id for i in infos)
    # Buffered only: nothing is visible in the session before the worker answers ok.
    s = env.store.session("s1")
    assert not payloads & set(s.results) and not {i.task_id for i in infos} & set(s.tasks)
    assert [(rid, name, data) for rid, name, data in env.call.buffer.results[1:]] == [
        (infos[0].payload_id, "", b"square"), (infos[1].payload_id, "", b"")]
    specs = env.call.buffer.tasks
    assert [sp.options.priority for sp in specs] == [7, 7] and specs[0].options.options == {"k": "v"}
    assert specs[0].options.max_duration == OPTS.max_duration  # the session's defaults under the init options

    [job] = await env.sched.activate([queue_name("default")], "test", 10, 0.05)
    await env.store.change(s, lambda tx: graph.task_ok(tx, env.call.task_id, job.ref, env.call.buffer, {}))
    first, second = (s.tasks[i.task_id] for i in infos)
    assert s.results[infos[0].payload_id].status is ResultStatus.COMPLETED
    assert s.results[infos[1].payload_id].status is ResultStatus.COMPLETED
    assert first.parent_task_ids == [env.call.task_id] and first.status is TaskStatus.SUBMITTED
    assert s.results[mid].owner_task_id == first.id
    assert s.results[env.out].owner_task_id == second.id and second.status is TaskStatus.PENDING  # waits on mid


async def test_token_problems_are_answered_in_the_reply_as_core_does(env: Env) -> None:
    ok = stream([([env.out], [], b"x")])
    reply = await send(env, stream([([env.out], [], b"x")], token="not-a-token"))
    assert (reply.error, reply.communication_token) == ("Wrong communication token", "not-a-token")
    reply = await send(env, stream([([env.out], [], b"x")], token=""))
    assert reply.error == "Missing communication token"
    # The token is judged on the first message: a wrong token's malformed tail is never read.
    reply = await send(env, [Req(init_request=Req.InitRequest(), communication_token="nope"),
                             Req(task_payload=objects_pb2.DataChunk(data=b"x"))])
    assert reply.error == "Wrong communication token"
    env.tokens.close("tok")
    reply = await send(env, ok)
    assert reply.error == "No task is accepting request" and reply.WhichOneof("Response") == "error"
    assert snapshot(env.call) == (0, 0)


async def test_a_process_ending_during_the_stream_buffers_nothing(env: Env) -> None:
    msgs = stream([([env.out], [], b"payload")])
    reply = await send(env, msgs, before=lambda i: env.tokens.close("tok") if i == len(msgs) - 1 else None)
    assert reply.error == "No task is accepting request"
    assert snapshot(env.call) == (0, 0)


@pytest.mark.parametrize(("msgs", "code", "detail"), [
    (lambda e: stream([([e.out], [], b"x")])[:-1], grpc.StatusCode.INVALID_ARGUMENT,
     "ended after the payload of task 0: expected init_task.last_task"),
    (lambda e: [stream([])[0], Req(task_payload=objects_pb2.DataChunk(data=b"x"), communication_token="tok")],
     grpc.StatusCode.INVALID_ARGUMENT, "got task_payload.data"),
    (lambda e: [Req(init_task=objects_pb2.InitTaskRequest(last_task=True), communication_token="tok")],
     grpc.StatusCode.INVALID_ARGUMENT, "must start with init_request"),
    (lambda e: [], grpc.StatusCode.INVALID_ARGUMENT, "Empty request"),
    (lambda e: stream([([e.out], [], b"x"), (["no-such-result"], [], b"y")]), grpc.StatusCode.NOT_FOUND,
     "no-such-result"),
    (lambda e: stream([([e.out], ["no-such-dep"], b"x")]), grpc.StatusCode.NOT_FOUND, "no-such-dep"),
    (lambda e: stream([([e.out], [], b"x")], options=objects_pb2.TaskOptions(priority=200)),
     grpc.StatusCode.INVALID_ARGUMENT, "priority"),
    (lambda e: stream([([e.out], [], b"x")], options=objects_pb2.TaskOptions(partition_id="elsewhere")),
     grpc.StatusCode.INVALID_ARGUMENT, "partition"),
])
async def test_refused_streams_get_a_status_and_leave_the_buffer_as_it_was(
        env: Env, msgs: Callable[[Env], list[Any]], code: grpc.StatusCode, detail: str) -> None:
    env.call.buffer.results.append(("earlier", "earlier", b"1"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await send(env, msgs(env))
    assert info.value.code() == code and detail in (info.value.details() or ""), info.value
    assert snapshot(env.call) == (1, 0)
    # The token is still live: a good stream afterwards goes through.
    reply = await send(env, stream([([env.out], [], b"x")]))
    assert len(reply.creation_status_list.creation_statuses) == 1 and snapshot(env.call) == (2, 1)


async def test_worker_submission_closed_is_failed_precondition(env: Env) -> None:
    s = env.store.session("s1")
    s.meta.worker_submission = False
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await send(env, stream([([env.out], [], b"x")]))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert snapshot(env.call) == (0, 0)
