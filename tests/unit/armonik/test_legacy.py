"""The legacy CreateTask stream reader: the shape Core accepts, and clear refusals otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.armonik._pb import agent_common_pb2 as pb
from adapters.armonik._pb import objects_pb2
from adapters.armonik.legacy import read_init, read_tasks
from gateway.errors import InvalidArgument

Req = pb.CreateTaskRequest


def init(token: str = "tok", priority: int | None = None) -> Any:
    opts = objects_pb2.TaskOptions(priority=priority) if priority is not None else None
    return Req(init_request=Req.InitRequest(task_options=opts), communication_token=token)


def header(outs: list[str], deps: list[str] | None = None) -> Any:
    h = objects_pb2.TaskRequestHeader(expected_output_keys=outs, data_dependencies=deps or [])
    return Req(init_task=objects_pb2.InitTaskRequest(header=h))


def chunk(data: bytes) -> Any:
    return Req(task_payload=objects_pb2.DataChunk(data=data))


COMPLETE = Req(task_payload=objects_pb2.DataChunk(data_complete=True))
LAST = Req(init_task=objects_pb2.InitTaskRequest(last_task=True))


async def _aiter(msgs: list[Any]) -> AsyncIterator[Any]:
    for m in msgs:
        yield m


async def _read(msgs: list[Any]) -> tuple[str, Any, list[Any]]:
    it = _aiter(msgs)
    first = await read_init(it)
    options = first.task_options()
    return first.token, options, await read_tasks(it)


def read(msgs: list[Any]) -> tuple[str, Any, list[Any]]:
    """The whole stream as the agent reads it: token, options, then the tasks."""
    return asyncio.run(_read(msgs))


def test_two_tasks_with_chunked_payloads() -> None:
    token, options, tasks = read([init(priority=3), header(["a"]), chunk(b"he"), chunk(b"llo"), COMPLETE,
                                  header(["b"], ["a"]), COMPLETE, LAST])
    assert token == "tok" and options.priority == 3
    assert [(t.expected_output_keys, t.data_dependencies, bytes(t.payload)) for t in tasks] == [
        (["a"], [], b"hello"), (["b"], ["a"], b"")]


def test_no_tasks_and_no_options() -> None:
    token, options, tasks = read([init(), LAST])
    assert token == "tok" and tasks == [] and options is None


def test_the_token_is_read_before_the_rest_of_the_stream() -> None:
    """Only the first message is consumed by read_init: the agent can refuse a token unread."""

    async def run() -> tuple[str, list[str]]:
        taken: list[str] = []

        async def stream() -> AsyncIterator[Any]:
            for m in [init("t1"), header(["a"]), COMPLETE, LAST]:
                taken.append(m.WhichOneof("type"))
                yield m

        first = await read_init(stream())
        return first.token, taken

    assert asyncio.run(run()) == ("t1", ["init_request"])


@pytest.mark.parametrize(("msgs", "message"), [
    ([], "Empty request"),
    ([header(["a"])], "must start with init_request, got init_task.header"),
    ([chunk(b"x")], "must start with init_request, got task_payload.data"),
    ([init(), chunk(b"x")], "expected init_task.header or init_task.last_task, got task_payload.data"),
    ([init(), COMPLETE], "expected init_task.header or init_task.last_task, got task_payload.data_complete"),
    ([init(), header(["a"]), chunk(b"x")], "stream ended after a payload chunk of task 0"),
    ([init(), header(["a"]), LAST], "task 0 of the CreateTask stream: expected payload chunks closed by "
                                    "task_payload.data_complete, got init_task.last_task"),
    ([init(), header(["a"]), header(["b"])], "task 0 of the CreateTask stream: expected payload chunks"),
    ([init(), header(["a"]), COMPLETE], "stream ended after the payload of task 0"),
    ([init(), header(["a"]), COMPLETE, header(["b"])], "stream ended after the header of task 1"),
    ([init()], "stream ended after init_request"),
    ([init(), init()], "got init_request"),
    ([init(), Req(init_task=objects_pb2.InitTaskRequest(last_task=False))], "got init_task.last_task"),
])
def test_malformed_streams_are_invalid_argument(msgs: list[Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        read(msgs)
    assert message in str(info.value)
