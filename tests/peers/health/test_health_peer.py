"""Real peer: a grpcio 1.85.1 client in its own Python 3.11 venv checks gRPC health and reflection.

The gateway runs with two gRPC ports, the probe adapter on and every built-in front-end off, so the
exact set of services is known; the peer checks each port.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, grpc_serving, python_venv, run_peer

HERE = Path(__file__).parent
PINS = [
    "grpcio==1.85.1",
    "grpcio-health-checking==1.85.1",
    "grpcio-reflection==1.85.1",
    "protobuf==7.36.2",
]
PROBE_SERVICE = "gateway.probe.v1.Probe"
HEALTH = "grpc.health.v1.Health"
REFLECTION = "grpc.reflection.v1alpha.ServerReflection"
BUILTIN_ADAPTERS = ("durabletask", "zeebe", "armonik", "azure_functions", "restate")

pytestmark = pytest.mark.xdist_group("health")


@pytest.fixture(scope="session")
def health_env() -> PeerEnv:
    return python_venv("health", python="3.11", requirements=PINS)


@pytest.fixture
def probe_only(gateway_factory: Callable[..., GatewayProcess]) -> GatewayProcess:
    off = {f"GATEWAY_ADAPTERS__{name.upper()}__ENABLED": "false" for name in BUILTIN_ADAPTERS}
    return gateway_factory(backend="memory", grpc_port_count=2, extra_env=off)


def run_health_peer(env: PeerEnv, gw: GatewayProcess) -> list[dict]:
    targets = [f"127.0.0.1:{port}" for port in gw.grpc_ports]
    args: list[str | Path] = [HERE / "peer_health.py"]
    for target in targets:
        args += ["--target", target]
    args += ["--serving", PROBE_SERVICE, "--describe", HEALTH, "--describe", REFLECTION,
             "--echo", PROBE_SERVICE, "--symbol", "grpc.health.v1.HealthCheckRequest"]
    result = run_peer(env, args, gateway=gw, timeout=60)
    lines = result.output.splitlines()
    assert lines[-1] == "PASS", result.output
    results = [json.loads(line.removeprefix("RESULT ")) for line in lines if line.startswith("RESULT ")]
    assert [r["target"] for r in results] == targets
    return results


def test_health_and_reflection_on_every_grpc_port(health_env: PeerEnv, probe_only: GatewayProcess) -> None:
    results = run_health_peer(health_env, probe_only)
    assert len(results) == 2
    for r in results:
        assert r["statuses"] == {"": "SERVING", PROBE_SERVICE: "SERVING"}
        assert r["nope"] == "NOT_FOUND"
        assert r["services"] == sorted([HEALTH, REFLECTION, PROBE_SERVICE])
        assert r["methods"][HEALTH] == ["Check", "List", "Watch"]
        assert r["methods"][REFLECTION] == ["ServerReflectionInfo"]
        assert r["symbol_file"] == "grpc_health/v1/health.proto"
        assert r["echo"] == {PROBE_SERVICE: f"ping {r['target']}"}
    healthz = httpx.get(f"{probe_only.metrics_url}/healthz", timeout=5)
    assert healthz.status_code == 200


def test_same_ports_after_sigkill_and_restart(health_env: PeerEnv, probe_only: GatewayProcess) -> None:
    ports, pid = (list(probe_only.grpc_ports), dict(probe_only.http_ports)), probe_only.pid
    assert probe_only.kill(signal.SIGKILL) == -signal.SIGKILL
    assert not any(grpc_serving(p, timeout=0.3) for p in probe_only.grpc_ports)
    probe_only.restart()
    assert probe_only.pid != pid
    assert (probe_only.grpc_ports, probe_only.http_ports) == ports
    assert len(run_health_peer(health_env, probe_only)) == 2
