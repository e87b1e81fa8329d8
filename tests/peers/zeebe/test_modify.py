"""ModifyProcessInstance and DeleteResource with pyzeebe 4.7.0's own 8.6.6 stubs, against the gateway process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, run_peer
from tests.peers.zeebe.envs import pyzeebe47

HERE = Path(__file__).parent
ZEEBE_ON = {"GATEWAY_ADAPTERS__ZEEBE__ENABLED": "true"}

pytestmark = pytest.mark.xdist_group("zeebe")


@pytest.fixture(scope="session")
def pz47() -> PeerEnv:
    return pyzeebe47()


@pytest.mark.parametrize("scenario", ["modify", "delete"])
def test_scenario(scenario: str, pz47: PeerEnv, gateway_factory: Callable[..., GatewayProcess]) -> None:
    gw = gateway_factory(probe=False, extra_env=ZEEBE_ON)
    result = run_peer(
        pz47, [HERE / "peer_modify.py", scenario, "--target", gw.grpc_target],
        gateway=gw, timeout=60, name=f"pz47-{scenario}",
    )
    assert f"PASS {scenario}" in result.output
