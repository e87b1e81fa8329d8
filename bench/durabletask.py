"""Durable Task front-end benchmark: the real SDK against the gateway and against the SDK's reference.

Both sidecars serve the same unmodified durabletask==1.12.0 worker and client, in the same run:
- gateway: `gateway serve` as a subprocess (Durable Task adapter only, SQLite by default, free ports);
- reference: the SDK's `durabletask.testing.InMemoryOrchestrationBackend` on its own 127.0.0.1
  `grpc.server` in a subprocess of the SDK venv (`bench/dt_sdk_driver.py --role reference`).

The load (`bench/dt_sdk_driver.py --role load`, also in the SDK venv, built or reused exactly as the
peer tests do) runs a `TaskHubGrpcWorker` and `--concurrency` closed-loop async clients; each
orchestration runs ONE activity. Reported: orchestrations/s, start-to-complete p50/p99 under that
load, and p50/p99 of orchestrations run one at a time. Each `--repeat` measures both targets
(alternating which goes first); the table shows medians and the gateway/reference ratio.

Usage: `python bench/durabletask.py [--seconds 10] [--concurrency 32] [--repeat 3] [--backend sqlite]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.peers.envs import PeerEnv, python_venv  # noqa: E402
from tests.peers.gateway_process import GatewayProcess, free_ports  # noqa: E402

DRIVER = ROOT / "bench" / "dt_sdk_driver.py"
# `-P`: the driver's folder must not go first on sys.path, or this file would shadow the SDK package.
FIELDS = ("rate", "p50", "p99", "quiet_p50", "quiet_p99", "cpu_ms")


def start_reference(env: PeerEnv, threads: int) -> tuple[subprocess.Popen[str], str]:
    port = free_ports(1)[0]
    proc = subprocess.Popen(
        [str(env.python), "-P", str(DRIVER), "--role", "reference", "--port", str(port), "--threads", str(threads)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "READY" not in line:
        proc.kill()
        raise RuntimeError(f"the reference sidecar did not start (said {line!r})")
    return proc, f"127.0.0.1:{port}"


def stop_reference(proc: subprocess.Popen[str]) -> None:
    try:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(5)


def run_load(env: PeerEnv, host: str, ns: argparse.Namespace) -> dict[str, float]:
    cmd = [
        str(env.python), "-P", str(DRIVER), "--role", "load", "--host", host, "--seconds", str(ns.seconds),
        "--warmup", str(ns.warmup), "--concurrency", str(ns.concurrency), "--samples", str(ns.samples),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=ns.seconds + ns.warmup + 300, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"load driver failed against {host}:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if result.get("failures"):
        raise RuntimeError(f"{result['failures']} orchestrations did not complete correctly on {host}")
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--samples", type=int, default=50, help="orchestrations run one at a time, per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", default="sqlite", choices=["memory", "sqlite", "postgres"])
    ns = parser.parse_args()

    env = python_venv("durabletask", python="3.11", requirements=["durabletask==1.12.0"])
    gw_env = {
        "GATEWAY_ADAPTERS__DURABLETASK__ENABLED": "true", "GATEWAY_ADAPTERS__ZEEBE__ENABLED": "false",
        "GATEWAY_LOG__LEVEL": "WARNING",
    }
    gw = GatewayProcess(Path(tempfile.mkdtemp(prefix="bench-dt-")), backend=ns.backend, probe=False,
                        extra_env=gw_env)
    ref = None
    runs: dict[str, list[dict[str, float]]] = {"gateway": [], "reference": []}
    try:
        gw.start()
        ref, ref_host = start_reference(env, threads=ns.concurrency + 32)
        hosts = {"gateway": gw.grpc_target, "reference": ref_host}
        pids = {"gateway": gw.pid, "reference": ref.pid}
        print(f"load avg {loadavg()}; {ns.repeat} runs x {ns.seconds:g} s, {ns.concurrency} clients", flush=True)
        for i in range(ns.repeat):
            order = ["gateway", "reference"] if i % 2 == 0 else ["reference", "gateway"]
            for target in order:
                cpu = cpu_seconds(pids[target])
                r = run_load(env, hosts[target], ns)
                # The sidecar's own CPU per orchestration (all of this run's, warm-up and one-at-a-time
                # included): the least noisy figure on a shared machine.
                r["cpu_ms"] = (cpu_seconds(pids[target]) - cpu) * 1000 / r["total"]
                runs[target].append(r)
                print(f"  run {i + 1} {target:9s} {r['rate']:7.1f}/s p50 {r['p50']:6.1f} ms p99 {r['p99']:6.1f} ms"
                      f"  one-at-a-time p50 {r['quiet_p50']:5.1f} ms  sidecar CPU {r['cpu_ms']:.2f} ms/orch",
                      flush=True)
    finally:
        if ref is not None:
            stop_reference(ref)
        gw.close()

    med = {t: {f: statistics.median(r[f] for r in rs) for f in FIELDS} for t, rs in runs.items()}
    ratios = [g["rate"] / r["rate"] for g, r in zip(runs["gateway"], runs["reference"], strict=True)]
    print()
    print(f"durabletask==1.12.0, one activity per orchestration; {platform.node()}, Python "
          f"{platform.python_version()}; gateway on {ns.backend}; medians of {ns.repeat} runs")
    print(f"{'target':10s} {'orch/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'1-at-a-time p50':>16s} {'p99':>7s}"
          f" {'CPU ms/orch':>12s}")
    for t in ("gateway", "reference"):
        m = med[t]
        print(f"{t:10s} {m['rate']:8.1f} {m['p50']:8.1f} {m['p99']:8.1f} {m['quiet_p50']:16.1f} {m['quiet_p99']:7.1f}"
              f" {m['cpu_ms']:12.2f}")
    print(f"ratio gateway/reference (throughput): median {statistics.median(ratios):.2f}x "
          f"(runs: {', '.join(f'{x:.2f}' for x in ratios)})")
    print(f"load avg after: {loadavg()}")


if __name__ == "__main__":
    main()
