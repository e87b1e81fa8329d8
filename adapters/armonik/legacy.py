"""The deprecated streamed `Agent.CreateTask` (C# workers), read into the modern agent calls.

The stream, as ArmoniK.Core reads it and the C# worker (`TaskHandler.CreateTasksAsync`) writes it:
one `init_request{task_options}` (options optional) carrying the communication token; then per task
an `init_task{header{expected_output_keys, data_dependencies}}`, its payload as `task_payload{data}`
chunks (none for an empty payload) closed by `task_payload{data_complete}`; then
`init_task{last_task}`. Core turns each task's payload into a new result of the session and submits
the tasks with the init options; the agent buffers exactly that, like CreateResults + SubmitTasks,
so the commit rule (applied on `ok` only) holds.

Reading is in two steps, as in Core: `read_init` takes the first message, so the agent checks the
token before any payload is read (a stale worker's stream is not buffered), then `read_tasks` the
rest. A stream out of order is INVALID_ARGUMENT naming what came where (Core answers UNKNOWN, or a
bare "Missing message in request" when the stream stops early).
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
class LegacyInit:
    """The stream's first message: the token to check, and (once checked) its options."""

    token: str
    message: Any

    def task_options(self) -> Any | None:
        """The wire TaskOptions of `init_request`, None when absent; INVALID_ARGUMENT if the
        first message is not an `init_request`."""
        if self.message.WhichOneof("type") != "init_request":
            raise InvalidArgument(f"CreateTask stream must start with init_request, got {_kind(self.message)}")
        init = self.message.init_request
        return init.task_options if init.HasField("task_options") else None


def _kind(msg: Any) -> str:
    """A name for what a message is, for the error text."""
    which = msg.WhichOneof("type")
    if which == "init_task":
        return f"init_task.{msg.init_task.WhichOneof('type')}"
    if which == "task_payload":
        return f"task_payload.{msg.task_payload.WhichOneof('type')}"
    return str(which)


async def read_init(it: AsyncIterator[Any]) -> LegacyInit:
    """The first message of the stream (`it` is an async iterator, consumed one message)."""
    try:
        first = await it.__anext__()
    except StopAsyncIteration:
        raise InvalidArgument("Empty request: the CreateTask stream had no message") from None
    return LegacyInit(first.communication_token, first)


async def read_tasks(it: AsyncIterator[Any]) -> list[LegacyTask]:
    """The rest of the stream, after `read_init`, up to and including `init_task.last_task`."""

    async def nxt(after: str) -> Any:
        try:
            return await it.__anext__()
        except StopAsyncIteration:
            raise InvalidArgument(f"CreateTask stream ended after {after}: expected init_task.last_task") from None

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
    return tasks
