"""Zeebe keys: int64 `(1 << 51) + n`, unique across restarts and across gateway replicas.

Keys come from blocks reserved in storage before any key of them is handed out: a data object
(`zeebe:keys`, owned by the registry instance) holds the highest `n` ever reserved, and a replica
reserves the next block with a commit guarded by the registry instance's revision (see
`Broker.reserve_keys`), so two replicas can never take the same block, and a restart starts a
fresh block above the mark (at worst a block's unused tail is skipped). Reservation runs ahead:
when the current block is half used the allocator asks for a spare one, so `next_key` stays
synchronous (the BPMN interpreter takes keys in the middle of a step).
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import Unavailable

KEY_BASE = 1 << 51
KEYS_OBJECT = "zeebe:keys"
REGISTRY_ID = "zeebe:registry"
BLOCK = 100_000


class KeyAllocator:
    """Hands out keys from reserved blocks; calls `want_block` when a spare block is needed."""

    def __init__(self, block: int = BLOCK) -> None:
        self.block = block
        self._next = 1
        self._limit = 0  # the current block is [_next, _limit]; empty until the first one arrives
        self._spare: tuple[int, int] | None = None
        self.want_block: Callable[[], None] | None = None

    def add_block(self, first: int, last: int) -> None:
        """A block [first, last] whose reservation is committed."""
        if self._next > self._limit:
            self._next, self._limit = first, last
        else:
            self._spare = (first, last)

    @property
    def needs_block(self) -> bool:
        """No spare block and the current one is half used (or empty)."""
        return self._spare is None and self._limit - self._next < self.block // 2

    def next_key(self) -> int:
        if self._next > self._limit:
            if self._spare is None:
                # Only when storage refused reservations for a whole half block's worth of keys.
                raise Unavailable("Zeebe keys: no reserved key block available yet, retry")
            (self._next, self._limit), self._spare = self._spare, None
        n = self._next
        self._next += 1
        if self.want_block is not None and self.needs_block:
            self.want_block()
        return KEY_BASE + n
