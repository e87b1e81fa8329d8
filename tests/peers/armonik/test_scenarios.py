"""Acceptance scenarios 0-14 of protocols/armonik.md with the real SDK client and workers.

One gateway (sqlite, priority policy) supervises three unmodified SDK worker processes on unix
sockets; each test runs the client script for one scenario and checks its exact outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.peers.armonik.conftest import ArmoniKGateway
from tests.peers.harness import PeerEnv, run_peer

HERE = Path(__file__).parent
pytestmark = pytest.mark.xdist_group("armonik")


def scenario(env: PeerEnv, ak: ArmoniKGateway, name: str, timeout: float = 60) -> dict:
    result = run_peer(
        env, [HERE / "client_scenarios.py", "--target", ak.target, "--worker-log", str(ak.worker_log),
              "--scenario", name],
        gateway=ak.gw, timeout=timeout, name=f"armonik-{name}",
    )
    lines = result.output.splitlines()
    assert lines[-1] == "PASS", result.output
    [res] = [json.loads(line.removeprefix("RESULT ")) for line in lines if line.startswith("RESULT ")]
    return res


EXPECTED = {
    "1": {"value": "49", "status": "COMPLETED"},
    "2": {"value": "25", "owner_moved": True},
    "3": {"value": "13", "processes": 4},
    "4": {"value": "25"},
    "5": {"a": "100", "b": "101"},
    "6": {"error": "worker said no"},
    "7": {"first": "RETRIED", "retry": "ERROR"},
    "8": {"status": "TIMEOUT"},
    "9": {"status": 4},
    "11": {"value": "resource:xyz"},
    "12": {"d": "ERROR", "submit": "FAILED_PRECONDITION"},
    "13": {"codes": ["FAILED_PRECONDITION", "FAILED_PRECONDITION"], "purged": 5},
    "14": {"paused": "PAUSED", "value": "4"},
    "token": {"value": "INVALID_ARGUMENT,INVALID_ARGUMENT"},
    "priority": {"high_first": True},
    "parallel": {"workers": 3},
    "worker_crash": {"first": "RETRIED", "value": "36"},
    "legacy": {"value": "13", "subtasks": 3},
    "legacy_error": {"missing": 3, "processes": 1},
    "legacy_malformed": {"value": "INVALID_ARGUMENT,Wrong communication token"},
}


def test_smoke(armonik_env: PeerEnv, armonik_gateway: ArmoniKGateway) -> None:
    res = scenario(armonik_env, armonik_gateway, "0")
    assert res["versions"] == ["api", "core"]
    assert res["health"] == {"control_plane": {"message": "ok", "status": 1}}
    assert res["partitions"] == ["default"]


@pytest.mark.parametrize("name", sorted(EXPECTED, key=lambda n: (len(n), n)))
def test_scenario(armonik_env: PeerEnv, armonik_gateway: ArmoniKGateway, name: str) -> None:
    res = scenario(armonik_env, armonik_gateway, name)
    for key, value in EXPECTED[name].items():
        assert res[key] == value, res


def test_replay(armonik_env: PeerEnv, armonik_gateway: ArmoniKGateway) -> None:
    res = scenario(armonik_env, armonik_gateway, "10")
    assert res["completed_wait"] < 1.0 and res["aborted_wait"] < 1.0
    assert res["aborted"].endswith("has been aborted.")
