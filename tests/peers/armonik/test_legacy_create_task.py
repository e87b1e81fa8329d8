"""The deprecated streamed `Agent.CreateTask`, with the real `armonik==3.29.4` SDK on both sides.

One gateway supervises one unmodified SDK worker (worker_legacy.py) that streams CreateTask through
the SDK's own AgentStub as a C# worker would, with a small `data_chunk_max_size` so every payload
crosses in several chunks; the real client (client_legacy.py) submits the parent and checks outputs.
One worker keeps the order of Process calls fixed (the `malformed` scenario reuses a finished token).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.armonik.conftest import ArmoniKGateway
from tests.peers.harness import GatewayProcess, PeerEnv, run_peer

HERE = Path(__file__).parent
pytestmark = pytest.mark.xdist_group("armonik")


def write_config(path: Path, env: PeerEnv, run_dir: Path, data_dir: Path, worker_log: Path) -> None:
    command = json.dumps([str(env.python), str(HERE / "worker_legacy.py")])
    path.write_text(f"""
[scheduler]
policy = "priority"
poll_interval_seconds = 0.2

[adapters.armonik]
enabled = true
shared_folder = "{data_dir / 'shared'}"
agent_socket = "{run_dir / 'agent.sock'}"
data_chunk_max_size = 1024

[[adapters.armonik.workers]]
address = "{run_dir / 'w{n}.sock'}"
partition = "default"
count = 1
command = {command}
env = {{ WORKER_LOG = "{worker_log}", WORKER_NAME = "legacy{{n}}" }}
""")


@pytest.fixture(scope="module")
def legacy_gateway(armonik_env: PeerEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmoniKGateway]:
    tmp = tmp_path_factory.mktemp("armonik-legacy")
    # Unix socket paths must stay short (~107 bytes): keep them out of pytest's deep tmp dirs.
    run_dir = Path(tempfile.mkdtemp(prefix="akl-", dir="/tmp"))
    worker_log = tmp / "worker.jsonl"
    worker_log.touch()
    config = tmp / "gateway.toml"
    write_config(config, armonik_env, run_dir, tmp, worker_log)
    gw = GatewayProcess(tmp / "gw", backend="sqlite", probe=False, config_file=config)
    gw.start()
    try:
        yield ArmoniKGateway(gw, run_dir, worker_log)
    finally:
        gw.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def scenario(env: PeerEnv, ak: ArmoniKGateway, name: str) -> dict:
    result = run_peer(env, [HERE / "client_legacy.py", "--target", ak.target, "--worker-log", str(ak.worker_log),
                            "--scenario", name], gateway=ak.gw, timeout=60, name=f"armonik-legacy-{name}")
    lines = result.output.splitlines()
    assert lines[-1] == "PASS", result.output
    [res] = [json.loads(line.removeprefix("RESULT ")) for line in lines if line.startswith("RESULT ")]
    return res


def test_subtasks_streamed_through_create_task_compute_the_result(
        armonik_env: PeerEnv, legacy_gateway: ArmoniKGateway) -> None:
    res = scenario(armonik_env, legacy_gateway, "ok")
    # 1 init + 4 x (header, 3 chunks of a ~2.5 KB payload, data_complete) + last_task
    assert res == {"value": "29", "subtasks": 4, "messages": 1 + 4 * 5 + 1}


def test_an_error_after_create_task_discards_everything_streamed(
        armonik_env: PeerEnv, legacy_gateway: ArmoniKGateway) -> None:
    res = scenario(armonik_env, legacy_gateway, "error")
    # the session keeps only the client's payload and output
    assert res == {"tasks_missing": True, "results_missing": True, "results": 2}


def test_malformed_and_refused_streams_reach_the_worker_as_clear_answers(
        armonik_env: PeerEnv, legacy_gateway: ArmoniKGateway) -> None:
    v = scenario(armonik_env, legacy_gateway, "malformed")
    invalid = {k: v[k]["code"] for k in ("chunk_before_header", "no_last_task", "init_only", "bad_priority")}
    assert invalid == dict.fromkeys(invalid, "INVALID_ARGUMENT"), v
    assert "got task_payload.data" in v["chunk_before_header"]["details"]
    assert "expected init_task.last_task" in v["no_last_task"]["details"]
    assert "ended after init_request" in v["init_only"]["details"]
    assert "priority" in v["bad_priority"]["details"]
    assert v["unknown_output"]["code"] == "NOT_FOUND" and "no-such-result" in v["unknown_output"]["details"]
    # Token problems are answered in the reply, as ArmoniK.Core does.
    assert v["wrong_token"] == {"code": "OK", "error": "Wrong communication token", "tasks": 0}
    assert v["finished_token"] == {"code": "OK", "error": "No task is accepting request", "tasks": 0}
