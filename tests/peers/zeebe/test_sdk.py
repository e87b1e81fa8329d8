"""Brief scenario 9 with the Camunda 8 JavaScript SDK (`@camunda8/sdk@8.8.13`, gRPC client)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, node_folder, run_peer
from tests.peers.zeebe import processes

HERE = Path(__file__).parent
ZEEBE_ON = {"GATEWAY_ADAPTERS__ZEEBE__ENABLED": "true"}

pytestmark = pytest.mark.xdist_group("zeebe")


@pytest.fixture(scope="session")
def sdk_env() -> PeerEnv:
    return node_folder("camunda8-sdk", ["@camunda8/sdk@8.8.13"])


def test_sdk_with_result(sdk_env: PeerEnv, gateway_factory: Callable[..., GatewayProcess], tmp_path: Path) -> None:
    gw = gateway_factory(probe=False, extra_env=ZEEBE_ON)
    files = processes.write_all(tmp_path / "bpmn")
    result = run_peer(sdk_env, [HERE / "peer_sdk.js", gw.grpc_target, files["one-task.bpmn"]], gateway=gw,
                      timeout=60, name="sdk")
    assert "PASS sdk" in result.output
