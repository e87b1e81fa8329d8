"""The acceptance-scenario worker: an unmodified `armonik==3.29.4` Python worker.

The payload is JSON `{"mode": ..., ...}`; every mode writes the task's first expected output. Each
Process and each Agent call the SDK makes is appended as a JSON line to `$WORKER_LOG` (the agent
stub is wrapped for that; the SDK itself is untouched), so tests can check call sequences.
"""

from __future__ import annotations

import json
import os
import sys
import time

from armonik.common import Output, TaskDefinition
from armonik.worker import TaskHandler, armonik_worker

LOG = os.environ.get("WORKER_LOG")
NAME = os.environ.get("WORKER_NAME", str(os.getpid()))


def record(**fields: object) -> None:
    if LOG:
        with open(LOG, "a") as fh:
            fh.write(json.dumps({"worker": NAME, "t": time.time(), **fields}) + "\n")


class Recorder:
    """Wraps the agent stub: records the rpc name and what it carried, then calls through."""

    def __init__(self, stub: object, task_id: str) -> None:
        self._stub = stub
        self._task = task_id

    def __getattr__(self, rpc: str):
        fn = getattr(self._stub, rpc)

        def call(request, *args, **kwargs):
            info: dict[str, object] = {}
            if rpc in ("CreateResults", "CreateResultsMetaData"):
                info["names"] = [r.name for r in request.results]
            elif rpc == "NotifyResultData":
                info["ids"] = [i.result_id for i in request.ids]
            elif rpc == "SubmitTasks":
                info["tasks"] = [
                    {"payload": c.payload_id, "deps": list(c.data_dependencies),
                     "out": list(c.expected_output_keys)} for c in request.task_creations
                ]
            elif rpc == "GetResourceData":
                info["id"] = request.result_id
            record(event="agent", rpc=rpc, task=self._task, **info)
            return fn(request, *args, **kwargs)

        return call


