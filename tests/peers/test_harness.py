"""Tests of the harness itself: env cache and rebuild rules, locking between processes, free ports."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers import envs
from tests.peers.harness import (
    PeerBuildError,
    PeerFailed,
    PeerProcess,
    find_python,
    free_ports,
    node_folder,
    python_venv,
    run_peer,
)


@pytest.fixture
def peers_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(envs, "PEERS_DIR", tmp_path / "peers")
    return tmp_path / "peers"


@pytest.mark.parametrize(("version", "prefix"), [("3.9", "3.9."), ("3.11", "3.11."), ("3.13", "3.13.")])
def test_find_python(version: str, prefix: str) -> None:
    exe = find_python(version)
    assert envs.python_version_of(exe).startswith(prefix)


def test_find_python_missing() -> None:
    with pytest.raises(PeerBuildError, match=r"no Python 2\.1"):
        find_python("2.1")


def test_python_venv_builds_once_then_hits_cache(peers_dir: Path) -> None:
    first = python_venv("t", python="3.9")
    assert first.built and first.path.parent == peers_dir
    assert (first.path / envs.MARKER).exists()
    assert json.loads((first.path / envs.MARKER).read_text())["python"].startswith("3.9.")
    out = subprocess.run([first.python, "-c", "import sys; print(sys.prefix)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out) == first.path
    second = python_venv("t", python="3.9")
    assert not second.built and second.path == first.path
    assert envs._key({**first.spec, "requirements": ["x==1"]}) != first.key  # pins are in the key


def test_failed_build_raises_with_output_tail_and_leaves_no_env(peers_dir: Path) -> None:
    # npm on a missing local folder fails fast and offline; pip failures take the same path (_run).
    with pytest.raises(PeerBuildError) as info:
        node_folder("bad", packages=["file:./no-such-dir-for-harness-test"])
    assert "npm install for bad failed (exit" in str(info.value)
    assert "no-such-dir-for-harness-test" in str(info.value)  # the installer's own words
    assert not [p for p in peers_dir.iterdir() if p.is_dir()]  # no half-built env left to reuse


def test_half_built_env_is_rebuilt(peers_dir: Path) -> None:
    spec = {"kind": "fake", "n": 1}
    calls = []

    def build(path: Path) -> None:
        path.mkdir()
        (path / "ok").write_text("x")
        calls.append(path)

    half = peers_dir / f"fake-{envs._key(spec)}"
    half.mkdir(parents=True)
    (half / "junk").write_text("left by a killed build")
    env = envs._cached_build("fake", "fake", spec, build)
    assert env.built and calls == [half]
    assert not (half / "junk").exists() and (half / "ok").exists()
    assert not envs._cached_build("fake", "fake", spec, build).built
    assert len(calls) == 1


def test_concurrent_builders_build_once(peers_dir: Path, tmp_path: Path) -> None:
    """Two processes asking for one env at once: one builds (slowly), the other waits and reuses it."""
    script = tmp_path / "builder.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(envs.REPO_ROOT)!r})
        from tests.peers import envs
        envs.PEERS_DIR = Path({str(peers_dir)!r})
        def build(path):
            path.mkdir()
            with open({str(tmp_path / "count")!r}, "a") as f:
                f.write("built\\n")
            time.sleep(1.0)
        env = envs._cached_build("fake", "race", {{"k": 1}}, build)
        print("BUILT" if env.built else "HIT")
    """))
    procs = [subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = sorted(p.communicate(timeout=30)[0].strip() for p in procs)
    assert all(p.returncode == 0 for p in procs)
    assert outs == ["BUILT", "HIT", "HIT"]
    assert (tmp_path / "count").read_text() == "built\n"


def test_node_folder_cache(peers_dir: Path) -> None:
    env = node_folder("empty", packages=[])
    assert env.built and (env.path / "package.json").exists()
    assert not node_folder("empty", packages=[]).built


def test_free_ports_distinct_and_bindable() -> None:
    ports = free_ports(6)
    assert len(set(ports)) == 6
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_run_peer_failure_carries_log_tail(tmp_path: Path) -> None:
    script = tmp_path / "peer_fails.py"
    script.write_text("print('about to fail'); raise SystemExit(3)\n")
    with pytest.raises(PeerFailed, match=r"(?s)exited with 3.*about to fail"):
        run_peer(None, [sys.executable, script], log_dir=tmp_path, name="fails")
    ok = run_peer(None, [sys.executable, "-c", "print('PASS')"], log_dir=tmp_path, name="ok")
    assert ok.returncode == 0 and "PASS" in ok.output


def test_run_peer_timeout_kills_the_peer(tmp_path: Path) -> None:
    result = run_peer(None, [sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5,
                      log_dir=tmp_path, name="sleeper", check=False)
    assert result.timed_out and result.seconds < 10


def test_background_peer_is_stopped_with_its_children(
    tmp_path: Path, peer_procs: Callable[..., PeerProcess]
) -> None:
    code = "import subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', 'import time; " \
        "time.sleep(60)']); print('READY', c.pid, flush=True); time.sleep(60)"
    peer = peer_procs(None, [sys.executable, "-c", code], log_dir=tmp_path, name="server")
    peer.wait_for_output("READY", timeout=10)
    grandchild = int(peer.output().split()[1])
    assert peer.running
    assert peer.stop() is not None and not peer.running
    for _ in range(50):  # the grandchild is killed too (gone, or a zombie awaiting its reaper)
        status = Path(f"/proc/{grandchild}/status")
        if not status.exists() or "State:\tZ" in status.read_text():
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"grandchild {grandchild} still alive")
