"""The real durabletask==1.12.0 SDK (client + worker, own venv) against the gateway process."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, python_venv, run_peer

HERE = Path(__file__).parent
DRIVER = HERE / "dt_acceptance.py"
pytestmark = pytest.mark.xdist_group("durabletask")

# 1 s pings so the watchdog scenario (a 2 s silent-disconnect timeout) holds one stream.
DT_ENV = {
    "GATEWAY_ADAPTERS__DURABLETASK__ENABLED": "true",
    "GATEWAY_ADAPTERS__DURABLETASK__PING_INTERVAL_SECONDS": "1",
}


@pytest.fixture(scope="session")
def dt_env() -> PeerEnv:
    return python_venv("durabletask", python="3.11", requirements=["durabletask==1.12.0"])


def _gateway(factory: Callable[..., GatewayProcess], backend: str) -> GatewayProcess:
    return factory(backend=backend, probe=False, extra_env=DT_ENV)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_acceptance_extended(dt_env: PeerEnv, gateway_factory: Callable[..., GatewayProcess], backend: str) -> None:
    gw = _gateway(gateway_factory, backend)
    result = run_peer(dt_env, [DRIVER, "--host", gw.grpc_target, "--extended", "--timeout", "30"],
                      gateway=gw, timeout=180)
    assert "PASS" in result.output


def test_timer_survives_kill_9(dt_env: PeerEnv, gateway_factory: Callable[..., GatewayProcess]) -> None:
    gw = _gateway(gateway_factory, "sqlite")
    iid = f"restart-{uuid.uuid4().hex[:8]}"
    args = ["--host", gw.grpc_target, "--iid", iid, "--timeout", "30"]
    run_peer(dt_env, [DRIVER, "--phase", "start", *args], gateway=gw, timeout=60, name="dt-start")
    gw.kill(signal.SIGKILL)  # mid-timer: the 3 s timer is armed, nothing else in flight
    time.sleep(0.5)
    gw.start()
    result = run_peer(dt_env, [DRIVER, "--phase", "finish", *args], gateway=gw, timeout=60, name="dt-finish")
    assert "PASS" in result.output
