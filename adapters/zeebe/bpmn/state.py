"""An instance's engine state: element instances, variable scopes, waits and incidents.

It is plain JSON kept in `Instance.state`, so it survives restarts with whatever storage backend
the core uses. Element instances are keyed by their Zeebe key (as a string); the process instance
itself is the root element instance, keyed by the process instance key.

Element instance record: `id` element id, `p` parent (flow scope) key, `v` local variables,
`x` extras (job key, multi-instance bookkeeping, joins, pending trigger...).
"""

from __future__ import annotations

import copy
import json
from typing import Any


class State:
    """Mutable view of one instance's state document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.ei: dict[str, dict[str, Any]] = doc.setdefault("ei", {})
        self.incidents: dict[str, dict[str, Any]] = doc.setdefault("inc", {})
        #: subscription key -> {"ei": key, "el": element id, "kind": ...}
        self.subs: dict[str, dict[str, Any]] = doc.setdefault("subs", {})
        #: timer key -> {"ei": key, "el": element id, "kind": ..., "reps": n, "every": seconds}
        self.timers: dict[str, dict[str, Any]] = doc.setdefault("timers", {})
        #: job key -> element instance key
        self.jobs: dict[str, str] = doc.setdefault("jobs", {})

    @classmethod
    def load(cls, data: bytes) -> State:
        return cls(json.loads(data) if data else {})

    def dump(self) -> bytes:
        return json.dumps(self.doc, separators=(",", ":")).encode()

    # --- identity -------------------------------------------------------------------------------

    @property
    def root(self) -> str:
        return str(self.doc["pik"])

    @property
    def def_key(self) -> int:
        return int(self.doc["pdk"])

    # --- element instances ----------------------------------------------------------------------

    def add(self, key: str, element_id: str, parent: str | None) -> dict[str, Any]:
        rec: dict[str, Any] = {"id": element_id, "p": parent, "v": {}, "x": {}}
        self.ei[key] = rec
        return rec

    def get(self, key: str) -> dict[str, Any] | None:
        return self.ei.get(key)

    def children(self, key: str) -> list[str]:
        return [k for k, r in self.ei.items() if r["p"] == key]

    def chain(self, key: str | None) -> list[str]:
        """The scope chain from `key` up to the root."""
        out = []
        while key is not None:
            rec = self.ei.get(key)
            if rec is None:
                break
            out.append(key)
            key = rec["p"]
        return out

    # --- variables ------------------------------------------------------------------------------

    def visible(self, key: str | None) -> dict[str, Any]:
        """Every variable visible from `key`: inner scopes shadow outer ones."""
        out: dict[str, Any] = {}
        for k in reversed(self.chain(key)):
            out.update(self.ei[k]["v"])
        return out

    def set_local(self, key: str, variables: dict[str, Any]) -> None:
        self.ei[key]["v"].update(copy.deepcopy(variables))

    def propagate(self, key: str | None, variables: dict[str, Any]) -> None:
        """Zeebe's merge: each variable updates the nearest scope (from `key` outwards) that
        defines it, else it is created at the root."""
        chain = self.chain(key)
        root = self.ei[self.root]["v"]
        for name, value in variables.items():
            for k in chain:
                scope = self.ei[k]["v"]
                if name in scope:
                    scope[name] = copy.deepcopy(value)
                    break
            else:
                root[name] = copy.deepcopy(value)


def set_path(target: dict[str, Any], path: str, value: Any, base: dict[str, Any] | None = None) -> str:
    """Write `value` at a dotted `path` into `target`; returns the top-level name written.

    For `a.b`, the top-level `a` starts from `target[a]`, else `base[a]` (the visible value), when
    that is an object, so sibling fields survive.
    """
    parts = path.split(".")
    head = parts[0]
    if len(parts) == 1:
        target[head] = value
        return head
    current = target.get(head, (base or {}).get(head))
    node = copy.deepcopy(current) if isinstance(current, dict) else {}
    target[head] = node
    for part in parts[1:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node[parts[-1]] = value
    return head


class StateCache:
    """Parsed states of recently stepped instances, keyed by instance id and checked against the
    stored bytes, so a step or an activation does not re-parse the JSON document it just wrote.

    `take` is for a step that mutates the state: the entry leaves the cache, and the step puts
    the new (bytes, state) back only once it produced them. `peek` is read-only. A commit that
    failed leaves newer bytes here than in storage: the bytes differ, so the next read re-parses.
    """

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._entries: dict[str, tuple[bytes, State]] = {}

    def take(self, instance_id: str, data: bytes) -> State:
        entry = self._entries.pop(instance_id, None)
        if entry is not None and entry[0] == data:
            return entry[1]
        return State.load(data)

    def peek(self, instance_id: str, data: bytes) -> State:
        entry = self._entries.get(instance_id)
        if entry is not None and entry[0] == data:
            return entry[1]
        state = State.load(data)
        self.put(instance_id, data, state)
        return state

    def put(self, instance_id: str, data: bytes, state: State) -> None:
        self._entries.pop(instance_id, None)
        self._entries[instance_id] = (data, state)
        if len(self._entries) > self.size:
            del self._entries[next(iter(self._entries))]

    def drop(self, instance_id: str) -> None:
        self._entries.pop(instance_id, None)
