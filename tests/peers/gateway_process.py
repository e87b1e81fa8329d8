"""`GatewayProcess`: the real gateway (`python -m gateway serve`) as a subprocess on free 127.0.0.1 ports.

Configuration goes through env overrides (`GATEWAY_<SECTION>__<KEY>`), so the test owns ports, data
dir and backend. The process runs in its own session (process group) so `kill()` reaches any children
it spawned; its stdout/stderr go to `<data_dir>/gateway.log`, appended across restarts.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from tests.peers.envs import REPO_ROOT, tail

DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PROBE_MODULE = "tests.support.probe_adapter:ProbeAdapter"
HTTP_NAMES = ("ingress", "admin", "functions", "metrics")


KNOWN_GATEWAYS: list[GatewayProcess] = []
"""Every gateway started in this pytest process, so failure reports can show their logs."""


@atexit.register
def _kill_leftovers() -> None:
    """Last resort when a test run dies without fixture teardown: leave no gateway behind."""
    for gw in KNOWN_GATEWAYS:
        if gw.running:
            gw.kill(signal.SIGKILL, wait=2.0)


class GatewayStartError(RuntimeError):
    """The gateway exited or did not become ready; the message carries its log tail."""


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1 (all held open while choosing, so no duplicates)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def grpc_serving(port: int, service: str = "", timeout: float = 1.0) -> bool:
    """Whether the gRPC health service on `port` answers SERVING for `service`."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            resp = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return resp.status == health_pb2.HealthCheckResponse.SERVING


