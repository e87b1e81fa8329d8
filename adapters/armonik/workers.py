"""Worker processes the gateway starts itself (`command` in the config), restarted if they die.

Each gets the SDK's environment: `ComputePlane__WorkerChannel__Address` (its own unix socket, a
stale file removed first) and `ComputePlane__AgentChannel__Address` (the gateway's agent socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from .config import Worker

log = logging.getLogger("gateway.armonik")


class Supervisor:
    def __init__(self, workers: list[Worker], agent_socket: str, restart_delay: float) -> None:
        self.workers = [w for w in workers if w.command]
        self.agent_socket = agent_socket
        self.restart_delay = restart_delay
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.restarts = 0
        self._stopping = False

    def start(self) -> None:
        for w in self.workers:
            self.tasks.append(asyncio.create_task(self._keep(w), name=f"armonik-worker-{w.name}"))

    async def _keep(self, w: Worker) -> None:
        assert w.command is not None
        while not self._stopping:
            if w.socket:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(w.socket)
            env = dict(os.environ)
            env.update({
                "ComputePlane__WorkerChannel__Address": w.socket or w.target,
                "ComputePlane__AgentChannel__Address": self.agent_socket,
                "PYTHONUNBUFFERED": "1",
            })
            env.update(w.env)
            try:
                proc = await asyncio.create_subprocess_exec(*w.command, env=env, cwd=w.cwd)
            except OSError as exc:
                log.error("armonik worker %s: cannot start %s: %s", w.name, w.command, exc)
                await asyncio.sleep(max(self.restart_delay, 1.0))
                continue
            self.procs[w.name] = proc
            log.info("armonik worker %s started (pid %d)", w.name, proc.pid)
            code = await proc.wait()
            self.procs.pop(w.name, None)
            if self._stopping:
                return
            self.restarts += 1
            log.warning("armonik worker %s exited with %s; restarting in %.1fs", w.name, code, self.restart_delay)
            await asyncio.sleep(self.restart_delay)

    async def stop(self) -> None:
        self._stopping = True
        for proc in list(self.procs.values()):
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in list(self.procs.values()):
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
