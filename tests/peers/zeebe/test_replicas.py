"""Two gateway processes on one PostgreSQL schema serve one Zeebe cluster (pyzeebe 4.7)."""

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


def test_two_replicas_on_one_database(pz47: PeerEnv, gateway_factory: Callable[..., GatewayProcess]) -> None:
    a = gateway_factory(probe=False, extra_env=ZEEBE_ON, backend="postgres", start=False)
    b = gateway_factory(probe=False, extra_env=ZEEBE_ON, backend="postgres", start=False)
    # B joins A's schema; only A drops it (the factory closes A first, B's later errors are moot).
    b.postgres_schema = None
    b.env["GATEWAY_STORAGE__POSTGRES_SCHEMA"] = str(a.postgres_schema)
    a.start()
    b.start()
    result = run_peer(pz47, [HERE / "peer_replicas.py", "--a", a.grpc_target, "--b", b.grpc_target],
                      gateway=a, timeout=120, name="pz47-replicas")
    assert result.output.strip().endswith("PASS"), result.output
    assert "Traceback" not in b.log_text(), b.log_tail()