def _run_coro_in_thread(coro) -> None:
    """Run `coro` to completion on a fresh loop in a thread (safe whether or not a loop is running)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def drop_postgres_schema(dsn: str, schema: str) -> None:
    """`DROP SCHEMA "<schema>" CASCADE` (if it exists)."""
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    _run_coro_in_thread(drop())


class GatewayProcess:
    """One gateway process; `restart()` keeps its ports, data dir and postgres schema.

    Attributes after construction: `grpc_ports`, `http_ports` (ingress/admin/functions/metrics),
    `admin_url`, `metrics_url`, `ingress_url`, `functions_url`, `log_path`, `data_dir`, `env`.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        backend: str = "sqlite",
        grpc_port_count: int = 1,
        probe: bool = True,
        extra_env: dict[str, str] | None = None,
        postgres_dsn: str | None = None,
        ready_timeout: float = 30.0,
        config_file: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self.ready_timeout = ready_timeout
        self.config_file = config_file
        self.grpc_ports: list[int] = []
        self.http_ports: dict[str, int] = {}
        self._grpc_port_count = grpc_port_count
        self._ports_fixed = False  # after the first successful start, restarts keep the ports
        self.log_path = self.data_dir / "gateway.log"
        self.postgres_dsn = postgres_dsn or os.environ.get("GATEWAY_TEST_POSTGRES_DSN", DEFAULT_POSTGRES_DSN)
        self.postgres_schema = f"t_{uuid.uuid4().hex[:16]}" if backend == "postgres" else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.closed_at: float | None = None
        self.ready_seconds = 0.0
        self.env = self._build_env(probe, extra_env or {})
        self._assign_ports()

    # -- configuration -------------------------------------------------------------------------------
    def _build_env(self, probe: bool, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env["PYTHONUNBUFFERED"] = "1"
        env["GATEWAY_GRPC__HOST"] = "127.0.0.1"
        env["GATEWAY_HTTP__HOST"] = "127.0.0.1"
        env["GATEWAY_STORAGE__BACKEND"] = self.backend
        env["GATEWAY_STORAGE__SQLITE_PATH"] = str(self.data_dir / "gateway.db")
        if self.backend == "postgres":
            env["GATEWAY_STORAGE__POSTGRES_DSN"] = self.postgres_dsn
            env["GATEWAY_STORAGE__POSTGRES_SCHEMA"] = str(self.postgres_schema)
        if probe:
            env["GATEWAY_ADAPTERS__PROBE__ENABLED"] = "true"
            env["GATEWAY_ADAPTERS__PROBE__MODULE"] = PROBE_MODULE
        env.update(extra)
        return env

    def _assign_ports(self) -> None:
        ports = free_ports(self._grpc_port_count + len(HTTP_NAMES))
        self.grpc_ports = ports[: self._grpc_port_count]
        self.http_ports = dict(zip(HTTP_NAMES, ports[self._grpc_port_count :], strict=True))
        self.env["GATEWAY_GRPC__PORTS"] = json.dumps(self.grpc_ports)
        for name, port in self.http_ports.items():
            self.env[f"GATEWAY_HTTP__{name.upper()}_PORT"] = str(port)

    def url(self, name: str) -> str:
        """`http://127.0.0.1:<port>` of the HTTP listener `name`."""
        return f"http://127.0.0.1:{self.http_ports[name]}"

    @property
    def admin_url(self) -> str:
        return self.url("admin")

    @property
    def metrics_url(self) -> str:
        return self.url("metrics")

    @property
    def ingress_url(self) -> str:
        return self.url("ingress")

    @property
    def functions_url(self) -> str:
        return self.url("functions")

    @property
    def grpc_target(self) -> str:
        """`127.0.0.1:<first gRPC port>`."""
        return f"127.0.0.1:{self.grpc_ports[0]}"

    # -- lifecycle -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> GatewayProcess:
        """Start the process and wait until every gRPC port answers SERVING and admin/metrics listen.

        On the very first start, a port taken by someone else between choosing and binding (another
        xdist worker) gets fresh ports and another try; restarts always keep the ports.
        """
        for attempt in range(3):
            try:
                self._start_once()
            except GatewayStartError as exc:
                if self._ports_fixed or attempt == 2 or "in use" not in str(exc).lower():
                    raise
                self._assign_ports()
                continue
            self._ports_fixed = True
            break
        return self

    def _start_once(self) -> None:
        if self.running:
            raise RuntimeError("gateway already running")
        self.starts += 1
        self.closed_at = None
        if self not in KNOWN_GATEWAYS:
            KNOWN_GATEWAYS.append(self)
        cmd = [sys.executable, "-m", "gateway", "serve"]
        if self.config_file:
            cmd += ["--config", str(self.config_file)]
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== harness: start #{self.starts}: {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                cmd, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        try:
            self.wait_ready()
        except BaseException:
            self.kill(signal.SIGKILL)
            raise

    def wait_ready(self) -> float:
        """Block until ready; returns the seconds it took. Raises `GatewayStartError` on exit/timeout."""
        started = time.monotonic()
        deadline = started + self.ready_timeout
        pending_grpc = list(self.grpc_ports)
        pending_http = [self.http_ports["admin"], self.http_ports["metrics"]]
        while pending_grpc or pending_http:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise GatewayStartError(
                    f"gateway exited with {self.proc.returncode} before ready\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise GatewayStartError(
                    f"gateway not ready after {self.ready_timeout}s (waiting for gRPC {pending_grpc},"
                    f" HTTP {pending_http})\n{self.log_tail()}"
                )
            pending_grpc = [p for p in pending_grpc if not grpc_serving(p, timeout=0.5)]
            pending_http = [p for p in pending_http if not port_open(p)]
            if pending_grpc or pending_http:
                time.sleep(0.05)
        self.ready_seconds = time.monotonic() - started
        return self.ready_seconds

    def kill(self, sig: int = signal.SIGKILL, wait: float = 10.0) -> int | None:
        """Send `sig` to the gateway's process group and wait for it; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        else:
            self._reap_group()
        return self.proc.returncode

    def _reap_group(self) -> None:
        # The leader may be gone while children it spawned (worker processes) linger.
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
        self._reap_group()
        return self.proc.returncode

    def restart(self, sig: int | None = None) -> GatewayProcess:
        """Stop (or `kill(sig)`) if running, then start again on the same ports, data and schema."""
        if self.running:
            if sig is None:
                self.stop()
            else:
                self.kill(sig)
        return self.start()

    def close(self) -> None:
        """Stop the process and drop the postgres schema (if any). Idempotent."""
        try:
            self.stop()
        finally:
            self.closed_at = time.monotonic()
            if self.postgres_schema:
                schema, self.postgres_schema = self.postgres_schema, None
                drop_postgres_schema(self.postgres_dsn, schema)

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- logs ----------------------------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        return f"--- gateway log tail ({self.log_path}) ---\n{tail(self.log_text(), lines)}"
