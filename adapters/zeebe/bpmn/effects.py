"""What one engine step does outside the instance's own state; becomes the step's `Commit`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.model import (
    Commit,
    DataObject,
    InstanceStatus,
    InstanceUpdate,
    Job,
    NewEvent,
    NewInstance,
    Payload,
    Subscription,
    Timer,
)


class Host(Protocol):
    """What the interpreter needs from the adapter: keys, other definitions, signals."""

    def next_key(self) -> int:
        """The next Zeebe key (int64, (1 << 51) + n, from one durable counter)."""
        ...

    def latest_definition(self, bpmn_process_id: str) -> Any:
        """The latest deployed definition of a process id, or None."""
        ...

    def new_instance(
        self, definition: Any, key: int, variables: dict[str, Any], parent: tuple[str, str] | None
    ) -> NewInstance:
        """A process instance to create (call activities, timer and message start events)."""
        ...


@dataclass
class Effects:
    """Side effects collected while interpreting; `commit()` turns them into one atomic write."""

    new_jobs: list[Job] = field(default_factory=list)
    cancel_jobs: list[str] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    cancel_timers: list[tuple[str, str]] = field(default_factory=list)
    subs: list[Subscription] = field(default_factory=list)
    close_subs: list[tuple[str, str]] = field(default_factory=list)
    data: list[DataObject] = field(default_factory=list)
    delete_data: list[str] = field(default_factory=list)
    inbox: list[NewEvent] = field(default_factory=list)
    create_instances: list[NewInstance] = field(default_factory=list)
    #: Signals to broadcast after the step: (name, variables).
    signals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: InstanceStatus | None = None
    output: dict[str, Any] | None = None

    def commit(self, instance_id: str, state: bytes | None, drop_upto: int | None) -> Commit:
        # A subscription or timer opened and closed in the same step must not survive: drop the
        # open instead of relying on the order in which storage applies opens and closes.
        closed_subs = set(self.close_subs)
        closed_timers = set(self.cancel_timers)
        cancelled = set(self.cancel_jobs)
        update = InstanceUpdate(
            instance_id,
            status=self.status,
            state=state,
            drop_upto=drop_upto,
            output=Payload(json.dumps(self.output).encode()) if self.output is not None else None,
        )
        return Commit(
            updates=[update],
            inbox=list(self.inbox),
            new_jobs=[j for j in self.new_jobs if j.id not in cancelled],
            cancel_jobs=[j for j in self.cancel_jobs if j not in {n.id for n in self.new_jobs}],
            timers=[t for t in self.timers if (t.instance_id, t.key) not in closed_timers],
            cancel_timers=list(self.cancel_timers),
            subscriptions=[s for s in self.subs if (s.instance_id, s.key) not in closed_subs],
            close_subscriptions=list(self.close_subs),
            data=list(self.data),
            delete_data=list(self.delete_data),
            create_instances=list(self.create_instances),
        )
