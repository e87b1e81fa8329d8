"""The gateway as a real process: serving, health, reflection, metrics, graceful stop, start-up errors,
and a probe-adapter round trip through the scheduler and storage.

Runs `python -m gateway serve` with cwd = the repository root (so `tests.support.probe_adapter`
imports), free 127.0.0.1 ports and a temporary data dir, all through GATEWAY_* env overrides.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.peers.gateway_process import GatewayProcess

ROOT = Path(__file__).resolve().parents[2]
PROBE_SERVICE = "gateway.probe.v1.Probe"
# The embedded default is sqlite; until that backend exists, run on memory (same test either way).
BACKENDS = ["sqlite"] if importlib.util.find_spec("gateway.storage.sqlite") else ["memory"]


@pytest.fixture(scope="module", params=BACKENDS)
def gw(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    proc = GatewayProcess(tmp_path_factory.mktemp("gw"), backend=request.param, grpc_port_count=2)
    proc.ready_timeout = 20.0
    with proc:
        yield proc


def _run(gw: GatewayProcess, *, timeout: float = 20.0, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run `gateway serve` to completion (for start-up failures) with gw's env plus `extra_env`."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        cwd=ROOT,
        env={**gw.env, **extra_env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_health(gw: GatewayProcess) -> None:
    for port in gw.grpc_ports:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in ("", PROBE_SERVICE):
                resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert resp.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as err:
                stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_services(gw: GatewayProcess) -> None:
    with grpc.insecure_channel(gw.grpc_target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="grpc.health.v1.Health"),
        ]
        listed, described = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
    names = {s.name for s in listed.list_services_response.service}
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", PROBE_SERVICE} <= names
    assert described.file_descriptor_response.file_descriptor_proto


def test_probe_grpc_echo(gw: GatewayProcess) -> None:
    with grpc.insecure_channel(gw.grpc_target) as channel:
        assert channel.unary_unary(f"/{PROBE_SERVICE}/Echo")(b"\x00hello", timeout=5) == b"\x00hello"


def test_metrics_and_healthz(gw: GatewayProcess) -> None:
    with grpc.insecure_channel(gw.grpc_target) as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    with httpx.Client(base_url=gw.metrics_url, timeout=5) as http:
        text = http.get("/metrics").text
        assert "gateway_build_info{version=" in text
        health = 'grpc_service="grpc.health.v1.Health",grpc_type="unary"'
        assert f'grpc_server_started_total{{grpc_method="Check",{health}}}' in text
        assert 'grpc_code="OK"' in text and "grpc_server_msg_sent_total{" in text
        resp = http.get("/healthz")
        assert resp.status_code == 200 and resp.json()["status"] == "serving"
        missing = http.get("/nope")
        assert missing.status_code == 404 and "error" in missing.json()


def test_probe_round_trip(gw: GatewayProcess) -> None:
    with httpx.Client(base_url=gw.admin_url, timeout=10) as http:
        body = {
            "id": "rt-1",
            "jobs": [{"queue": "rt", "payload": "a"}, {"queue": "rt", "payload": "b", "retries": 3}],
            "timers": [{"key": "t1", "delay": 0.5}],
        }
        assert http.post("/probe/instances", json=body).status_code == 201
        assert http.post("/probe/instances", json=body).status_code == 409
        assert http.post("/probe/instances", content=b"{not json").status_code == 400
        assert http.post("/probe/instances", json={"jobs": []}).status_code == 400

        jobs = http.post("/probe/lease", json={"queue": "rt", "owner": "t", "max": 5, "wait": 2}).json()["jobs"]
        assert sorted(j["payload"] for j in jobs) == ["a", "b"]
        for job in jobs:
            resp = http.post(
                "/probe/complete",
                json={"id": job["id"], "attempt": job["attempt"], "result": job["payload"].upper()},
            )
            assert resp.status_code == 200
        stale = http.post("/probe/complete", json={"id": jobs[0]["id"], "attempt": jobs[0]["attempt"]})
        assert stale.status_code in (404, 409) and "error" in stale.json()

        deadline = time.monotonic() + 10
        while True:
            inst = http.get("/probe/instances/rt-1").json()
            if inst["status"] == "COMPLETED" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert inst["status"] == "COMPLETED", inst
        output = json.loads(inst["output"])
        assert output == {"results": {j["id"]: j["payload"].upper() for j in jobs}, "timers": ["t1"]}
        assert [e["kind"] for e in inst["history"]].count("job.completed") == 2 and inst["inbox"] == 0
        assert "rt-1" in http.get("/probe/instances").json()["ids"]
        assert http.get("/probe/instances/none").status_code == 404


def test_sigterm_exits_0(tmp_path: Path) -> None:
    proc = GatewayProcess(tmp_path, backend=BACKENDS[0]).start()
    try:
        started = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        assert proc.proc.wait(10) == 0  # type: ignore[union-attr]
        assert time.monotonic() - started < 5
    finally:
        proc.close()
    assert "stopped" in proc.log_text()


@pytest.mark.parametrize("which", ["grpc", "http"])
def test_taken_port_exits_1_naming_it(tmp_path: Path, which: str) -> None:
    proc = GatewayProcess(tmp_path, backend=BACKENDS[0])
    port = proc.grpc_ports[0] if which == "grpc" else proc.http_ports["functions"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = _run(proc)
    assert result.returncode == 1, result.stderr
    assert str(port) in result.stderr and "Traceback" not in result.stderr


def test_unreachable_postgres_exits_1(tmp_path: Path) -> None:
    proc = GatewayProcess(tmp_path, backend="postgres", postgres_dsn="postgresql://127.0.0.1:1/test")
    result = _run(proc)
    assert result.returncode == 1, result.stderr
    assert "127.0.0.1:1" in result.stderr or "postgres" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_bad_config_value_exits_2(tmp_path: Path) -> None:
    proc = GatewayProcess(tmp_path, backend=BACKENDS[0])
    result = _run(proc, GATEWAY_SCHEDULER__POLICY="random")
    assert result.returncode == 2
    assert "scheduler.policy = 'random'" in result.stderr and "Traceback" not in result.stderr
