"""Deployed process definitions, kept durably as data objects of the registry instance.

Each definition is one `DataObject` (`zeebe-def:<key>`, owner `zeebe:registry`) holding the BPMN
XML and its metadata; an index object lists every key and which are deleted. A restart, or a
replica that sees the registry instance's revision move, reloads and recompiles what it lacks
(`Broker.sync_registry`); deploys commit guarded by that revision, so versions stay unique.
A deleted definition leaves a tombstone that keeps its version number from being reused and its
resource, for an instance another replica created while the deletion committed (it runs on).
Versions follow Zeebe: a process id gets a new version only when its resource's checksum changed,
so an identical redeploy returns the existing key and version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from adapters.zeebe.bpmn.model import ProcessDef
from adapters.zeebe.bpmn.parser import BpmnError, parse_bpmn
from adapters.zeebe.keys import REGISTRY_ID
from gateway.model import DataObject, Payload

DEF_PREFIX = "zeebe-def:"
#: Status of a deleted definition's tombstone.
DELETED = "DELETED"


@dataclass(slots=True)
class Definition:
    """One version of one process."""

    key: int
    bpmn_process_id: str
    version: int
    resource_name: str
    checksum: str
    resource: bytes
    process: ProcessDef
    deployment_key: int = 0

    def to_data(self, status: str = "DEPLOYED") -> DataObject:
        meta = {
            "pid": self.bpmn_process_id,
            "version": str(self.version),
            "resource": self.resource_name,
            "checksum": self.checksum,
            "deployment": str(self.deployment_key),
        }
        payload = Payload(self.resource, "application/xml")
        return DataObject(f"{DEF_PREFIX}{self.key}", REGISTRY_ID, status, payload, meta)

    def tombstone(self) -> DataObject:
        return self.to_data(DELETED)


def parse_definition(obj: DataObject) -> Definition:
    """The definition a stored object holds (deployed, or a tombstone with its resource).
    Raises BpmnError if it no longer compiles or has no resource."""
    key = int(obj.id[len(DEF_PREFIX):])
    pid = obj.meta.get("pid", "")
    if obj.payload is None:
        raise BpmnError(f"definition {key} ({pid}): no resource stored")
    try:
        procs = {p.id: p for p in parse_bpmn(obj.payload.data)}
    except BpmnError as exc:
        raise BpmnError(f"definition {key} ({pid}): {exc}") from None
    if pid not in procs:
        raise BpmnError(f"definition {key}: process {pid!r} missing from its resource")
    meta = obj.meta
    return Definition(
        key, pid, int(meta.get("version", "1")), meta.get("resource", ""), meta.get("checksum", ""),
        obj.payload.data, procs[pid], int(meta.get("deployment", "0")),
    )


@dataclass
class Registry:
    """Process definitions by key and by process id (versions ascending)."""

    by_key: dict[int, Definition] = field(default_factory=dict)
    by_id: dict[str, list[Definition]] = field(default_factory=dict)
    #: Highest version ever deployed per process id: deleted versions are never reused.
    top_version: dict[str, int] = field(default_factory=dict)
    #: Keys of deleted definitions (their tombstones stay listed in the index).
    deleted: set[int] = field(default_factory=set)

    def add(self, d: Definition) -> None:
        """Add a definition; adding a key again (a reload racing a deploy) replaces it."""
        old = self.by_key.get(d.key)
        self.by_key[d.key] = d
        versions = self.by_id.setdefault(d.bpmn_process_id, [])
        if old is not None and old in versions:
            versions.remove(old)
        versions.append(d)
        versions.sort(key=lambda x: x.version)
        self.top_version[d.bpmn_process_id] = max(self.top_version.get(d.bpmn_process_id, 0), d.version)

    def remove(self, d: Definition) -> None:
        """Forget a deleted definition; an older version becomes the latest again."""
        self.by_key.pop(d.key, None)
        self.deleted.add(d.key)
        versions = self.by_id.get(d.bpmn_process_id, [])
        if d in versions:
            versions.remove(d)
        if not versions:
            self.by_id.pop(d.bpmn_process_id, None)

    def next_version(self, pid: str) -> int:
        return self.top_version.get(pid, 0) + 1

    def load(self, objects: list[DataObject]) -> list[str]:
        """Rebuild from stored data objects; returns problems (a definition that no longer compiles)."""
        problems = []
        for obj in objects:
            if not obj.id.startswith(DEF_PREFIX):
                continue
            key = int(obj.id[len(DEF_PREFIX):])
            pid = obj.meta.get("pid", "")
            if obj.status == DELETED:
                self.deleted.add(key)
                version = int(obj.meta.get("version", "0"))
                self.top_version[pid] = max(self.top_version.get(pid, 0), version)
                continue
            if obj.payload is None:
                continue
            try:
                self.add(parse_definition(obj))
            except BpmnError as exc:
                problems.append(str(exc))
        return problems

    def latest(self, pid: str) -> Definition | None:
        versions = self.by_id.get(pid)
        return versions[-1] if versions else None

    def version(self, pid: str, version: int) -> Definition | None:
        for d in self.by_id.get(pid, ()):
            if d.version == version:
                return d
        return None

    def plan(self, resources: list[tuple[str, bytes]]) -> list[tuple[str, bytes, ProcessDef, str]]:
        """Parse every resource (all or nothing): (resource name, bytes, process, checksum) per
        executable process. Raises BpmnError naming the resource and the problems."""
        out = []
        seen: set[str] = set()
        for name, data in resources:
            try:
                procs = parse_bpmn(data)
            except BpmnError as exc:
                raise BpmnError(f"'{name}': {exc}") from None
            for p in procs:
                if p.id in seen:
                    raise BpmnError(f"Duplicated process id in resources: '{p.id}'")
                seen.add(p.id)
                # The checksum is per resource (Zeebe's), with the process id so that two
                # processes of one resource get versions of their own.
                checksum = hashlib.sha256(data).hexdigest()
                out.append((name, data, p, checksum))
        return out
