"""Generate Python code for every adapter's protos: `protos/<adapter>/*.proto` -> `adapters/<adapter>/_pb/`.

Run with `make protos` (pinned grpcio-tools). Imports between generated modules are rewritten to
relative ones so each adapter's `_pb` package is self-contained. `--check` regenerates into a
temporary folder and fails if the committed output differs (a test runs it).
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
ADAPTERS = ROOT / "adapters"
_IMPORT = re.compile(r"^import (\w+_pb2(?:_grpc)?) as (\w+)$", re.M)
_FROM = re.compile(r"^from ((?:\w+\.)*)(\w+_pb2) import", re.M)


def _include_dir() -> str:
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


def generate(adapter: str, out: Path) -> None:
    src = PROTOS / adapter
    files = sorted(str(p.relative_to(src)) for p in src.rglob("*.proto"))
    if not files:
        return
    out.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{src}",
        f"-I{_include_dir()}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed for {adapter}")
    local = {p.stem for p in out.rglob("*_pb2*.py")}
    for path in out.rglob("*.py*"):
        text = path.read_text()
        text = _IMPORT.sub(lambda m: _rel(m, local), text)
        text = _FROM.sub(lambda m: "from . import" if m.group(2) in local and not m.group(1) else m.group(0), text)
        path.write_text(text)
    (out / "__init__.py").write_text('"""Generated protobuf code (make protos). Do not edit."""\n')


def _rel(m: re.Match[str], local: set[str]) -> str:
    return f"from . import {m.group(1)} as {m.group(2)}" if m.group(1) in local else m.group(0)


def adapters_with_protos() -> list[str]:
    return sorted(p.name for p in PROTOS.iterdir() if p.is_dir()) if PROTOS.exists() else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed output is stale")
    ns = parser.parse_args()
    stale = []
    for adapter in adapters_with_protos():
        target = ADAPTERS / adapter / "_pb"
        if ns.check:
            with tempfile.TemporaryDirectory() as tmp:
                fresh = Path(tmp) / "_pb"
                generate(adapter, fresh)
                if not target.exists() or _differs(fresh, target):
                    stale.append(adapter)
        else:
            if target.exists():
                shutil.rmtree(target)
            generate(adapter, target)
            print(f"generated {target.relative_to(ROOT)}")
    if stale:
        print(f"stale generated code for: {', '.join(stale)} (run `make protos`)", file=sys.stderr)
        return 1
    return 0


def _differs(a: Path, b: Path) -> bool:
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    if names_a != names_b:
        return True
    return any(not filecmp.cmp(a / n, b / n, shallow=False) for n in names_a)


if __name__ == "__main__":
    raise SystemExit(main())
