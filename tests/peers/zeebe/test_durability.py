"""The gateway killed with -9 while instances wait on jobs, timers and messages; after a restart on
the same SQLite file every instance completes (pyzeebe 4.7 drives both halves)."""

from __future__ import annotations

import signal
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


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_9_and_restart(backend: str, pz47: PeerEnv, gateway_factory: Callable[..., GatewayProcess],
                            tmp_path: Path) -> None:
    gw = gateway_factory(probe=False, extra_env=ZEEBE_ON, backend=backend)
    state = tmp_path / "keys.json"

    def peer(scenario: str) -> None:
        result = run_peer(
            pz47, [HERE / "peer_pyzeebe47.py", scenario, "--target", gw.grpc_target, "--admin", gw.admin_url,
                   "--state-file", str(state)],
            gateway=gw, timeout=90, name=f"pz47-{scenario}",
        )
        assert f"PASS {scenario}" in result.output

    peer("durable_setup")
    gw.kill(signal.SIGKILL)
    gw.restart()
    peer("durable_finish")
