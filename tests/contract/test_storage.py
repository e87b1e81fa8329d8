"""The storage conformance suite: every test runs over memory, sqlite and postgres."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.errors import AlreadyExists, LeaseLost, NotFound
from gateway.model import (
    Commit,
    DataObject,
    Instance,
    InstanceQuery,
    InstanceStatus,
    InstanceUpdate,
    Job,
    JobOutcome,
    JobRef,
    JobStatus,
    Message,
    NewEvent,
    NewInstance,
    Payload,
    Subscription,
    Timer,
)

T0 = 1_700_000_000.0


async def make_instance(s: Any, iid: str = "i1", events: tuple[str, ...] = (), **kw: Any) -> None:
    inst = Instance(iid, kw.pop("engine", "e"), status=kw.pop("status", InstanceStatus.RUNNING), **kw)
    await s.commit(
        Commit(create_instances=[NewInstance(inst, [NewEvent(iid, k, k.encode()) for k in events])]), T0
    )


async def add_jobs(s: Any, *specs: tuple[str, str], iid: str = "i1", **kw: Any) -> None:
    await s.commit(Commit(new_jobs=[Job(jid, iid, q, **kw) for jid, q in specs]), T0)


# ------------------------------------------------------------------------------------ instances


async def test_create_and_get_instance(storage: Any) -> None:
    inst = Instance(
        "i1", "e", definition="d", version="2", input=Payload(b'"in"'), tags={"a": "b"}, parent_id="p"
    )
    res = await storage.commit(Commit(create_instances=[NewInstance(inst, [NewEvent("i1", "start", b"x")])]), T0)
    assert res.runnable
    got = await storage.get_instance("i1")
    assert got is not None
    assert (got.engine, got.definition, got.version, got.status) == ("e", "d", "2", InstanceStatus.PENDING)
    assert got.input == Payload(b'"in"')
    assert got.tags == {"a": "b"} and got.parent_id == "p"
    assert got.created_at == T0 and got.last_seq == 1 and got.seen_seq == 0
    inbox = await storage.inbox("i1")
    assert [(e.seq, e.kind, e.data, e.in_history) for e in inbox] == [(1, "start", b"x", False)]
    assert await storage.get_instance("nope") is None


async def test_duplicate_instance_id_and_replace(storage: Any) -> None:
    await make_instance(storage, status=InstanceStatus.RUNNING)
    with pytest.raises(AlreadyExists):
        await make_instance(storage)
    with pytest.raises(AlreadyExists):
        await storage.commit(
            Commit(
                create_instances=[
                    NewInstance(Instance("i1", "e"), replace=frozenset({InstanceStatus.COMPLETED}))
                ]
            ),
            T0,
        )
    await storage.commit(
        Commit(updates=[InstanceUpdate("i1", status=InstanceStatus.COMPLETED, output=Payload(b"1"))]), T0
    )
    await add_jobs(storage, ("j1", "q"))
    await storage.commit(
        Commit(
            create_instances=[
                NewInstance(
                    Instance("i1", "e", definition="v2"), [NewEvent("i1", "start")],
                    replace=frozenset({InstanceStatus.COMPLETED}),
                )
            ]
        ),
        T0 + 1,
    )
    got = await storage.get_instance("i1")
    assert got.definition == "v2" and got.status == InstanceStatus.PENDING and got.output is None
    assert [e.kind for e in await storage.inbox("i1")] == ["start"]
    assert await storage.get_job("j1") is None, "replacing an instance drops its jobs"


async def test_unknown_instance_is_not_found_and_nothing_applies(storage: Any) -> None:
    with pytest.raises(NotFound):
        await storage.commit(
            Commit(create_instances=[NewInstance(Instance("a", "e"))], inbox=[NewEvent("ghost", "x")]), T0
        )
    assert await storage.get_instance("a") is None
    with pytest.raises(NotFound):
        await storage.commit(Commit(updates=[InstanceUpdate("ghost", status=InstanceStatus.RUNNING)]), T0)
    with pytest.raises(NotFound):
        await storage.commit(Commit(new_jobs=[Job("j", "ghost", "q")]), T0)


async def test_updates_and_terminal_timestamps(storage: Any) -> None:
    await make_instance(storage)
    await storage.commit(
        Commit(
            updates=[
                InstanceUpdate(
                    "i1",
                    status=InstanceStatus.FAILED,
                    output=Payload(b"out"),
                    custom_status=Payload(b'"cs"'),
                    execution_id="x2",
                    tags={"k": "v"},
                    state=b"\x00state",
                )
            ]
        ),
        T0 + 5,
    )
    got = await storage.get_instance("i1")
    assert got.status == InstanceStatus.FAILED and got.completed_at == T0 + 5 and got.updated_at == T0 + 5
    assert got.output == Payload(b"out") and got.custom_status == Payload(b'"cs"')
    assert (got.execution_id, got.tags, got.state) == ("x2", {"k": "v"}, b"\x00state")
    await storage.commit(
        Commit(updates=[InstanceUpdate("i1", status=InstanceStatus.RUNNING, clear_output=True)]), T0 + 6
    )
    got = await storage.get_instance("i1")
    assert got.completed_at == 0.0 and got.output is None


async def test_step_claim_consume_and_history(storage: Any) -> None:
    await make_instance(storage, events=("a", "b"))
    claims = await storage.claim_steps("w", 10, 30.0, T0)
    assert [c.instance.id for c in claims] == ["i1"]
    assert [e.kind for e in claims[0].inbox] == ["a", "b"]
    assert await storage.claim_steps("w2", 10, 30.0, T0) == [], "a leased step is not claimed twice"
    await storage.commit(
        Commit(
            step=claims[0].token,
            updates=[InstanceUpdate("i1", consume_upto=1, seen_upto=2)],
            history=[NewEvent("i1", "decided", b"d", ref="r")],
        ),
        T0,
    )
    hist = await storage.history("i1")
    assert [(e.seq, e.kind, e.in_history) for e in hist] == [(1, "a", True), (3, "decided", True)]
    assert hist[1].ref == "r" and hist[1].data == b"d"
    assert [e.seq for e in await storage.inbox("i1")] == [2]
    assert await storage.claim_steps("w", 10, 30.0, T0) == [], "seen events do not make it runnable"
    await storage.commit(Commit(inbox=[NewEvent("i1", "c")]), T0)
    claims = await storage.claim_steps("w", 10, 30.0, T0)
    assert [e.kind for e in claims[0].inbox] == ["b", "c"]
    assert [e.seq for e in await storage.history("i1", after_seq=1)] == [3]
    assert [e.seq for e in await storage.history("i1", limit=1)] == [1]


async def test_step_fencing_refuses_a_stale_step(storage: Any) -> None:
    await make_instance(storage, events=("a",))
    (claim,) = await storage.claim_steps("w", 10, 30.0, T0)
    # A job completion (or any other writer) changes the instance meanwhile.
    await storage.commit(Commit(updates=[InstanceUpdate("i1", custom_status=Payload(b"x"))]), T0)
    with pytest.raises(LeaseLost):
        await storage.commit(
            Commit(step=claim.token, updates=[InstanceUpdate("i1", status=InstanceStatus.COMPLETED, seen_upto=1)]),
            T0,
        )
    got = await storage.get_instance("i1")
    assert got.status == InstanceStatus.RUNNING
    (again,) = await storage.claim_steps("w", 10, 30.0, T0)
    assert again.instance.revision == got.revision, "the fenced-out instance is claimable again at once"


async def test_inbox_post_does_not_fence_the_step(storage: Any) -> None:
    await make_instance(storage, events=("a",))
    (claim,) = await storage.claim_steps("w", 10, 30.0, T0)
    await storage.commit(Commit(inbox=[NewEvent("i1", "b")]), T0)
    await storage.commit(Commit(step=claim.token, updates=[InstanceUpdate("i1", consume_upto=1, seen_upto=1)]), T0)
    (claim2,) = await storage.claim_steps("w", 10, 30.0, T0)
    assert [e.kind for e in claim2.inbox] == ["b"]


async def test_step_lease_expires(storage: Any) -> None:
    await make_instance(storage, events=("a",))
    assert len(await storage.claim_steps("w", 10, 5.0, T0)) == 1
    res = await storage.tick(T0 + 6, T0)
    assert res.expired_steps == 1 and res.runnable
    assert len(await storage.claim_steps("w2", 10, 5.0, T0 + 6)) == 1


async def test_claim_filters_engines(storage: Any) -> None:
    await make_instance(storage, "a", events=("x",), engine="e1")
    await make_instance(storage, "b", events=("x",), engine="e2")
    claims = await storage.claim_steps("w", 10, 30.0, T0, engines=["e2"])
    assert [c.instance.id for c in claims] == ["b"]


async def test_drop_inbox_and_rewind_seen(storage: Any) -> None:
    """A remote decider writes its own history, drops what it handled and re-arms the rest."""
    await make_instance(storage, events=("a", "b", "c"))
    (claim,) = await storage.claim_steps("w", 10, 30.0, T0)
    await storage.commit(Commit(step=claim.token, updates=[InstanceUpdate("i1", seen_upto=3)]), T0)
    assert await storage.claim_steps("w", 10, 30.0, T0) == []
    await storage.commit(
        Commit(
            updates=[InstanceUpdate("i1", drop_upto=2, seen_upto=2)],
            history=[NewEvent("i1", "turn", b"t1"), NewEvent("i1", "turn", b"t2")],
        ),
        T0,
    )
    assert [(e.seq, e.data) for e in await storage.history("i1")] == [(4, b"t1"), (5, b"t2")]
    (claim,) = await storage.claim_steps("w", 10, 30.0, T0)
    assert [e.kind for e in claim.inbox] == ["c"]


async def test_reset_history(storage: Any) -> None:
    await make_instance(storage, events=("a",))
    await storage.commit(Commit(updates=[InstanceUpdate("i1", consume_upto=1)]), T0)
    await storage.commit(
        Commit(
            updates=[InstanceUpdate("i1", reset_history=True, execution_id="e2")],
            inbox=[NewEvent("i1", "restart")],
        ),
        T0,
    )
    assert await storage.history("i1") == []
    assert [e.kind for e in await storage.inbox("i1")] == ["restart"]


async def test_delete_instance_purges_everything(storage: Any) -> None:
    await make_instance(storage, events=("a",))
    await storage.commit(
        Commit(
            new_jobs=[Job("j1", "i1", "q")],
            timers=[Timer("i1", "t", T0 + 10)],
            subscriptions=[Subscription("i1", "s", "m", "k")],
            data=[DataObject("d1", "i1", payload=Payload(b"blob"))],
        ),
        T0,
    )
    res = await storage.commit(Commit(delete_instances=["i1"]), T0)
    assert "i1" in res.changed_instances
    assert await storage.get_instance("i1") is None
    assert await storage.get_job("j1") is None and await storage.lease_jobs(["q"], "w", 10, T0) == []
    assert await storage.timers("i1") == [] and await storage.subscriptions("i1") == []
    assert await storage.get_data("d1") is None
    assert await storage.history("i1") == [] and await storage.inbox("i1") == []
    assert (await storage.tick(T0 + 20, T0)).fired_timers == 0


async def test_query_instances(storage: Any) -> None:
    for i in range(5):
        await make_instance(storage, f"a{i}", engine="e1" if i % 2 else "e2", definition=f"d{i % 2}")
    await make_instance(storage, "b0", engine="e1")
    await storage.commit(Commit(updates=[InstanceUpdate("a1", status=InstanceStatus.COMPLETED)]), T0 + 3)
    page = await storage.query_instances(InstanceQuery(limit=2))
    assert [i.id for i in page.items] == ["a0", "a1"] and page.next_after == "a1"
    page2 = await storage.query_instances(InstanceQuery(limit=10, after_id=page.next_after))
    assert [i.id for i in page2.items] == ["a2", "a3", "a4", "b0"] and page2.next_after is None
    assert [i.id for i in (await storage.query_instances(InstanceQuery(id_prefix="b"))).items] == ["b0"]
    assert [i.id for i in (await storage.query_instances(InstanceQuery(engine="e1", definition="d1"))).items] == [
        "a1",
        "a3",
    ]
    done = await storage.query_instances(InstanceQuery(statuses=frozenset({InstanceStatus.COMPLETED})))
    assert [i.id for i in done.items] == ["a1"]
    ranged = await storage.query_instances(InstanceQuery(completed_from=T0 + 2, completed_to=T0 + 4))
    assert [i.id for i in ranged.items] == ["a1"]
    assert (await storage.query_instances(InstanceQuery(created_from=T0 + 1))).items == []
    counts = await storage.count_instances()
    assert counts[("e1", InstanceStatus.RUNNING)] == 2 and counts[("e1", InstanceStatus.COMPLETED)] == 1
    assert counts[("e2", InstanceStatus.RUNNING)] == 3


# ------------------------------------------------------------------------------------ jobs


async def test_job_lease_complete_and_event(storage: Any) -> None:
    await make_instance(storage)
    res = await storage.commit(
        Commit(new_jobs=[Job("j1", "i1", "q", payload=Payload(b"p"), headers={"h": "1"}, timeout=10, origin="o")]),
        T0,
    )
    assert res.ready_queues == {"q"} and [j.id for j in res.created_jobs] == ["j1"]
    assert await storage.queue_depths() == {"q": 1}
    (job,) = await storage.lease_jobs(["q"], "w", 10, T0 + 1)
    assert (job.id, job.attempt, job.status, job.lease_owner) == ("j1", 1, JobStatus.LEASED, "w")
    assert job.lease_expires == T0 + 11 and job.payload == Payload(b"p") and job.headers == {"h": "1"}
    assert job.origin == "o" and job.created_at == T0
    assert await storage.queue_depths() == {}
    assert await storage.lease_jobs(["q"], "w", 10, T0 + 1) == []
    res = await storage.commit(Commit(jobs=[JobOutcome(job.ref, "complete", b"result")]), T0 + 2)
    assert [(j.id, outcome) for j, outcome in res.finished_jobs] == [("j1", "completed")]
    assert res.runnable
    (ev,) = await storage.inbox("i1")
    assert (ev.kind, ev.data, ev.ref) == ("job.completed", b"result", "j1")
    assert await storage.get_job("j1") is None
    with pytest.raises(LeaseLost):
        await storage.commit(Commit(jobs=[JobOutcome(job.ref, "complete", b"again")]), T0 + 3)
    assert len(await storage.inbox("i1")) == 1, "a second completion is never applied"


async def test_fifo_and_priority_order(storage: Any) -> None:
    await make_instance(storage)
    await storage.commit(
        Commit(new_jobs=[Job(f"j{i}", "i1", "q", priority=p) for i, p in enumerate([1, 5, 3, 5])]), T0
    )
    fifo = await storage.lease_jobs(["q"], "w", 2, T0)
    assert [j.id for j in fifo] == ["j0", "j1"]
    rest = await storage.lease_jobs(["q"], "w", 10, T0, order="priority")
    assert [j.id for j in rest] == ["j3", "j2"]
    await storage.commit(
        Commit(new_jobs=[Job(f"k{i}", "i1", "q", priority=p) for i, p in enumerate([1, 5, 3, 5])]), T0
    )
    assert [j.id for j in await storage.lease_jobs(["q"], "w", 10, T0, order="priority")] == ["k1", "k3", "k2", "k0"]


async def test_lease_across_queues_in_given_order(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("a1", "a"), ("b1", "b"), ("a2", "a"))
    jobs = await storage.lease_jobs(["b", "a"], "w", 2, T0)
    assert [j.id for j in jobs] == ["b1", "a1"]
    assert await storage.lease_jobs(["c"], "w", 2, T0) == []


async def test_not_before(storage: Any) -> None:
    await make_instance(storage)
    res = await storage.commit(Commit(new_jobs=[Job("j1", "i1", "q", not_before=T0 + 10)]), T0)
    assert res.ready_queues == set() and res.earliest_due == T0 + 10
    assert await storage.lease_jobs(["q"], "w", 10, T0 + 5) == []
    tick = await storage.tick(T0 + 11, T0 + 5)
    assert "q" in tick.ready_queues
    assert [j.id for j in await storage.lease_jobs(["q"], "w", 10, T0 + 11)] == ["j1"]


async def test_lease_expiry_returns_the_job_and_fences_the_old_lease(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"), timeout=5, retries=3)
    (old,) = await storage.lease_jobs(["q"], "w1", 1, T0)
    assert (await storage.tick(T0 + 4, T0)).expired_jobs == []
    tick = await storage.tick(T0 + 6, T0 + 4)
    assert [j.id for j in tick.expired_jobs] == ["j1"] and "q" in tick.ready_queues
    (new,) = await storage.lease_jobs(["q"], "w2", 1, T0 + 6, lease_for=100)
    assert new.attempt == old.attempt + 1 and new.retries == 3, "a lease timeout does not consume a retry"
    assert new.lease_expires == T0 + 106
    with pytest.raises(LeaseLost):
        await storage.commit(Commit(jobs=[JobOutcome(old.ref, "complete")]), T0 + 7)
    await storage.commit(Commit(jobs=[JobOutcome(new.ref, "complete")]), T0 + 7)
    assert [e.ref for e in await storage.inbox("i1")] == ["j1"]


async def test_extend_lease(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"), timeout=5)
    (job,) = await storage.lease_jobs(["q"], "w", 1, T0)
    upd = await storage.update_job("j1", lease_expires=T0 + 50, ref=job.ref, now=T0 + 1)
    assert upd.lease_expires == T0 + 50
    assert (await storage.tick(T0 + 10, T0)).expired_jobs == []
    with pytest.raises(LeaseLost):
        await storage.update_job("j1", lease_expires=T0 + 60, ref=JobRef("j1", 99), now=T0 + 1)
    with pytest.raises(NotFound):
        await storage.update_job("nope", retries=1, now=T0)


async def test_fail_with_retries_backoff_and_final_failure(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"), retries=2)
    (job,) = await storage.lease_jobs(["q"], "w", 1, T0)
    res = await storage.commit(Commit(jobs=[JobOutcome(job.ref, "fail", error="e1", backoff=10)]), T0)
    assert [o for _, o in res.finished_jobs] == ["retried"]
    got = await storage.get_job("j1")
    assert (got.status, got.retries, got.last_error, got.not_before) == (JobStatus.READY, 1, "e1", T0 + 10)
    assert await storage.lease_jobs(["q"], "w", 1, T0 + 5) == []
    (job,) = await storage.lease_jobs(["q"], "w", 1, T0 + 10)
    assert job.attempt == 2
    res = await storage.commit(Commit(jobs=[JobOutcome(job.ref, "fail", error="e2")]), T0 + 11)
    assert [o for _, o in res.finished_jobs] == ["failed"]
    got = await storage.get_job("j1")
    assert got.status == JobStatus.FAILED and got.retries == 0
    (ev,) = await storage.inbox("i1")
    assert (ev.kind, ev.data, ev.ref) == ("job.failed", b"e2", "j1")
    assert await storage.lease_jobs(["q"], "w", 1, T0 + 20) == []
    # Raising the retries of a failed job makes it ready again (Zeebe: UpdateJobRetries).
    await storage.update_job("j1", retries=1, now=T0 + 21)
    (job,) = await storage.lease_jobs(["q"], "w", 1, T0 + 21)
    assert job.attempt == 3


async def test_fail_with_absolute_retries(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"), retries=1)
    (job,) = await storage.lease_jobs(["q"], "w", 1, T0)
    await storage.commit(Commit(jobs=[JobOutcome(job.ref, "fail", error="x", retries=5)]), T0)
    got = await storage.get_job("j1")
    assert got.status == JobStatus.READY and got.retries == 5


async def test_release_and_cancel(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"), ("j2", "q"), retries=3)
    j1, j2 = await storage.lease_jobs(["q"], "w", 2, T0)
    res = await storage.commit(Commit(jobs=[JobOutcome(j1.ref, "release", backoff=3)]), T0)
    assert [o for _, o in res.finished_jobs] == ["released"]
    got = await storage.get_job("j1")
    assert got.status == JobStatus.READY and got.retries == 3 and got.not_before == T0 + 3
    await storage.commit(Commit(cancel_jobs=["j1"], jobs=[JobOutcome(j2.ref, "cancel")]), T0)
    assert await storage.get_job("j1") is None and await storage.get_job("j2") is None
    assert await storage.inbox("i1") == []
    assert await storage.list_jobs("i1") == []


async def test_failed_guard_applies_nothing(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"))
    (job,) = await storage.lease_jobs(["q"], "w", 1, T0)
    with pytest.raises(LeaseLost):
        await storage.commit(
            Commit(
                create_instances=[NewInstance(Instance("other", "e"))],
                jobs=[JobOutcome(job.ref, "complete"), JobOutcome(JobRef("j1", 7), "complete")],
                new_jobs=[Job("j9", "i1", "q")],
            ),
            T0,
        )
    assert await storage.get_instance("other") is None and await storage.get_job("j9") is None
    assert (await storage.get_job("j1")).status == JobStatus.LEASED
    with pytest.raises(AlreadyExists):
        await storage.commit(Commit(new_jobs=[Job("j1", "i1", "q")]), T0)


async def test_list_jobs(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"), ("j2", "r"))
    assert sorted(j.id for j in await storage.list_jobs("i1")) == ["j1", "j2"]


# ------------------------------------------------------------------------------------ timers


async def test_timers_fire_cancel_and_replace(storage: Any) -> None:
    await make_instance(storage)
    res = await storage.commit(
        Commit(
            timers=[
                Timer("i1", "t1", T0 + 5, data=b"one"),
                Timer("i1", "t2", T0 + 7),
                Timer("i1", "t3", T0 + 9, kind="custom"),
            ]
        ),
        T0,
    )
    assert res.earliest_due == T0 + 5
    await storage.commit(Commit(cancel_timers=[("i1", "t2")], timers=[Timer("i1", "t3", T0 + 6, kind="custom")]), T0)
    assert sorted(t.key for t in await storage.timers("i1")) == ["t1", "t3"]
    tick = await storage.tick(T0 + 4, T0)
    assert tick.fired_timers == 0 and tick.next_due == T0 + 5
    tick = await storage.tick(T0 + 10, T0 + 4)
    assert tick.fired_timers == 2 and tick.runnable and "i1" in tick.changed_instances
    evs = await storage.inbox("i1")
    assert [(e.kind, e.ref, e.data) for e in evs] == [("timer.fired", "t1", b"one"), ("custom", "t3", b"")]
    assert (await storage.tick(T0 + 20, T0 + 10)).fired_timers == 0
    assert await storage.timers("i1") == []


# ------------------------------------------------------------------------------------ messages


async def test_message_buffered_then_correlated_on_subscribe(storage: Any) -> None:
    await make_instance(storage)
    res = await storage.publish(Message("m1", "order", "k1", Payload(b'{"a":1}'), expires_at=T0 + 60), T0)
    assert res.correlated == [] and res.buffered
    await storage.commit(Commit(subscriptions=[Subscription("i1", "sub", "order", "k1", group="p")]), T0 + 1)
    (ev,) = await storage.inbox("i1")
    assert (ev.kind, ev.data, ev.ref) == ("message.correlated", b'{"a":1}', "sub")
    assert await storage.subscriptions("i1") == []
    # The same buffered message does not reach the same group twice.
    await make_instance(storage, "i2")
    await storage.commit(Commit(subscriptions=[Subscription("i2", "sub", "order", "k1", group="p")]), T0 + 2)
    assert await storage.inbox("i2") == [] and len(await storage.subscriptions("i2")) == 1
    # ...but it does reach another group.
    await make_instance(storage, "i3")
    await storage.commit(Commit(subscriptions=[Subscription("i3", "sub", "order", "k1", group="other")]), T0 + 2)
    assert len(await storage.inbox("i3")) == 1


async def test_publish_correlates_oldest_subscription_per_group(storage: Any) -> None:
    for iid in ("a", "b", "c"):
        await make_instance(storage, iid)
    await storage.commit(Commit(subscriptions=[Subscription("a", "s", "m", "k", group="g1")]), T0)
    await storage.commit(Commit(subscriptions=[Subscription("b", "s", "m", "k", group="g1")]), T0 + 1)
    await storage.commit(Commit(subscriptions=[Subscription("c", "s", "m", "k", group="g2")]), T0 + 2)
    res = await storage.publish(Message("m1", "m", "k", Payload(b"1")), T0 + 3)
    assert sorted(res.correlated) == ["a", "c"] and not res.buffered
    assert len(await storage.inbox("a")) == 1 and await storage.inbox("b") == []
    assert len(await storage.subscriptions("b")) == 1
    res = await storage.publish(Message("m2", "m", "other-key", Payload(b"1")), T0 + 3)
    assert res.correlated == [] and not res.buffered, "TTL 0: not buffered"


async def test_message_id_dedupe_and_expiry(storage: Any) -> None:
    await storage.publish(Message("m1", "n", "k", message_id="x", expires_at=T0 + 10), T0)
    with pytest.raises(AlreadyExists):
        await storage.publish(Message("m2", "n", "k", message_id="x", expires_at=T0 + 10), T0 + 1)
    await storage.publish(Message("m3", "n", "k2", message_id="x", expires_at=T0 + 10), T0 + 1)
    await storage.publish(Message("m4", "n", "k", expires_at=T0 + 10), T0 + 1)
    await storage.publish(Message("m5", "n", "k", expires_at=T0 + 10), T0 + 1)
    tick = await storage.tick(T0 + 11, T0)
    assert tick.expired_messages == 4
    await storage.publish(Message("m6", "n", "k", message_id="x", expires_at=T0 + 30), T0 + 11)
    await make_instance(storage)
    await storage.commit(Commit(subscriptions=[Subscription("i1", "s", "n", "k")]), T0 + 12)
    assert [e.data for e in await storage.inbox("i1")] == [b""]


async def test_close_subscription(storage: Any) -> None:
    await make_instance(storage)
    await storage.commit(Commit(subscriptions=[Subscription("i1", "s", "m", "k")]), T0)
    await storage.commit(Commit(close_subscriptions=[("i1", "s")]), T0)
    res = await storage.publish(Message("m1", "m", "k"), T0)
    assert res.correlated == []


# ------------------------------------------------------------------------------------ data objects


async def test_data_objects(storage: Any) -> None:
    await make_instance(storage)
    await storage.commit(
        Commit(
            data=[
                DataObject("d1", "i1", payload=Payload(b"x" * 1000, "application/octet-stream"), meta={"n": "1"}),
                DataObject("d2", "i1", status="CREATED"),
            ]
        ),
        T0,
    )
    d1 = await storage.get_data("d1")
    assert d1.payload == Payload(b"x" * 1000, "application/octet-stream") and d1.meta == {"n": "1"}
    assert d1.created_at == T0
    await storage.commit(Commit(data=[DataObject("d2", "i1", status="COMPLETED", payload=Payload(b"r"))]), T0 + 5)
    d2 = await storage.get_data("d2")
    assert (d2.status, d2.payload, d2.created_at, d2.updated_at) == ("COMPLETED", Payload(b"r"), T0, T0 + 5)
    assert [d.id for d in await storage.list_data("i1")] == ["d1", "d2"]
    await storage.commit(Commit(delete_data=["d1"]), T0)
    assert await storage.get_data("d1") is None


# ------------------------------------------------------------------------------------ concurrency


async def test_concurrent_commits_all_apply(storage: Any) -> None:
    await make_instance(storage)

    async def one(i: int) -> None:
        await storage.commit(Commit(new_jobs=[Job(f"j{i}", "i1", "q")], inbox=[NewEvent("i1", "e")]), T0)

    await asyncio.gather(*(one(i) for i in range(200)))
    assert (await storage.queue_depths())["q"] == 200
    assert len(await storage.inbox("i1")) == 200
    leased = await asyncio.gather(*(storage.lease_jobs(["q"], f"w{k}", 30, T0) for k in range(10)))
    ids = [j.id for batch in leased for j in batch]
    assert len(ids) == 200 and len(set(ids)) == 200


async def test_concurrent_completions_one_wins(storage: Any) -> None:
    await make_instance(storage)
    await add_jobs(storage, ("j1", "q"))
    (job,) = await storage.lease_jobs(["q"], "w", 1, T0)
    results = await asyncio.gather(
        *(storage.commit(Commit(jobs=[JobOutcome(job.ref, "complete", b"r")]), T0) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, LeaseLost) for r in results if isinstance(r, Exception))
    assert len(await storage.inbox("i1")) == 1