@armonik_worker()
def processor(handler: TaskHandler) -> Output:
    o = handler.task_options
    record(event="process", task=handler.task_id, session=handler.session_id, pid=os.getpid(),
           folder=sorted(os.listdir(handler.data_folder)), payload_id=handler.payload_id,
           deps=list(handler.data_dependencies), outputs=list(handler.expected_results),
           options={"max_duration": o.max_duration.total_seconds(), "max_retries": o.max_retries,
                    "priority": o.priority, "partition_id": o.partition_id})
    handler._client = Recorder(handler._client, handler.task_id)  # type: ignore[assignment]
    req = json.loads(handler.payload)
    mode = req["mode"]
    out = handler.expected_results[0]
    deps = sum(int(v) for v in handler.data_dependencies.values())
    if mode == "square":
        time.sleep(req.get("sleep", 0))
        handler.send_results({out: str(req["n"] ** 2 + deps).encode()})
    elif mode == "sum":
        handler.send_results({out: str(deps).encode()})
    elif mode == "delegate":
        sub = handler.create_results({"sub-payload": json.dumps({"mode": "square", "n": req["n"] + 1}).encode()})
        handler.submit_tasks([TaskDefinition(payload_id=sub["sub-payload"].result_id, expected_output_ids=[out])])
    elif mode == "fanout":
        mids = handler.create_results_metadata(["mid-a", "mid-b"])
        payloads = handler.create_results({
            "pa": json.dumps({"mode": "square", "n": 2}).encode(),
            "pb": json.dumps({"mode": "square", "n": 3}).encode(),
            "ps": json.dumps({"mode": "sum"}).encode(),
        }, batch_size=3)
        a, b = mids["mid-a"].result_id, mids["mid-b"].result_id
        handler.submit_tasks([
            TaskDefinition(payload_id=payloads["ps"].result_id, expected_output_ids=[out], data_dependencies=[a, b]),
            TaskDefinition(payload_id=payloads["pa"].result_id, expected_output_ids=[a]),
            TaskDefinition(payload_id=payloads["pb"].result_id, expected_output_ids=[b]),
        ])
    elif mode == "resource":
        handler.send_results({out: b"resource:" + handler.get_resource_data(req["rid"])})
    elif mode == "fail":
        return Output(error="worker said no")
    elif mode == "raise":
        raise RuntimeError("user code raised")
    elif mode == "sleep":
        time.sleep(req["s"])
        try:
            handler.send_results({out: b"slept"})
        except Exception as exc:  # after a timeout the folder is gone: log it like the SDK would
            print(f"late send_results failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            record(event="late", task=handler.task_id, error=type(exc).__name__)
            raise
    elif mode == "token":
        # Token misuse: a made-up token must be refused with INVALID_ARGUMENT.
        import grpc
        from armonik.protogen.common.agent_common_pb2 import CreateResultsMetaDataRequest

        stub = handler._client._stub  # type: ignore[attr-defined]
        try:
            stub.CreateResultsMetaData(CreateResultsMetaDataRequest(
                results=[CreateResultsMetaDataRequest.ResultCreate(name="x")], session_id=handler.session_id,
                communication_token="not-a-token"))
            verdict = "accepted"
        except grpc.RpcError as exc:
            verdict = exc.code().name
        try:
            stub.CreateResultsMetaData(CreateResultsMetaDataRequest(
                results=[CreateResultsMetaDataRequest.ResultCreate(name="x")], session_id="other-session",
                communication_token=handler.token))
            other = "accepted"
        except grpc.RpcError as exc:
            other = exc.code().name
        record(event="token", task=handler.task_id, bad=verdict, other_session=other, token=handler.token)
        handler.send_results({out: f"{verdict},{other}".encode()})
    elif mode == "legacy":
        return legacy(handler, req, out)
    elif mode == "fan":
        # n subtasks square{i} and one `sum` depending on all their outputs (bench/armonik.py)
        n = req["n"]
        mids = handler.create_results_metadata([f"m{i}" for i in range(n)])
        payloads = handler.create_results(
            {f"p{i}": json.dumps({"mode": "square", "n": i}).encode() for i in range(n)} |
            {"ps": json.dumps({"mode": "sum"}).encode()}, batch_size=100)
        ids = [mids[f"m{i}"].result_id for i in range(n)]
        handler.submit_tasks(
            [TaskDefinition(payload_id=payloads[f"p{i}"].result_id, expected_output_ids=[ids[i]]) for i in range(n)]
            + [TaskDefinition(payload_id=payloads["ps"].result_id, expected_output_ids=[out], data_dependencies=ids)])
    elif mode == "nop":
        return Output()
    elif mode == "noop":
        handler.send_results({out: b""})
    else:
        return Output(error=f"unknown mode {mode}")
    return Output()


def create_task_stream(token: str, tasks: list[tuple[list[str], list[str], bytes]]) -> list:
    """The legacy CreateTask stream as a C# worker sends it: options, then per task a header and
    payload chunks (two per task here) closed by data_complete, then last_task."""
    from armonik.protogen.common.agent_common_pb2 import CreateTaskRequest
    from armonik.protogen.common.objects_pb2 import DataChunk, InitTaskRequest, TaskRequestHeader

    msgs = [CreateTaskRequest(init_request=CreateTaskRequest.InitRequest(), communication_token=token)]
    for outs, deps, payload in tasks:
        header = TaskRequestHeader(expected_output_keys=outs, data_dependencies=deps)
        msgs.append(CreateTaskRequest(init_task=InitTaskRequest(header=header), communication_token=token))
        half = len(payload) // 2
        for chunk in (payload[:half], payload[half:]):
            msgs.append(CreateTaskRequest(task_payload=DataChunk(data=chunk), communication_token=token))
        msgs.append(CreateTaskRequest(task_payload=DataChunk(data_complete=True), communication_token=token))
    msgs.append(CreateTaskRequest(init_task=InitTaskRequest(last_task=True), communication_token=token))
    return msgs


def legacy(handler: TaskHandler, req: dict, out: str) -> Output:
    """Subtasks through the deprecated streamed Agent.CreateTask, with the SDK's own AgentStub."""
    import grpc

    stub = handler._client._stub  # type: ignore[attr-defined]
    variant = req["variant"]
    if variant == "malformed":
        from armonik.protogen.common.agent_common_pb2 import CreateTaskRequest
        from armonik.protogen.common.objects_pb2 import DataChunk

        token = handler.token
        bad = [CreateTaskRequest(init_request=CreateTaskRequest.InitRequest(), communication_token=token),
               CreateTaskRequest(task_payload=DataChunk(data=b"x"), communication_token=token)]
        try:
            stub.CreateTask(iter(bad))
            code = "accepted"
        except grpc.RpcError as exc:
            code = exc.code().name
        reply = stub.CreateTask(iter(create_task_stream("not-a-token", [([], [], b"{}")])))
        handler.send_results({out: f"{code},{reply.error}".encode()})
        return Output()
    mids = handler.create_results_metadata(["mid-a", "mid-b"])
    a, b = mids["mid-a"].result_id, mids["mid-b"].result_id
    reply = stub.CreateTask(iter(create_task_stream(handler.token, [
        ([a], [], json.dumps({"mode": "square", "n": 2}).encode()),
        ([b], [], json.dumps({"mode": "square", "n": 3}).encode()),
        ([out], [a, b], json.dumps({"mode": "sum"}).encode()),
    ])))
    infos = [s.task_info for s in reply.creation_status_list.creation_statuses]
    record(event="create_task", task=handler.task_id, error=reply.error,
           tasks=[{"id": i.task_id, "out": list(i.expected_output_keys), "deps": list(i.data_dependencies),
                   "payload": i.payload_id} for i in infos])
    if variant == "error":
        return Output(error="legacy refused")
    return Output()


if __name__ == "__main__":
    processor.run()
