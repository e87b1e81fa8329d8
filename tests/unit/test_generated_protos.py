"""The committed generated code matches the .proto sources (regenerated with pinned grpcio-tools)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_fresh() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.genprotos", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
