"""An unmodified `armonik==3.29.4` Python worker whose tasks create subtasks the way a C# worker does:
through the deprecated streamed `Agent.CreateTask`, called with the SDK's own generated `AgentStub`
(the TaskHandler's agent client, on its agent channel) and the task's communication token.

The stream is written as ArmoniK.Api's C# `TaskHandler.CreateTasksAsync` writes it: an
`init_request{task_options}`, then per task a header, its payload cut into chunks of the
`data_chunk_max_size` the agent sent in the ProcessRequest, `data_complete`, and `last_task` after
the last task; the token on every message.

The payload is JSON `{"mode": ...}`; each mode writes the task's first expected output:
- `square{n}`: n*n + the sum of its dependencies; `sum`: the sum of its dependencies;
- `legacy{ns, variant}`: one `square{n}` subtask per n into a fresh result, and a `sum` of them into
  this task's output, all through CreateTask; `variant="error"` then answers `Output.error`;
- `malformed`: streams broken or refused CreateTasks and writes what the agent answered (JSON).
Each Process and each CreateTask reply is appended as a JSON line to `$WORKER_LOG`.
"""

from __future__ import annotations

import json
import os
import time

import grpc
from armonik.common import Output
from armonik.protogen.common.agent_common_pb2 import CreateTaskRequest
from armonik.protogen.common.objects_pb2 import DataChunk, InitTaskRequest, TaskOptions, TaskRequestHeader
from armonik.worker import TaskHandler, armonik_worker

LOG = os.environ.get("WORKER_LOG")
NAME = os.environ.get("WORKER_NAME", str(os.getpid()))
PAD = 2500  # payloads bigger than the test's data_chunk_max_size (1024): several chunks each
# The token of the previous Process of this worker: a finished token, for the `malformed` mode.
previous_token: str | None = None


def record(**fields: object) -> None:
    if LOG:
        with open(LOG, "a") as fh:
            fh.write(json.dumps({"worker": NAME, "t": time.time(), **fields}) + "\n")


def create_task_stream(token: str, tasks: list[tuple[list[str], list[str], bytes]], chunk: int,
                       options: TaskOptions | None = None) -> list[CreateTaskRequest]:
    """The messages of one CreateTask call, in the C# worker's order."""
    init = CreateTaskRequest.InitRequest()
    if options is not None:
        init.task_options.CopyFrom(options)
    msgs = [CreateTaskRequest(init_request=init, communication_token=token)]
    for outs, deps, payload in tasks:
        header = TaskRequestHeader(expected_output_keys=outs, data_dependencies=deps)
        msgs.append(CreateTaskRequest(init_task=InitTaskRequest(header=header), communication_token=token))
        msgs += [CreateTaskRequest(task_payload=DataChunk(data=payload[i:i + chunk]), communication_token=token)
                 for i in range(0, len(payload), chunk)]
        msgs.append(CreateTaskRequest(task_payload=DataChunk(data_complete=True), communication_token=token))
    msgs.append(CreateTaskRequest(init_task=InitTaskRequest(last_task=True), communication_token=token))
    return msgs


def body(**fields: object) -> bytes:
    return json.dumps({**fields, "pad": "x" * PAD}).encode()


def legacy(handler: TaskHandler, req: dict, out: str) -> Output:
    stub = handler._client  # the SDK's AgentStub on the TaskHandler's agent channel
    chunk = handler.configuration.data_chunk_max_size
    ns = req["ns"]
    mids = handler.create_results_metadata([f"mid{i}" for i in range(len(ns))])
    ids = [mids[f"mid{i}"].result_id for i in range(len(ns))]
    tasks = [([ids[i]], [], body(mode="square", n=n)) for i, n in enumerate(ns)]
    tasks.append(([out], ids, body(mode="sum")))
    options = TaskOptions(priority=3, options={"via": "CreateTask"})
    msgs = create_task_stream(handler.token, tasks, chunk, options)
    reply = stub.CreateTask(iter(msgs))
    infos = [s.task_info for s in reply.creation_status_list.creation_statuses]
    record(event="create_task", task=handler.task_id, session=handler.session_id, error=reply.error,
           messages=len(msgs), mids=ids,
           tasks=[{"id": i.task_id, "out": list(i.expected_output_keys), "deps": list(i.data_dependencies),
                   "payload": i.payload_id} for i in infos])
    if reply.error:
        return Output(error=f"CreateTask: {reply.error}")
    if req.get("variant") == "error":
        return Output(error="refused after CreateTask")
    return Output()


def attempt(stub: object, msgs: list[CreateTaskRequest]) -> dict:
    """One CreateTask call: the reply's error, or the status the agent answered."""
    try:
        reply = stub.CreateTask(iter(msgs))  # type: ignore[attr-defined]
    except grpc.RpcError as exc:
        return {"code": exc.code().name, "details": exc.details()}
    return {"code": "OK", "error": reply.error, "tasks": len(reply.creation_status_list.creation_statuses)}


def malformed(handler: TaskHandler, out: str) -> None:
    stub, token, chunk = handler._client, handler.token, handler.configuration.data_chunk_max_size
    good = create_task_stream(token, [([out], [], body(mode="square", n=1))], chunk)
    verdicts = {
        # a payload chunk where a task header belongs
        "chunk_before_header": attempt(stub, [good[0], good[2], *good[1:]]),
        # the stream stops without init_task.last_task
        "no_last_task": attempt(stub, good[:-1]),
        # a C# worker creating no task at all sends init_request alone
        "init_only": attempt(stub, good[:1]),
        # an expected output that is no result of the session
        "unknown_output": attempt(stub, create_task_stream(token, [(["no-such-result"], [], b"{}")], chunk)),
        # an init option out of range
        "bad_priority": attempt(stub, create_task_stream(token, [([out], [], b"{}")], chunk,
                                                         TaskOptions(priority=500))),
        "wrong_token": attempt(stub, create_task_stream("not-a-token", [([out], [], b"{}")], chunk)),
        "finished_token": attempt(stub, create_task_stream(previous_token or "", [([out], [], b"{}")], chunk)),
    }
    record(event="malformed", task=handler.task_id, session=handler.session_id, verdicts=verdicts)
    handler.send_results({out: json.dumps(verdicts).encode()})


@armonik_worker()
def processor(handler: TaskHandler) -> Output:
    global previous_token
    o = handler.task_options
    record(event="process", task=handler.task_id, session=handler.session_id, payload_id=handler.payload_id,
           outputs=list(handler.expected_results), deps=list(handler.data_dependencies),
           options={"priority": o.priority, "options": dict(o.options), "max_retries": o.max_retries,
                    "max_duration": o.max_duration.total_seconds()})
    try:
        req = json.loads(handler.payload)
        mode = req["mode"]
        out = handler.expected_results[0]
        deps = sum(int(v) for v in handler.data_dependencies.values())
        if mode == "square":
            handler.send_results({out: str(req["n"] ** 2 + deps).encode()})
        elif mode == "sum":
            handler.send_results({out: str(deps).encode()})
        elif mode == "legacy":
            return legacy(handler, req, out)
        elif mode == "malformed":
            malformed(handler, out)
        else:
            return Output(error=f"unknown mode {mode}")
        return Output()
    finally:
        previous_token = handler.token


if __name__ == "__main__":
    processor.run()
