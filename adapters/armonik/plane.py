"""What the control-plane servicers share: the store, the settings, the partitions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.errors import FailedPrecondition

from .config import ArmoniKSettings
from .records import Session, SessionStatus
from .store import Store

#: Sessions that accept new results and tasks.
OPEN = (SessionStatus.RUNNING, SessionStatus.PAUSED)


@dataclass
class Plane:
    store: Store
    cfg: ArmoniKSettings
    partitions: list[str]

    def now(self) -> float:
        return self.store.scheduler.clock.now()

    def stop_running(self, task_ids: Iterable[str]) -> None:
        """Stop the Process calls of these tasks (their jobs are already gone, so nothing commits)."""
        for tid in task_ids:
            stop = self.store.running.get(tid)
            if stop is not None:
                stop()


def require_open(s: Session, what: str) -> None:
    if s.meta.status not in OPEN:
        raise FailedPrecondition(f"session {s.meta.id} is {s.meta.status.name}: cannot {what}")
