"""The legacy CreateTask stream reader: the shape Core accepts, and clear refusals otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.armonik._pb import agent_common_pb2 as pb
from adapters.armonik._pb import objects_pb2
from adapters.armonik.legacy import read_stream
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


def read(msgs: list[Any]) -> Any:
    return asyncio.run(read_stream(_aiter(msgs)))


def test_two_tasks_with_chunked_payloads() -> None:
    req = read([init(priority=3), header(["a"]), chunk(b"he"), chunk(b"llo"), COMPLETE,
                header(["b"], ["a"]), COMPLETE, LAST])
    assert req.token == "tok" and req.task_options.priority == 3
    assert [(t.expected_output_keys, t.data_dependencies, bytes(t.payload)) for t in req.tasks] == [
        (["a"], [], b"hello"), (["b"], ["a"], b"")]


def test_no_tasks_and_no_options() -> None:
    req = read([init(), LAST])
    assert req.tasks == [] and req.task_options is None


@pytest.mark.parametrize(("msgs", "message"), [
    ([], "Empty request"),
    ([header(["a"])], "must start with init_request, got init_task.header"),
    ([init(), chunk(b"x")], "expected init_task.header or init_task.last_task, got task_payload.data"),
    ([init(), header(["a"]), chunk(b"x")], "stream ended after a payload chunk of task 0"),
    ([init(), header(["a"]), LAST], "task 0 of the CreateTask stream: expected payload chunks closed by "
                                    "task_payload.data_complete, got init_task.last_task"),
    ([init(), header(["a"]), COMPLETE], "stream ended after the payload of task 0"),
    ([init()], "stream ended after init_request"),
    ([init(), init()], "got init_request"),
])
def test_malformed_streams_are_invalid_argument(msgs: list[Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        read(msgs)
    assert message in str(info.value)
