"""Zeebe keys: int64 `(1 << 51) + n` from one counter that survives restarts.

The counter is durable by block reservation: a data object (`zeebe:keys`, owned by the registry
instance) holds a high-water mark. Keys below it may have been handed out; after a restart the
counter resumes at the mark, so no key is ever reused (at worst a block's tail is skipped).
Whoever takes keys puts the reservation into the same commit that uses them (`reservation()`),
so a key never reaches a client unless the mark covering it is committed too.
"""

from __future__ import annotations

from gateway.model import DataObject

KEY_BASE = 1 << 51
KEYS_OBJECT = "zeebe:keys"
REGISTRY_ID = "zeebe:registry"


class KeyAllocator:
    """Hands out keys synchronously; `reservation()` gives the data object to commit with them."""

    def __init__(self, start: int = 1, block: int = 10_000) -> None:
        self._next = start
        self._reserved = start - 1  # highest n covered by a committed (or pending) mark
        self.block = block

    @classmethod
    def from_mark(cls, mark: int | None, block: int = 10_000) -> KeyAllocator:
        alloc = cls(start=(mark or 0) + 1, block=block)
        return alloc

    def next_key(self) -> int:
        n = self._next
        self._next += 1
        return KEY_BASE + n

    def reservation(self) -> DataObject | None:
        """The new high-water mark if keys beyond the last one were handed out, else None.

        The mark is raised a whole block ahead so most commits carry nothing."""
        used = self._next - 1
        if used <= self._reserved:
            return None
        self._reserved = used + self.block
        return DataObject(KEYS_OBJECT, REGISTRY_ID, status="MARK", meta={"mark": str(self._reserved)})
