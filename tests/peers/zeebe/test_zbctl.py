"""Brief scenario 8 (and zbctl's other commands) with the zbctl 8.4 CLI from npm (`zbctl@8.4.1`)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, PeerProcess, PeerResult, run_peer
from tests.peers.zeebe import processes
from tests.peers.zeebe.envs import zbctl

ZEEBE_ON = {"GATEWAY_ADAPTERS__ZEEBE__ENABLED": "true"}

pytestmark = pytest.mark.xdist_group("zeebe")


@pytest.fixture(scope="session")
def zb_env() -> PeerEnv:
    return zbctl()


class Cli:
    def __init__(self, env: PeerEnv, gw: GatewayProcess) -> None:
        # The binary directly: the JS wrapper checks npm for updates.
        self.argv = [str(env.node_modules / "zbctl" / "bin" / "zbctl-cli.linux"), "--insecure",
                     "--address", gw.grpc_target]
        self.gw = gw

    def __call__(self, *args: str, check: bool = True) -> PeerResult:
        return run_peer(None, [*self.argv, *args], gateway=self.gw, timeout=30, check=check,
                        name=f"zbctl-{args[0]}")

    def json(self, *args: str) -> Any:
        out = self(*args).output
        return json.loads(out[out.index("{"):])


def _inspect(gw: GatewayProcess, key: int) -> Any:
    with urllib.request.urlopen(f"{gw.admin_url}/zeebe/instances/{key}", timeout=5) as resp:
        return json.loads(resp.read())


def test_zbctl(zb_env: PeerEnv, gateway_factory: Callable[..., GatewayProcess],
               peer_procs: Callable[..., PeerProcess], tmp_path: Path) -> None:
    gw = gateway_factory(probe=False, extra_env=ZEEBE_ON)
    cli = Cli(zb_env, gw)
    files = processes.write_all(tmp_path / "bpmn")

    status = cli("status")
    assert "Partition 1 : Leader, Healthy" in status.output

    deployed = cli.json("deploy", files["one-task.bpmn"])
    assert deployed["processes"][0]["bpmnProcessId"] == "e2e-one-task"

    waiting = peer_procs(None, [*cli.argv, "create", "instance", "e2e-one-task", "--variables", '{"x":3}',
                                "--withResult"], gateway=gw, name="zbctl-create")
    jobs: list[Any] = []
    deadline = time.monotonic() + 10
    while not jobs and time.monotonic() < deadline:
        jobs = cli.json("activate", "jobs", "double", "--maxJobsToActivate", "1").get("jobs", [])
    assert len(jobs) == 1
    cli("complete", "job", str(jobs[0]["key"]), "--variables", '{"y":6}')
    waiting.wait_for_output("processInstanceKey", timeout=15)
    out = waiting.output()
    result = json.loads(out[out.index("{"):])
    assert json.loads(result["variables"]) == {"x": 3, "y": 6}

    first = cli("publish", "message", "order", "--correlationKey", "k-1", "--messageId", "dup", "--ttl", "60s")
    assert first.returncode == 0
    dup = cli("publish", "message", "order", "--correlationKey", "k-1", "--messageId", "dup", "--ttl", "60s",
              check=False)
    assert dup.returncode == 1 and "AlreadyExists" in dup.output
    missing = cli("complete", "job", "12345", check=False)
    assert missing.returncode == 1 and "NotFound" in missing.output

    # fail job -> incident -> update retries + resolve incident -> activatable again; set variables.
    created = cli.json("create", "instance", "e2e-one-task", "--variables", '{"x":1}')
    key = created["processInstanceKey"]
    job = cli.json("activate", "jobs", "double", "--maxJobsToActivate", "1")["jobs"][0]
    cli("fail", "job", str(job["key"]), "--retries", "0", "--errorMessage", "broken")
    deadline = time.monotonic() + 10
    while not _inspect(gw, key)["incidents"] and time.monotonic() < deadline:
        time.sleep(0.1)
    incident = _inspect(gw, key)["incidents"][0]
    assert incident["type"] == "JOB_NO_RETRIES" and incident["msg"] == "broken"
    cli("set", "variables", str(key), "--variables", '{"x":2}')
    cli("update", "retries", str(job["key"]), "--retries", "2")
    cli("resolve", "incident", str(incident["key"]))
    again = cli.json("activate", "jobs", "double", "--maxJobsToActivate", "1")["jobs"]
    assert len(again) == 1 and again[0]["retries"] == 2 and json.loads(again[0]["variables"]) == {"x": 2}
    cli("throwError", "job", str(again[0]["key"]), "--errorCode", "NOPE")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        types = [i["type"] for i in _inspect(gw, key)["incidents"]]
        if "UNHANDLED_ERROR_EVENT" in types:
            break
        time.sleep(0.1)
    assert types == ["UNHANDLED_ERROR_EVENT"]
