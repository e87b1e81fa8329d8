"""Data folders `<shared>/<token>` and the files in them, kept off the event loop where possible.

Creating and removing a directory is a journaled metadata operation: on an ext4 VM disk it costs
50-250 us of kernel time each, which on the event loop thread is time no RPC is served. So one
helper thread creates folders ahead (a token is minted with its folder, `take()` pops a ready one)
and removes finished folders behind (`discard()` queues it). The loop only writes the staged inputs
and reads the notified outputs. Nothing waits on the helper: `take()` falls back to creating the
folder inline when none is ready, and `remove()` (used when a folder must be gone before going on,
e.g. after a timeout) removes it inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import shutil
import threading
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("gateway.armonik")

_BIG = 1 << 20
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_REFILL = ""  # a queue item: top the ready folders up


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, _WRITE_FLAGS, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _read(path: str) -> bytes:
    fd = os.open(path, _READ_FLAGS)
    try:
        chunks = []
        while chunk := os.read(fd, _BIG):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _size(path: str) -> int:
    return os.stat(path).st_size


async def write_file(path: str, data: bytes) -> None:
    """Small files inline (cheaper than a thread hop), large ones in a thread."""
    if len(data) > _BIG:
        await asyncio.to_thread(_write, path, data)
    else:
        _write(path, data)


async def read_file(path: str) -> bytes:
    if _size(path) > _BIG:
        return await asyncio.to_thread(_read, path)
    return _read(path)


def _stage(folder: str, files: list[tuple[str, bytes]]) -> None:
    for name, data in files:
        _write(os.path.join(folder, name), data)


def remove_tree(folder: str) -> None:
    """Remove a data folder: its files (the common case), else whatever the worker left there."""
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
        os.rmdir(folder)
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)


class Folders:
    """Token + folder minting and folder removal for every executor of the adapter."""

    def __init__(self, shared: str, ahead: int) -> None:
        self.shared = shared
        self.ahead = max(0, ahead)
        #: Tokens whose folder exists and is empty (appended by the helper, popped by the loop).
        self.ready: deque[str] = deque()
        self._work: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stager: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="armonik-folders", daemon=True)
        self._thread.start()
        self._work.put(_REFILL)
        self._stager = ThreadPoolExecutor(1, thread_name_prefix="armonik-stage")

    async def stage(self, folder: str, files: list[tuple[str, bytes]]) -> None:
        """Write a task's inputs into its folder: small ones inline (a thread hop costs more latency
        than it saves), large ones in a thread."""
        if self._stager is None or sum(len(data) for _, data in files) <= _BIG:
            _stage(folder, files)
        else:
            await asyncio.get_running_loop().run_in_executor(self._stager, _stage, folder, files)

    def path(self, token: str) -> str:
        return os.path.join(self.shared, token)

    def take(self) -> tuple[str, str]:
        """A fresh communication token and its (existing, empty) data folder."""
        try:
            token = self.ready.popleft()
        except IndexError:
            token = str(uuid.uuid4())
            os.mkdir(self.path(token))
        if self._thread is not None:
            self._work.put(_REFILL)
        return token, self.path(token)

    def discard(self, folder: str) -> None:
        """Remove `folder` soon, off the loop (or inline when the helper is not running)."""
        if self._thread is not None:
            self._work.put(folder)
        else:
            remove_tree(folder)

    def remove(self, folder: str) -> None:
        """Remove `folder` now."""
        remove_tree(folder)

    async def close(self) -> None:
        stager, self._stager = self._stager, None
        if stager is not None:
            stager.shutdown(wait=False)
        thread, self._thread = self._thread, None
        if thread is not None:
            self._work.put(None)
            await asyncio.to_thread(thread.join, 10.0)
        while self.ready:
            remove_tree(self.path(self.ready.popleft()))

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            try:
                if item == _REFILL:
                    while len(self.ready) < self.ahead:
                        token = str(uuid.uuid4())
                        os.mkdir(self.path(token))
                        self.ready.append(token)
                else:
                    remove_tree(item)
            except OSError as exc:
                log.warning("armonik data folders: %s", exc)
