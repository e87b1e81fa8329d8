"""Peer environments: Python virtualenvs and node folders, built once and cached under `.peers/`.

An environment lives in `<repo>/.peers/<name>-<key>/`, where `key` hashes what makes it: the kind, the
interpreter's (or node's) exact version and the pinned requirements. A `.complete` marker is written
only after every install step succeeded, so a half-built folder (a killed run, a failed install) is
wiped and rebuilt on the next use. Builds hold an exclusive `fcntl.flock` on `<name>-<key>.lock`, so
two pytest-xdist workers asking for the same environment build it once: the second waits, then finds
the marker. A failed build raises `PeerBuildError` with the tail of the installer's output; a missing
peer is a test failure, never a skip.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = REPO_ROOT / ".peers"
MARKER = ".complete"
INSTALL_TIMEOUT = 900.0


class PeerBuildError(RuntimeError):
    """Building a peer environment failed; the message carries the installer's output tail."""


@dataclass
class PeerEnv:
    """A ready peer environment: a virtualenv (`kind="python"`) or a node folder (`kind="node"`)."""

    kind: str
    name: str
    path: Path
    key: str
    spec: dict[str, object] = field(default_factory=dict)
    built: bool = False  # True when this call built it, False on a cache hit
    build_seconds: float = 0.0

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.path / "bin" / "python"

    def bin(self, name: str) -> Path:
        """An executable of the venv (`bin/<name>`) or of the node folder (`node_modules/.bin/<name>`)."""
        if self.kind == "node":
            return self.path / "node_modules" / ".bin" / name
        return self.path / "bin" / name

    @property
    def node_modules(self) -> Path:
        """The node folder's `node_modules`."""
        return self.path / "node_modules"


def tail(text: str, lines: int = 60) -> str:
    """The last `lines` lines of `text`."""
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def find_python(version: str) -> Path:
    """The interpreter for `version` ("3.11", "3.9.18"): the newest matching pyenv version, else PATH."""
    roots = []
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    pyenv = shutil.which("pyenv")
    if pyenv:
        out = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            roots.append(Path(out))
    roots.append(Path.home() / ".pyenv")
    short = ".".join(version.split(".")[:2])
    for root in roots:
        candidates = [
            d for d in (root / "versions").glob(f"{version}*")
            if d.name == version or d.name.startswith(version + ".")
        ]
        candidates.sort(key=lambda d: tuple(int(p) for p in d.name.split(".") if p.isdigit()))
        for d in reversed(candidates):
            exe = d / "bin" / f"python{short}"
            if exe.exists():
                return exe
    found = shutil.which(f"python{short}")
    if found:
        return Path(found)
    raise PeerBuildError(f"no Python {version} interpreter: looked in pyenv roots {roots} and PATH")


def _run(cmd: Sequence[str | os.PathLike[str]], cwd: Path | None, what: str) -> str:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    try:
        proc = subprocess.run(
            [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=INSTALL_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise PeerBuildError(f"{what} timed out after {INSTALL_TIMEOUT}s\n{tail(out)}") from exc
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise PeerBuildError(
            f"{what} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n{tail(output)}"
        )
    return output


def _key(spec: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _cached_build(kind: str, name: str, spec: dict[str, object], build) -> PeerEnv:
    """Return the cached env for `spec`, building it under the lock with `build(path)` if needed."""
    key = _key(spec)
    path = PEERS_DIR / f"{name}-{key}"
    env = PeerEnv(kind=kind, name=name, path=path, key=key, spec=spec)
    if (path / MARKER).exists():
        return env
    with file_lock(PEERS_DIR / f"{name}-{key}.lock"):
        if (path / MARKER).exists():  # another worker finished it while we waited
            return env
        if path.exists():
            shutil.rmtree(path)  # half-built leftovers
        started = time.monotonic()
        try:
            build(path)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        env.built = True
        env.build_seconds = time.monotonic() - started
        tmp = path / (MARKER + ".tmp")
        tmp.write_text(json.dumps({**spec, "build_seconds": round(env.build_seconds, 1)}, indent=1))
        tmp.replace(path / MARKER)
    return env


def python_version_of(exe: Path) -> str:
    """The full version ("3.11.7") of an interpreter."""
    out = _run([exe, "-c", "import platform; print(platform.python_version())"], None, "python -V")
    return out.strip().splitlines()[-1]


def python_venv(
    name: str,
    python: str = "3.11",
    requirements: Sequence[str] = (),
    extra_steps: Sequence[Sequence[str]] = (),
) -> PeerEnv:
    """A cached virtualenv on Python `python` with the pinned `requirements` installed.

    `extra_steps` are further `pip install` argument lists run in order after the requirements (e.g.
    `[["--no-deps", "pyzeebe==2.4.0"]]`); they are part of the cache key.
    """
    exe = find_python(python)
    spec: dict[str, object] = {
        "kind": "python",
        "python": python_version_of(exe),
        "requirements": list(requirements),
        "extra_steps": [list(s) for s in extra_steps],
    }

    def build(path: Path) -> None:
        _run([exe, "-m", "venv", path], None, f"venv {name}")
        pip = [path / "bin" / "python", "-m", "pip", "install", "-q"]
        if requirements:
            _run([*pip, *requirements], None, f"pip install for {name}")
        for step in extra_steps:
            _run([*pip, *step], None, f"pip install step for {name}")

    return _cached_build("python", name, spec, build)


def node_folder(name: str, packages: Sequence[str]) -> PeerEnv:
    """A cached node folder with the pinned npm `packages` installed in `node_modules`."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        raise PeerBuildError("node/npm not found on PATH")
    spec: dict[str, object] = {
        "kind": "node",
        "node": _run([node, "--version"], None, "node --version").strip(),
        "packages": list(packages),
    }

    def build(path: Path) -> None:
        path.mkdir(parents=True)
        (path / "package.json").write_text(json.dumps({"name": f"peer-{name}", "private": True}))
        _run(
            [npm, "install", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error",
             *packages],
            path, f"npm install for {name}",
        )

    return _cached_build("node", name, spec, build)
