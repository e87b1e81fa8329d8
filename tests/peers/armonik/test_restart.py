"""The gateway is `kill -9`ed with tasks pending and running, restarted on the same database; every
result then arrives exactly once (sqlite, the embedded default backend)."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from tests.peers.armonik.conftest import start_gateway
from tests.peers.harness import PeerEnv, run_peer

HERE = Path(__file__).parent
pytestmark = pytest.mark.xdist_group("armonik")


def test_kill9_restart_every_result_once(armonik_env: PeerEnv, tmp_path: Path) -> None:
    ak, run_dir = start_gateway(tmp_path, armonik_env, workers=2)
    state = tmp_path / "state.json"
    try:
        run_peer(armonik_env, [HERE / "client_restart.py", "--target", ak.target, "--phase", "submit",
                               "--state", str(state), "--worker-log", str(ak.worker_log)],
                 gateway=ak.gw, timeout=60, name="armonik-restart-submit")
        ak.gw.kill(signal.SIGKILL)  # the process group: the gateway and the workers it started
        ak.gw.start()
        result = run_peer(armonik_env, [HERE / "client_restart.py", "--target", ak.target, "--phase", "verify",
                                        "--state", str(state)],
                          gateway=ak.gw, timeout=90, name="armonik-restart-verify")
        assert result.output.splitlines()[-1] == "PASS"
        assert "requeued" in ak.gw.log_text()
    finally:
        ak.gw.close()
        shutil.rmtree(run_dir, ignore_errors=True)
