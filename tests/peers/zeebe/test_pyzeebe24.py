"""Brief scenarios 6 and 7: pyzeebe 2.4.0 and a raw zeebe-grpc 0.26 client (Workflow rpcs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, run_peer
from tests.peers.zeebe.envs import pyzeebe24

HERE = Path(__file__).parent
ZEEBE_ON = {"GATEWAY_ADAPTERS__ZEEBE__ENABLED": "true"}

pytestmark = pytest.mark.xdist_group("zeebe")


@pytest.fixture(scope="session")
def pz24() -> PeerEnv:
    return pyzeebe24()


@pytest.mark.parametrize("scenario", ["workflow", "raw026"])
def test_scenario(scenario: str, pz24: PeerEnv, gateway_factory: Callable[..., GatewayProcess]) -> None:
    gw = gateway_factory(probe=False, extra_env=ZEEBE_ON)
    result = run_peer(
        pz24, [HERE / "peer_pyzeebe24.py", scenario, "--target", gw.grpc_target, "--admin", gw.admin_url],
        gateway=gw, timeout=90, name=f"pz24-{scenario}",
    )
    assert f"PASS {scenario}" in result.output
