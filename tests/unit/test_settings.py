"""Configuration: the embedded default, file values, env overrides, and clear errors (exit code 2)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.errors import ConfigError
from gateway.settings import Settings, default_config_text, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("GATEWAY_"):
            monkeypatch.delenv(key)


def test_packaged_default_is_the_repository_config() -> None:
    assert default_config_text() == (ROOT / "config" / "gateway.toml").read_text()


def test_model_defaults_equal_the_default_file() -> None:
    # A key left out of a user's file behaves as if the default file's value were there.
    from_file = load_settings().model_dump()
    bare = Settings().model_dump()
    assert set(from_file["adapters"]) >= {"durabletask", "zeebe", "armonik", "azure_functions", "restate"}
    from_file.pop("adapters"), bare.pop("adapters")
    assert from_file == bare


def test_default_values() -> None:
    s = load_settings()
    assert s.storage.backend == "sqlite" and s.storage.sqlite_path == "./data/gateway.db"
    assert s.grpc.host == "127.0.0.1" and s.grpc.ports == [26500, 4001, 5001]
    assert s.grpc.max_message_bytes == 64 * 1024 * 1024
    opts = dict(s.grpc.keepalive.options())
    assert opts["grpc.http2.min_recv_ping_interval_without_data_ms"] == 30000
    assert opts["grpc.keepalive_permit_without_calls"] == 1
    assert opts["grpc.http2.max_ping_strikes"] == 0
    assert s.http.listeners() == {"ingress": 8080, "admin": 9070, "functions": 7071, "metrics": 9464}


def test_file_then_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text(
        '[storage]\nbackend = "memory"\npool_size = 3\n[grpc]\nports = [7000]\n'
        '[adapters.probe]\nenabled = true\nmodule = "tests.support.probe_adapter:ProbeAdapter"\nextra = 5\n'
    )
    s = load_settings(cfg)
    assert s.storage.backend == "memory" and s.storage.pool_size == 3 and s.grpc.ports == [7000]
    assert s.adapters["probe"].table() == {
        "enabled": True,
        "module": "tests.support.probe_adapter:ProbeAdapter",
        "extra": 5,
    }
    monkeypatch.setenv("GATEWAY_STORAGE__BACKEND", "postgres")
    monkeypatch.setenv("GATEWAY_GRPC__PORTS", "[1, 2]")
    monkeypatch.setenv("GATEWAY_SCHEDULER__POLICY", "fair")
    monkeypatch.setenv("GATEWAY_ADAPTERS__PROBE__ENABLED", "false")
    s = load_settings(cfg)
    assert s.storage.backend == "postgres"
    assert s.storage.pool_size == 3  # untouched keys of an overridden section stay
    assert s.grpc.ports == [1, 2] and s.scheduler.policy == "fair"
    assert s.adapters["probe"].enabled is False and s.adapters["probe"].table()["extra"] == 5


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("GATEWAY_STORAGE__BACKEND", "mongo", "storage.backend = 'mongo'"),
        ("GATEWAY_GRPC__PORTS", "[1, 99999]", "grpc.ports.1 = 99999"),
        ("GATEWAY_HTTP__ADMIN_PORT", "x", "http.admin_port = 'x'"),
        ("GATEWAY_SCHEDULER__STEP_LEASE_SECONDS", "-1", "scheduler.step_lease_seconds = '-1'"),
    ],
)
def test_bad_value_names_key_and_value(monkeypatch: pytest.MonkeyPatch, env: str, value: str, expected: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert expected in message and "\n" not in message
    assert f"(from {env})" in message


def test_unknown_key_in_file(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text("[storage]\nbakend = 'memory'\n")
    with pytest.raises(ConfigError, match=r"storage\.bakend: unknown key"):
        load_settings(cfg)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(bad)


def test_cli_check_config_prints_effective_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_HTTP__METRICS_PORT", "9999")
    assert main(["check-config"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["http"]["metrics_port"] == 9999 and out["storage"]["backend"] == "sqlite"


def test_cli_bad_value_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_STORAGE__BACKEND", "mongo")
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "storage.backend = 'mongo'" in err and len(err.strip().splitlines()) == 1


def test_cli_enabled_adapter_that_cannot_load_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_ADAPTERS__NOPE__ENABLED", "true")
    monkeypatch.setenv("GATEWAY_ADAPTERS__NOPE__MODULE", "no.such.module:Adapter")
    assert main(["check-config"]) == 2
    assert "adapters.nope.module" in capsys.readouterr().err


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip()


def test_console_entry_exit_code_2_in_a_real_process(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text("[grpc]\nmax_message_bytes = 'lots'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert "grpc.max_message_bytes = 'lots'" in proc.stderr and "Traceback" not in proc.stderr


def test_default_file_parses_as_toml() -> None:
    assert "storage" in tomllib.loads(default_config_text())
