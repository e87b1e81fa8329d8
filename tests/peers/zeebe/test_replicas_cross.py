"""Two gateway replicas on one PostgreSQL schema with the polling fallback at 30 s: every hand-over
between them (job to a worker long-polling the other replica, completion to a waiting
CreateProcessInstanceWithResult, timer, message start, DeleteResource) must travel by NOTIFY and
guarded commits. Driven by pyzeebe 4.7 in its own process (`peer_replicas_cross.py`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, run_peer
from tests.peers.zeebe.envs import pyzeebe47

HERE = Path(__file__).parent
ENV = {"GATEWAY_ADAPTERS__ZEEBE__ENABLED": "true", "GATEWAY_SCHEDULER__POLL_INTERVAL_SECONDS": "30"}

pytestmark = pytest.mark.xdist_group("zeebe")


@pytest.fixture(scope="session")
def pz47() -> PeerEnv:
    return pyzeebe47()


def test_cross_replica_handovers(pz47: PeerEnv, gateway_factory: Callable[..., GatewayProcess]) -> None:
    a = gateway_factory(probe=False, extra_env=ENV, backend="postgres", start=False)
    b = gateway_factory(probe=False, extra_env=ENV, backend="postgres", start=False)
    # B joins A's schema; only A drops it (the factory closes A first).
    b.postgres_schema = None
    b.env["GATEWAY_STORAGE__POSTGRES_SCHEMA"] = str(a.postgres_schema)
    a.start()
    b.start()
    result = run_peer(pz47, [HERE / "peer_replicas_cross.py", "--a", a.grpc_target, "--b", b.grpc_target],
                      gateway=a, timeout=150, name="pz47-replicas-cross")
    assert result.output.strip().endswith("PASS"), result.output
    for gw in (a, b):
        assert "Traceback" not in gw.log_text(), gw.log_tail()
