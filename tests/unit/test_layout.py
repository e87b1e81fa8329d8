"""Layout rules (DESIGN section 2), checked by walking the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTER_ALLOWED = {"gateway.model", "gateway.ports", "gateway.errors"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _sources(folder: str) -> list[Path]:
    return [p for p in (ROOT / folder).rglob("*.py") if "_pb" not in p.parts]


def test_core_never_imports_adapters() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in _sources("gateway")
        for name in _imports(p)
        if name == "adapters" or name.startswith("adapters.")
    ]
    assert offenders == []


def test_adapters_touch_only_model_ports_errors_and_never_each_other() -> None:
    offenders = []
    for p in _sources("adapters"):
        parts = p.relative_to(ROOT / "adapters").parts
        own = f"adapters.{parts[0]}" if len(parts) > 1 else "adapters"
        for name in _imports(p):
            if name.startswith("gateway") and name not in ADAPTER_ALLOWED:
                offenders.append(f"{p.relative_to(ROOT)}: {name}")
            if name.startswith("adapters.") and not (name == own or name.startswith(own + ".")):
                offenders.append(f"{p.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_the_check_sees_the_code() -> None:
    assert len(_sources("gateway")) >= 8
