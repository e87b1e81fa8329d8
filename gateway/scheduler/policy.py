"""Scheduling policies: the order in which ready jobs are handed out (the `SchedulingPolicy` port)."""

from __future__ import annotations

from collections.abc import Sequence


class FifoPolicy:
    """Oldest job first; queues polled in the order the worker gave them."""

    name = "fifo"
    order = "fifo"

    def arrange(self, queues: Sequence[str]) -> Sequence[str]:
        return queues


class PriorityPolicy:
    """Highest `Job.priority` first, FIFO among equals."""

    name = "priority"
    order = "priority"

    def arrange(self, queues: Sequence[str]) -> Sequence[str]:
        return queues


class FairSharePolicy:
    """FIFO within a queue, and a worker polling several queues starts at a rotating one, so a
    busy queue cannot starve the others."""

    name = "fair"
    order = "fifo"

    def __init__(self) -> None:
        self._turn = 0

    def arrange(self, queues: Sequence[str]) -> Sequence[str]:
        if len(queues) < 2:
            return queues
        self._turn = (self._turn + 1) % len(queues)
        return [*queues[self._turn :], *queues[: self._turn]]


POLICIES = {"fifo": FifoPolicy, "priority": PriorityPolicy, "fair": FairSharePolicy}
