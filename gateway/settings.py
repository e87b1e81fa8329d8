"""The gateway's configuration: a TOML file, then `GATEWAY_<SECTION>__<KEY>` environment overrides.

The default file ships inside the package (`gateway/default_config.toml`, kept identical to the
repository's `config/gateway.toml` by a test) so an installed gateway finds it. Every key also has
the same default in the models below, so a partial file is fine.

Adapter sections (`[adapters.<name>]`) are free-form: the core reads only `enabled` and `module`;
each adapter validates the rest of its own table when it starts.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.errors import ConfigError

DEFAULT_CONFIG_NAME = "default_config.toml"
MiB = 1024 * 1024

#: A TCP port; 0 lets the OS pick (the start-up line logs the real one).
Port = Annotated[int, Field(ge=0, le=65535)]


class _Section(BaseModel):
    # Unknown keys are typos: refuse them rather than silently ignoring a setting.
    model_config = ConfigDict(extra="forbid")


class StorageSettings(_Section):
    """`[storage]`: which backend holds the durable state."""

    backend: Literal["memory", "sqlite", "postgres"] = "sqlite"
    sqlite_path: str = "./data/gateway.db"
    synchronous: Literal["off", "normal", "full", "extra"] = "normal"
    postgres_dsn: str = "postgresql://127.0.0.1:5432/test"
    postgres_schema: str = Field(default="gateway", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    pool_size: int = Field(default=8, ge=1, le=1000)


class KeepaliveSettings(_Section):
    """`[grpc.keepalive]`: server keepalive policy (Zeebe clients ping idle connections every 30 s)."""

    min_recv_ping_interval_without_data_ms: int = Field(default=30000, ge=0)
    permit_without_calls: bool = True
    max_ping_strikes: int = Field(default=0, ge=0)
    time_ms: int = Field(default=7_200_000, ge=1)
    timeout_ms: int = Field(default=20_000, ge=1)

    def options(self) -> list[tuple[str, int]]:
        return [
            (
                "grpc.http2.min_recv_ping_interval_without_data_ms",
                self.min_recv_ping_interval_without_data_ms,
            ),
            ("grpc.keepalive_permit_without_calls", int(self.permit_without_calls)),
            ("grpc.http2.max_ping_strikes", self.max_ping_strikes),
            ("grpc.keepalive_time_ms", self.time_ms),
            ("grpc.keepalive_timeout_ms", self.timeout_ms),
        ]


class GrpcSettings(_Section):
    """`[grpc]`: one server, every service on every port."""

    host: str = "127.0.0.1"
    ports: list[Port] = Field(default_factory=lambda: [26500, 4001, 5001], min_length=1)
    max_message_bytes: int = Field(default=64 * MiB, ge=1024, le=2**31 - 1)
    keepalive: KeepaliveSettings = Field(default_factory=KeepaliveSettings)


class HttpSettings(_Section):
    """`[http]`: the HTTP listeners adapters mount routes on, plus metrics/health."""

    host: str = "127.0.0.1"
    ingress_port: Port = 8080
    admin_port: Port = 9070
    functions_port: Port = 7071
    metrics_port: Port = 9464

    def listeners(self) -> dict[str, int]:
        return {
            "ingress": self.ingress_port,
            "admin": self.admin_port,
            "functions": self.functions_port,
            "metrics": self.metrics_port,
        }


class SchedulerSettings(_Section):
    """`[scheduler]`: the core's job ordering and timings."""

    policy: Literal["fifo", "priority", "fair"] = "priority"
    step_lease_seconds: float = Field(default=5.0, gt=0)
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)


class MetricsSettings(_Section):
    """`[metrics]`: label bounds and opt-in series."""

    queue_label_limit: int = Field(default=100, ge=0)
    grpc_handling_histogram: bool = False


class LogSettings(_Section):
    """`[log]`."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"


class AdapterSettings(BaseModel):
    """`[adapters.<name>]`: `enabled`, an optional `module = "pkg.mod:Class"`, and the adapter's own keys."""

    model_config = ConfigDict(extra="allow")

    enabled: bool = False
    module: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

    def table(self) -> dict[str, Any]:
        """The whole section as a plain dict (what the adapter sees as `ctx.settings`)."""
        return self.model_dump()


class Settings(BaseSettings):
    """The effective configuration. Build it with `load_settings`: file values, then env overrides."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    storage: StorageSettings = Field(default_factory=StorageSettings)
    grpc: GrpcSettings = Field(default_factory=GrpcSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    adapters: dict[str, AdapterSettings] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's contents arrive as init kwargs; env must win over them, so it goes first.
        return (env_settings, init_settings)


def default_config_text() -> str:
    """The embedded default configuration (identical to the repository's config/gateway.toml)."""
    return resources.files("gateway").joinpath(DEFAULT_CONFIG_NAME).read_text(encoding="utf-8")


def read_config_file(path: str | Path | None) -> dict[str, Any]:
    """Parse the TOML file (the embedded default when `path` is None); ConfigError if unreadable."""
    try:
        if path is None:
            return tomllib.loads(default_config_text())
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path or DEFAULT_CONFIG_NAME}: invalid TOML: {exc}") from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Load the file (default: the embedded one), apply env overrides, validate.

    Raises ConfigError with a one-line message naming the key and the bad value.
    """
    data = read_config_file(path)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except ValueError as exc:  # e.g. an env var holding JSON that does not parse
        first = str(exc).splitlines()[0]
        raise ConfigError(f"invalid configuration: {first} (check the GATEWAY_* environment variables)") from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, each naming the dotted key, the bad value and what is expected."""
    parts = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "<root>"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            parts.append(f"{key}: unknown key")
        elif err["type"] == "missing":
            parts.append(f"{key}: missing")
        else:
            parts.append(f"{key} = {err.get('input')!r}: {msg}{_env_source(err['loc'])}")
    return "invalid configuration: " + "; ".join(parts)


def _env_source(loc: tuple[int | str, ...]) -> str:
    """` (from GATEWAY_X__Y)` when an environment variable set the offending key."""
    env = {k.upper() for k in os.environ}
    for n in range(len(loc), 0, -1):
        name = "GATEWAY_" + "__".join(str(p).upper() for p in loc[:n])
        if name in env:
            return f" (from {name})"
    return ""
