"""`[adapters.armonik]`: the adapter validates its own table.

```toml
[adapters.armonik]
enabled = true
shared_folder = "./data/armonik/shared"   # the data folders (<shared>/<token>) workers read and write
agent_socket = "./data/armonik/agent.sock" # the Agent service, for the workers (unix socket)
partitions = ["default"]                   # partitions exposed besides the workers' ones

[[adapters.armonik.workers]]
address = "./data/armonik/worker-{n}.sock" # unix socket path, unix:// URL or host:port
partition = "default"
count = 2                                  # {n} = 0..count-1 in address and env values
command = ["python", "worker.py"]          # optional: started, supervised, restarted if it dies
env = { MY_SETTING = "x" }
```
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError

DEFAULT_CHUNK = 2 * 1024 * 1024
#: sun_path is 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


class WorkerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str
    partition: str = "default"
    count: int = Field(default=1, ge=1, le=1024)
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return v.split() if isinstance(v, str) else v


class ArmoniKSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    module: str | None = None
    shared_folder: str = "./data/armonik/shared"
    agent_socket: str = "./data/armonik/agent.sock"
    data_chunk_max_size: int = Field(default=DEFAULT_CHUNK, ge=1024, le=64 * 1024 * 1024)
    default_partition: str = "default"
    partitions: list[str] = Field(default_factory=list)
    health_check_timeout: float = Field(default=5.0, gt=0)
    #: 0 = HealthCheck before every task (as Core); > 0 = skip it while the worker answered a call
    #: less than this many seconds ago and its connection is still up.
    health_check_interval: float = Field(default=1.0, ge=0)
    restart_delay: float = Field(default=1.0, ge=0)
    workers: list[WorkerSpec] = Field(default_factory=list)

    @field_validator("workers", "partitions", mode="before")
    @classmethod
    def _json(cls, v: Any) -> Any:
        # GATEWAY_ADAPTERS__ARMONIK__WORKERS='[{"address": ...}]' arrives as a string.
        return json.loads(v) if isinstance(v, str) else v


class Worker:
    """One worker endpoint, expanded from a `WorkerSpec` (`{n}` substituted)."""

    def __init__(self, spec: WorkerSpec, n: int) -> None:
        self.partition = spec.partition
        self.index = n
        raw = spec.address.replace("{n}", str(n))
        if raw.startswith("unix://"):
            self.socket: str | None = os.path.abspath(raw.removeprefix("unix://"))
            self.target = f"unix://{self.socket}"
        elif raw.startswith(("/", "./", "../")) or raw.endswith(".sock"):
            self.socket = os.path.abspath(raw)
            self.target = f"unix://{self.socket}"
        else:
            self.socket = None
            self.target = raw.removeprefix("http://")
        self.command = list(spec.command) if spec.command else None
        self.env = {k: v.replace("{n}", str(n)) for k, v in spec.env.items()}
        self.cwd = spec.cwd
        self.name = f"{self.partition}/{n}" if spec.count > 1 else f"{self.partition}/{raw}"


def load(table: dict[str, Any]) -> tuple[ArmoniKSettings, list[Worker]]:
    try:
        cfg = ArmoniKSettings(**table)
    except ValidationError as exc:
        parts = []
        for err in exc.errors(include_url=False):
            key = ".".join(str(p) for p in err["loc"])
            parts.append(f"adapters.armonik.{key}: {err['msg']}")
        raise ConfigError("; ".join(parts)) from None
    except ValueError as exc:
        raise ConfigError(f"adapters.armonik: {exc}") from None
    cfg.agent_socket = os.path.abspath(cfg.agent_socket)
    cfg.shared_folder = os.path.abspath(cfg.shared_folder)
    if len(cfg.agent_socket.encode()) > MAX_SOCKET_PATH:
        raise ConfigError(f"adapters.armonik.agent_socket: path longer than {MAX_SOCKET_PATH} bytes")
    workers = [Worker(spec, n) for spec in cfg.workers for n in range(spec.count)]
    seen: set[str] = set()
    for w in workers:
        if w.target in seen:
            raise ConfigError(f"adapters.armonik.workers: address {w.target!r} used twice (use {{n}} with count)")
        seen.add(w.target)
        if w.socket and len(w.socket.encode()) > MAX_SOCKET_PATH:
            raise ConfigError(f"adapters.armonik.workers: socket path {w.socket!r} is too long")
    Path(cfg.shared_folder).mkdir(parents=True, exist_ok=True)
    return cfg, workers


def partition_ids(cfg: ArmoniKSettings, workers: list[Worker]) -> list[str]:
    """Every partition exposed: the default one, the configured ones, the workers' ones."""
    return list(dict.fromkeys([cfg.default_partition, *cfg.partitions, *(w.partition for w in workers)]))
