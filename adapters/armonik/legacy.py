"""The deprecated streamed `Agent.CreateTask` (C# workers), read into the modern agent calls.

The stream, as ArmoniK.Core reads it: one `init_request{task_options}` carrying the communication
token; then per task an `init_task{header{expected_output_keys, data_dependencies}}`, its payload as
`task_payload{data}` chunks closed by `task_payload{data_complete}`; then `init_task{last_task}`.
Core turns each task's payload into a new result of the session and submits the tasks with the
init options: `read_stream` gives exactly that shape (`LegacyTask`s plus options), and the agent
buffers it like CreateResults + SubmitTasks, so the commit rule (applied on `ok` only) holds.

Token problems are answered in the reply's `error` field, as Core does; a stream out of order is
INVALID_ARGUMENT naming what came where.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import InvalidArgument


@dataclass
class LegacyTask:
    """One task of the stream: its header and its whole payload."""

    expected_output_keys: list[str]
    data_dependencies: list[str]
    payload: bytearray = field(default_factory=bytearray)


@dataclass
class LegacyRequest:
    token: str
    task_options: Any | None  # the wire TaskOptions of init_request, if it had any
    tasks: list[LegacyTask]


def _kind(msg: Any) -> str:
    """A name for what a message is, for the error text."""
    which = msg.WhichOneof("type")
    if which == "init_task":
        return f"init_task.{msg.init_task.WhichOneof('type')}"
    if which == "task_payload":
        return f"task_payload.{msg.task_payload.WhichOneof('type')}"
    return str(which)


async def read_stream(stream: AsyncIterator[Any]) -> LegacyRequest:
    """Read a whole CreateTask stream; InvalidArgument if it is empty or out of order."""
    it = stream.__aiter__()

    async def nxt(after: str) -> Any:
        try:
            return await it.__anext__()
        except StopAsyncIteration:
            raise InvalidArgument(f"CreateTask stream ended after {after}: expected init_task.last_task") from None

    try:
        first = await it.__anext__()
    except StopAsyncIteration:
        raise InvalidArgument("Empty request") from None
    if first.WhichOneof("type") != "init_request":
        raise InvalidArgument(f"CreateTask stream must start with init_request, got {_kind(first)}")
    opts = first.init_request.task_options if first.init_request.HasField("task_options") else None
    tasks: list[LegacyTask] = []
    msg = await nxt("init_request")
    while _kind(msg) == "init_task.header":
        h = msg.init_task.header
        task = LegacyTask(list(h.expected_output_keys), list(h.data_dependencies))
        msg = await nxt(f"the header of task {len(tasks)}")
        while _kind(msg) == "task_payload.data":
            task.payload += msg.task_payload.data
            msg = await nxt(f"a payload chunk of task {len(tasks)}")
        if _kind(msg) != "task_payload.data_complete":
            raise InvalidArgument(
                f"task {len(tasks)} of the CreateTask stream: expected payload chunks closed by "
                f"task_payload.data_complete, got {_kind(msg)}"
            )
        tasks.append(task)
        msg = await nxt(f"the payload of task {len(tasks) - 1}")
    if _kind(msg) != "init_task.last_task" or not msg.init_task.last_task:
        raise InvalidArgument(f"CreateTask stream: expected init_task.header or init_task.last_task, got {_kind(msg)}")
    return LegacyRequest(first.communication_token, opts, tasks)
