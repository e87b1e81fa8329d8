"""kill -9 durability: what the gateway acknowledged survives a SIGKILL, and nothing runs twice.

The real gateway process (sqlite or postgres) is driven through the test-only probe adapter's HTTP API
on the admin port (see tests/support/probe_adapter.py). Before the kill: 50 instances, each with one
job and one timer (half due within 0.5 s, half due 4 s after creation, so after the restart); 30 jobs
leased with a 4 s lease, 15 of them completed, 15 held; two background tasks keep creating and
completing instances of a second queue and are mid-stream when the process is SIGKILLed. After a
restart on the same data:

- every instance whose creation was answered 201 exists;
- a job whose completion was answered 200 is never handed out again;
- held jobs are not handed out while their lease is valid, then come back with attempt + 1, and a
  completion with the old attempt is refused with 409;
- every timer fires; completing all jobs drives every instance to COMPLETED with exactly the expected
  output, and each history has exactly one completion per job and one firing per timer.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.peers.harness import GatewayProcess

N_MAIN = 50
N_LEASED, N_COMPLETED = 30, 15
LEASE = 4.0  # lease of the jobs held across the kill
BG_LEASE = 1.0  # lease of the background queue's jobs
EARLY, LATE = 0.5, 4.0  # timer delays
BUDGET = 60.0


@pytest.fixture(params=["sqlite", "postgres"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(
        tmp_path / "gw",
        backend=request.param,
        # A step lease held by the killed process must lapse soon: postgres cannot tell it from a
        # live replica's (sqlite, single-process, may release it at open).
        extra_env={
            "GATEWAY_SCHEDULER__POLL_INTERVAL_SECONDS": "0.1",
            "GATEWAY_SCHEDULER__STEP_LEASE_SECONDS": "2",
        },
    )
    try:
        yield gw.start()
    finally:
        gw.close()


@dataclass
class Ledger:
    """What the gateway acknowledged (certain) and what was in flight at the kill (uncertain)."""

    created: set[str] = field(default_factory=set)
    created_uncertain: set[str] = field(default_factory=set)
    done: dict[str, str] = field(default_factory=dict)  # job id -> result, answered 200
    done_uncertain: dict[str, str] = field(default_factory=dict)
    refused: list[tuple[str, int]] = field(default_factory=list)  # unexpected 409s before the kill


def result_of(job: dict) -> str:
    return f"res:{job['id']}:{job['attempt']}"


async def create(client: httpx.AsyncClient, iid: str, queue: str, delay: float, lease: float) -> int:
    body = {
        "id": iid,
        "jobs": [{"queue": queue, "payload": iid, "timeout": lease, "retries": None}],
        "timers": [{"key": f"t-{iid}", "delay": delay}],
    }
    return (await client.post("/probe/instances", json=body)).status_code


async def lease(
    client: httpx.AsyncClient, queue: str, limit: int, *, wait: float = 0.0, lease_for: float = 30.0
) -> list[dict]:
    body = {"queue": queue, "owner": "durability", "max": limit, "wait": wait, "lease_for": lease_for}
    resp = await client.post("/probe/lease", json=body)
    assert resp.status_code == 200, resp.text
    jobs: list[dict] = resp.json()["jobs"]
    return jobs


async def complete(client: httpx.AsyncClient, job_id: str, attempt: int, result: str) -> int:
    resp = await client.post("/probe/complete", json={"id": job_id, "attempt": attempt, "result": result})
    return resp.status_code


async def bg_creator(client: httpx.AsyncClient, ledger: Ledger) -> None:
    for n in range(100_000):
        iid = f"bg{n:05d}"
        try:
            status = await create(client, iid, "bg", 0.2, BG_LEASE)
        except BaseException as exc:  # in flight at the kill: may or may not have committed
            ledger.created_uncertain.add(iid)
            if isinstance(exc, httpx.TransportError):
                return
            raise
        assert status == 201
        ledger.created.add(iid)


async def bg_completer(client: httpx.AsyncClient, ledger: Ledger) -> None:
    while True:
        try:
            jobs = await lease(client, "bg", 5, wait=0.2, lease_for=BG_LEASE)
        except httpx.TransportError:
            return
        for job in jobs:
            try:
                status = await complete(client, job["id"], job["attempt"], result_of(job))
            except BaseException as exc:  # in flight at the kill: may or may not have committed
                ledger.done_uncertain[job["id"]] = result_of(job)
                if isinstance(exc, httpx.TransportError):
                    return
                raise
            if status == 200:
                ledger.done[job["id"]] = result_of(job)
            else:
                ledger.refused.append((job["id"], status))


async def before_kill(gw: GatewayProcess, ledger: Ledger) -> tuple[dict[str, int], float, set[str]]:
    """Create, lease, complete some, start the background load; SIGKILL mid-stream."""
    main = [f"m{i:03d}" for i in range(N_MAIN)]
    async with httpx.AsyncClient(base_url=gw.admin_url, timeout=10) as client:
        statuses = await asyncio.gather(
            *(create(client, iid, "main", EARLY if i % 2 == 0 else LATE, LEASE) for i, iid in enumerate(main))
        )
        assert statuses == [201] * N_MAIN
        ledger.created.update(main)

        lease_sent = time.monotonic()
        leased: list[dict] = []
        while len(leased) < N_LEASED:
            leased += await lease(client, "main", N_LEASED - len(leased), wait=1.0, lease_for=LEASE)
            assert time.monotonic() - lease_sent < 5, "could not lease the first batch"
        assert all(job["attempt"] == 1 for job in leased)
        for job in leased[:N_COMPLETED]:
            assert await complete(client, job["id"], job["attempt"], result_of(job)) == 200
            ledger.done[job["id"]] = result_of(job)
        held = {job["id"]: job["attempt"] for job in leased[N_COMPLETED:]}
        never_leased = {f"{iid}/job0" for iid in main} - {job["id"] for job in leased}

        tasks = [
            asyncio.create_task(bg_creator(client, ledger)),
            asyncio.create_task(bg_completer(client, ledger)),
        ]
        for _ in range(60):  # let the background load get going (at most 3 s)
            if len(ledger.created) >= N_MAIN + 10 and len(ledger.done) >= N_COMPLETED + 3:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no background load: {len(ledger.created)} made, {len(ledger.done)} done")
        assert all(not t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
        await asyncio.to_thread(gw.kill, signal.SIGKILL)
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert not ledger.refused, f"409 before the kill: {ledger.refused}"
    return held, lease_sent + LEASE, never_leased


async def instance(client: httpx.AsyncClient, iid: str) -> dict | None:
    resp = await client.get(f"/probe/instances/{iid}")
    if resp.status_code == 404:
        return None
    assert resp.status_code == 200, resp.text
    body: dict = resp.json()
    return body


async def after_restart(
    gw: GatewayProcess, ledger: Ledger, held: dict[str, int], held_expiry: float, never_leased: set[str]
) -> None:
    async with httpx.AsyncClient(base_url=gw.admin_url, timeout=10) as client:
        listed = set((await client.get("/probe/instances")).json()["ids"])
        assert ledger.created <= listed, f"acknowledged instances lost: {sorted(ledger.created - listed)}"
        existing = ledger.created | (ledger.created_uncertain & listed)
        assert listed == existing, f"unexpected instances: {sorted(listed - existing)}"

        final: dict[str, str] = {}  # job id -> result of its completion after the restart
        handed: list[dict] = []

        async def complete_all(jobs: list[dict]) -> None:
            handed.extend(jobs)
            for job in jobs:
                assert job["id"] not in ledger.done, f"completed job handed out again: {job}"
                assert await complete(client, job["id"], job["attempt"], result_of(job)) == 200, job
                final[job["id"]] = result_of(job)

        # Straight after the restart: every never-leased job, none of the held ones (lease still valid).
        first = await lease(client, "main", 100)
        early = time.monotonic() < held_expiry - 0.3
        ids = {job["id"] for job in first}
        assert never_leased <= ids, f"ready jobs missing after restart: {sorted(never_leased - ids)}"
        if early:
            assert not ids & held.keys(), f"held jobs handed out while leased: {ids & held.keys()}"
        await complete_all(first)

        print(f"after restart: {len(ledger.created)} acknowledged ({len(ledger.created_uncertain)} in flight),"
              f" {len(ledger.done)} done ({len(ledger.done_uncertain)} in flight); held-lease check"
              f" {'applied' if early else 'moot (restart outlived the lease)'}")
        back: dict[str, int] = {job["id"]: job["attempt"] for job in first if job["id"] in held}
        while back.keys() != held.keys():
            assert time.monotonic() < held_expiry + 5, f"held jobs not back: {held.keys() - back.keys()}"
            jobs = await lease(client, "main", 100, wait=0.5)
            assert time.monotonic() >= held_expiry - 0.05 or not {j["id"] for j in jobs} & held.keys()
            back.update({job["id"]: job["attempt"] for job in jobs if job["id"] in held})
            await complete_all([job for job in jobs if job["id"] not in held])
            for job in jobs:
                if job["id"] in held:
                    old = held[job["id"]]
                    assert job["attempt"] == old + 1, job
                    assert await complete(client, job["id"], old, "late") == 409, job
                    await complete_all([job])
        for job_id, result in ledger.done.items():  # re-completing a done job is refused, not applied
            attempt = int(result.rsplit(":", 1)[1])
            assert await complete(client, job_id, attempt, "again") in (404, 409)

        # Everything else: background jobs (incl. those leased or in flight at the kill) and timers.
        deadline = time.monotonic() + 15
        while True:
            for queue in ("main", "bg"):
                await complete_all(await lease(client, queue, 100, wait=0.1))
            counts = (await client.get("/probe/instances")).json()["counts"]
            if counts == {"COMPLETED": len(existing)}:
                break
            if time.monotonic() > deadline:
                stuck = [await instance(client, iid) for iid in sorted(existing)]
                stuck = [i for i in stuck if i is None or i["status"] != "COMPLETED"]
                raise AssertionError(f"not all instances completed: {counts}; e.g. {stuck[:3]}")
            await asyncio.sleep(0.1)
        assert await lease(client, "main", 100) == [] and await lease(client, "bg", 100) == []

        for iid in sorted(existing):
            inst = await instance(client, iid)
            assert inst is not None and inst["status"] == "COMPLETED", inst
            job_id = f"{iid}/job0"
            if job_id in ledger.done:
                expected = {ledger.done[job_id]}
            elif job_id in ledger.done_uncertain and job_id not in final:
                expected = {ledger.done_uncertain[job_id]}
            else:
                expected = {final[job_id]}
            output = json.loads(inst["output"])
            assert output["timers"] == [f"t-{iid}"], inst
            assert output["results"].keys() == {job_id} and output["results"][job_id] in expected, inst
            kinds = [(e["kind"], e["ref"]) for e in inst["history"]]
            assert kinds.count(("job.completed", job_id)) == 1, inst["history"]
            assert kinds.count(("timer.fired", f"t-{iid}")) == 1, inst["history"]
            assert inst["inbox"] == 0, inst


async def test_sigkill_loses_nothing_acknowledged(gateway: GatewayProcess) -> None:
    started = time.monotonic()
    ledger = Ledger()
    try:
        held, held_expiry, never_leased = await before_kill(gateway, ledger)
        restarted = time.monotonic()
        await asyncio.to_thread(gateway.start)
        print(f"restart took {time.monotonic() - restarted:.2f}s")
        await after_restart(gateway, ledger, held, held_expiry, never_leased)
    except BaseException:
        print(gateway.log_tail(150))  # shown with the failure report
        raise
    assert time.monotonic() - started < BUDGET
