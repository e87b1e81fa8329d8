"""A gateway with the ArmoniK front-end and real `armonik==3.29.4` workers it supervises."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.harness import GatewayProcess, PeerEnv, python_venv

HERE = Path(__file__).parent
PINS = ["armonik==3.29.4", "grpcio==1.85.1", "protobuf==7.36.2"]


@pytest.fixture(scope="session")
def armonik_env() -> PeerEnv:
    return python_venv("armonik", python="3.11", requirements=PINS)


class ArmoniKGateway:
    """A `GatewayProcess` plus where its workers log and listen."""

    def __init__(self, gw: GatewayProcess, run_dir: Path, worker_log: Path) -> None:
        self.gw = gw
        self.run_dir = run_dir
        self.worker_log = worker_log

    @property
    def target(self) -> str:
        return self.gw.grpc_target


def write_config(path: Path, env: PeerEnv, run_dir: Path, data_dir: Path, worker_log: Path, workers: int,
                 extra: str = "") -> None:
    command = json.dumps([str(env.python), str(HERE / "worker_app.py")])
    path.write_text(f"""
[scheduler]
policy = "priority"
poll_interval_seconds = 0.2

[adapters.armonik]
enabled = true
shared_folder = "{data_dir / 'shared'}"
agent_socket = "{run_dir / 'agent.sock'}"
{extra}

[[adapters.armonik.workers]]
address = "{run_dir / 'w{n}.sock'}"
partition = "default"
count = {workers}
command = {command}
env = {{ WORKER_LOG = "{worker_log}", WORKER_NAME = "w{{n}}" }}
""")


def start_gateway(tmp: Path, env: PeerEnv, workers: int = 3, backend: str = "sqlite",
                  extra: str = "") -> tuple[ArmoniKGateway, Path]:
    # Unix socket paths must stay short (~107 bytes): keep them out of pytest's deep tmp dirs.
    run_dir = Path(tempfile.mkdtemp(prefix="ak-", dir="/tmp"))
    worker_log = tmp / "worker.jsonl"
    worker_log.touch()
    config = tmp / "gateway.toml"
    write_config(config, env, run_dir, tmp, worker_log, workers, extra)
    gw = GatewayProcess(tmp / "gw", backend=backend, probe=False, config_file=config)
    gw.start()
    return ArmoniKGateway(gw, run_dir, worker_log), run_dir


@pytest.fixture(scope="module")
def armonik_gateway(armonik_env: PeerEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmoniKGateway]:
    ak, run_dir = start_gateway(tmp_path_factory.mktemp("armonik"), armonik_env)
    try:
        yield ak
    finally:
        ak.gw.close()
        shutil.rmtree(run_dir, ignore_errors=True)
