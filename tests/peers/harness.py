"""The real-peer harness: cached peer environments, the gateway as a process, and peer runs.

Typical use in a peer test (fixtures in `tests/peers/conftest.py` wrap the first two)::

    env = python_venv("health", python="3.11", requirements=["grpcio==1.85.1", ...])
    with GatewayProcess(tmp_path / "gw", grpc_port_count=2) as gw:
        result = run_peer(env, [HERE / "peer.py", "--target", gw.grpc_target], gateway=gw)
        assert result.returncode == 0 and "PASS" in result.output

`run_peer` raises `PeerFailed` (an AssertionError) with the tails of the peer's and the gateway's logs
when the peer exits non-zero or times out; the conftest hook also appends both tails to the report of
any failing test that ran a peer or a gateway. Long-running peers (workers, SDK services) use
`start_peer` (or the `peer_procs` fixture) and `PeerProcess.wait_for_output` / `.stop()`.

Node peers: `node_folder("zbctl", ["zbctl@8.4.1"])`, then `run_peer(env, [env.node_modules / ...])`
or a `.js` script (run by `node` with `NODE_PATH` set to the folder's `node_modules`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.peers.envs import (
    PEERS_DIR,
    REPO_ROOT,
    PeerBuildError,
    PeerEnv,
    file_lock,
    find_python,
    node_folder,
    python_venv,
    tail,
)
from tests.peers.gateway_process import (
    KNOWN_GATEWAYS,
    GatewayProcess,
    GatewayStartError,
    free_ports,
    grpc_serving,
)

__all__ = [
    "PEERS_DIR",
    "REPO_ROOT",
    "GatewayProcess",
    "GatewayStartError",
    "PeerBuildError",
    "PeerEnv",
    "PeerFailed",
    "PeerProcess",
    "PeerResult",
    "file_lock",
    "find_python",
    "free_ports",
    "grpc_serving",
    "live_logs",
    "node_folder",
    "python_venv",
    "run_peer",
    "start_peer",
    "tail",
]


class PeerFailed(AssertionError):
    """A peer exited non-zero or timed out; the message has the peer's and gateway's log tails."""


@dataclass
class PeerResult:
    """The outcome of one peer run."""

    args: list[str]
    returncode: int | None  # None: killed on timeout
    output: str
    log_path: Path
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


class _LogRegistry:
    """Logs of the current test's peers and gateways, for failure reports."""

    def __init__(self) -> None:
        self.peer_logs: list[tuple[str, Path]] = []
        self.test_started = 0.0

    def reset(self) -> None:
        """Called at each test's start: forget earlier peers and gateways closed before now."""
        self.peer_logs.clear()
        self.test_started = time.monotonic()

    def gateways(self) -> list[GatewayProcess]:
        """Gateways alive now or closed during the current test."""
        return [gw for gw in KNOWN_GATEWAYS if gw.closed_at is None or gw.closed_at >= self.test_started]

    def sections(self, lines: int = 60) -> list[tuple[str, str]]:
        out = []
        for name, path in self.peer_logs:
            text = path.read_text(errors="replace") if path.exists() else "(no log)"
            out.append((f"peer log tail: {name}", tail(text, lines)))
        for gw in self.gateways():
            out.append((f"gateway log tail: {gw.log_path}", tail(gw.log_text(), lines)))
        return out


live_logs = _LogRegistry()


def _argv(env: PeerEnv | None, script_or_args: str | Path | Sequence[str | Path]) -> list[str]:
    if isinstance(script_or_args, str | Path):
        script_or_args = [script_or_args]
    args = [str(a) for a in script_or_args]
    if env is not None and env.kind == "python" and args[0].endswith(".py"):
        args = [str(env.python), *args]
    elif env is not None and env.kind == "node" and args[0].endswith((".js", ".mjs", ".cjs")):
        args = ["node", *args]
    return args


def _peer_env(env: PeerEnv | None, extra_env: Mapping[str, str] | None) -> dict[str, str]:
    penv = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    penv["PYTHONUNBUFFERED"] = "1"
    penv["NO_PROXY"] = penv["no_proxy"] = "127.0.0.1,localhost"
    if env is not None and env.kind == "python":
        penv["VIRTUAL_ENV"] = str(env.path)
        penv["PATH"] = f"{env.path / 'bin'}{os.pathsep}{penv.get('PATH', '')}"
    elif env is not None and env.kind == "node":
        penv["NODE_PATH"] = str(env.node_modules)
        penv["PATH"] = f"{env.node_modules / '.bin'}{os.pathsep}{penv.get('PATH', '')}"
    penv.update(extra_env or {})
    return penv


def _prepare(
    env: PeerEnv | None,
    script_or_args: str | Path | Sequence[str | Path],
    name: str | None,
    log_dir: Path | None,
    gateway: GatewayProcess | None,
) -> tuple[list[str], str, Path]:
    args = _argv(env, script_or_args)
    scripts = [a for a in args if a.endswith((".py", ".js", ".mjs", ".cjs"))]
    name = name or Path(scripts[0] if scripts else args[0]).stem
    log_dir = Path(log_dir or (gateway.data_dir if gateway else PEERS_DIR / "_logs"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"peer-{name}-{time.strftime('%H%M%S')}-{time.monotonic_ns() % 10**6}.log"
    live_logs.peer_logs.append((name, log_path))
    return args, name, log_path


def run_peer(
    env: PeerEnv | None,
    script_or_args: str | Path | Sequence[str | Path],
    *,
    timeout: float = 60.0,
    extra_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    gateway: GatewayProcess | None = None,
    log_dir: Path | None = None,
    name: str | None = None,
    check: bool = True,
) -> PeerResult:
    """Run a peer to completion and capture its output to a log file.

    `script_or_args`: a `.py` script (run by the venv's python), a `.js` file (run by node with the
    folder's `node_modules` resolvable), or a full argv. The peer runs in its own process group, which
    is killed on timeout. With `check` (the default) a non-zero exit or a timeout raises `PeerFailed`
    carrying the peer's log tail and, if `gateway` is given, the gateway's.
    """
    args, name, log_path = _prepare(env, script_or_args, name, log_dir, gateway)

    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            args, cwd=cwd or (env.path if env else REPO_ROOT), env=_peer_env(env, extra_env),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        returncode: int | None = None  # stays None on timeout
        try:
            returncode = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:  # also on timeout or interrupt: never leave the peer (or its children) behind
            _kill_group(proc)
    result = PeerResult(
        args=args, returncode=returncode, output=log_path.read_text(errors="replace"),
        log_path=log_path, seconds=time.monotonic() - started,
    )
    if check and returncode != 0:
        what = f"timed out after {timeout}s" if returncode is None else f"exited with {returncode}"
        parts = [f"peer {name} {what}: {' '.join(args)}", f"--- peer log tail ({log_path}) ---",
                 tail(result.output)]
        if gateway is not None:
            parts.append(gateway.log_tail(60))
        raise PeerFailed("\n".join(parts))
    return result


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(5)


class PeerProcess:
    """A long-running peer (a worker, an SDK service, a server) started by `start_peer`."""

    def __init__(self, args: list[str], name: str, log_path: Path, proc: subprocess.Popen[bytes]) -> None:
        self.args, self.name, self.log_path, self.proc = args, name, log_path, proc

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_output(self, text: str, timeout: float = 30.0) -> None:
        """Block until `text` appears in the peer's output; `PeerFailed` if it exits or times out."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if not self.running or time.monotonic() > deadline:
                what = f"exited with {self.proc.returncode}" if not self.running else f"timed out ({timeout}s)"
                raise PeerFailed(f"peer {self.name} {what} before printing {text!r}\n{tail(self.output())}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, grace: float = 5.0) -> int | None:
        """Signal the peer's process group, SIGKILL after `grace`; returns the exit code."""
        if self.running:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(grace)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        _kill_group(self.proc)
        return self.proc.returncode


def start_peer(
    env: PeerEnv | None,
    script_or_args: str | Path | Sequence[str | Path],
    *,
    extra_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    gateway: GatewayProcess | None = None,
    log_dir: Path | None = None,
    name: str | None = None,
) -> PeerProcess:
    """Start a peer in the background (own process group, output to a log); call `.stop()` when done,
    or use the `peer_procs` fixture, which stops every peer it started at teardown."""
    args, name, log_path = _prepare(env, script_or_args, name, log_dir, gateway)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            args, cwd=cwd or (env.path if env else REPO_ROOT), env=_peer_env(env, extra_env),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    return PeerProcess(args, name, log_path, proc)
