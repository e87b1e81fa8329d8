"""Restart tests for the durable backends: what was committed is there after reopening."""

from __future__ import annotations

from typing import Any

from gateway.model import (
    Commit,
    DataObject,
    Instance,
    InstanceStatus,
    InstanceUpdate,
    Job,
    JobOutcome,
    JobStatus,
    Message,
    NewEvent,
    NewInstance,
    Payload,
    Subscription,
    Timer,
)

T0 = 1_700_000_000.0


async def test_everything_committed_survives_a_reopen(durable: tuple[Any, Any]) -> None:
    s, reopen = durable
    inst = Instance("i1", "e", definition="d", input=Payload(b'"x"'), tags={"t": "1"}, state=b"st")
    await s.commit(Commit(create_instances=[NewInstance(inst, [NewEvent("i1", "a", b"1", "r")])]), T0)
    await s.commit(
        Commit(
            updates=[InstanceUpdate("i1", status=InstanceStatus.RUNNING, consume_upto=1, custom_status=Payload(b"c"))],
            history=[NewEvent("i1", "h")],
            new_jobs=[
                Job("j1", "i1", "q", payload=Payload(b"p1"), timeout=5, retries=3, headers={"k": "v"}, priority=2),
                Job("j2", "i1", "q", timeout=5),
                Job("j3", "i1", "q", not_before=T0 + 100),
            ],
            timers=[Timer("i1", "t1", T0 + 50, data=b"td")],
            subscriptions=[Subscription("i1", "s1", "msg", "key", group="g")],
            data=[DataObject("d1", "i1", status="COMPLETED", payload=Payload(b"blob"), meta={"m": "1"})],
        ),
        T0,
    )
    await s.publish(Message("m1", "other", "k", Payload(b"mp"), message_id="mid", expires_at=T0 + 100), T0)
    _, j2 = await s.lease_jobs(["q"], "w", 2, T0 + 1)
    await s.commit(Commit(jobs=[JobOutcome(j2.ref, "complete", b"done")]), T0 + 2)
    await s.close()

    s2 = await reopen()
    got = await s2.get_instance("i1")
    assert got is not None
    assert (got.status, got.definition, got.input, got.tags, got.state) == (
        InstanceStatus.RUNNING, "d", Payload(b'"x"'), {"t": "1"}, b"st",
    )
    assert got.custom_status == Payload(b"c")
    assert [(e.seq, e.kind, e.ref) for e in await s2.history("i1")] == [(1, "a", "r"), (2, "h", "")]
    assert [(e.kind, e.data, e.ref) for e in await s2.inbox("i1")] == [("job.completed", b"done", "j2")]
    assert await s2.get_job("j2") is None, "a completed job never comes back"
    job1 = await s2.get_job("j1")
    assert job1.status == JobStatus.LEASED and job1.attempt == 1 and job1.headers == {"k": "v"}
    assert job1.priority == 2 and job1.retries == 3 and job1.payload == Payload(b"p1")
    # The leased job comes back once its lease runs out, with the old lease fenced.
    assert await s2.lease_jobs(["q"], "w2", 10, T0 + 3) == []
    tick = await s2.tick(T0 + 7, T0 + 3)
    assert [j.id for j in tick.expired_jobs] == ["j1"]
    (again,) = await s2.lease_jobs(["q"], "w2", 10, T0 + 7)
    assert again.id == "j1" and again.attempt == 2
    await s2.commit(Commit(jobs=[JobOutcome(again.ref, "complete", b"late")]), T0 + 8)
    # Timers, not-before jobs, subscriptions, buffered messages and data are all there.
    assert [t.key for t in await s2.timers("i1")] == ["t1"]
    assert (await s2.tick(T0 + 60, T0 + 7)).fired_timers == 1
    assert [j.id for j in await s2.lease_jobs(["q"], "w2", 10, T0 + 101)] == ["j3"]
    assert [x.key for x in await s2.subscriptions("i1")] == ["s1"]
    assert (await s2.publish(Message("m2", "msg", "key", Payload(b"hi")), T0 + 61)).correlated == ["i1"]
    d1 = await s2.get_data("d1")
    assert d1.payload == Payload(b"blob") and d1.meta == {"m": "1"} and d1.status == "COMPLETED"
    await s2.commit(Commit(subscriptions=[Subscription("i1", "s2", "other", "k")]), T0 + 62)
    assert (await s2.inbox("i1"))[-1].data == b"mp"


async def test_sequences_continue_after_reopen(durable: tuple[Any, Any]) -> None:
    s, reopen = durable
    await s.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"), [NewEvent("i1", "a")])]), T0)
    await s.commit(Commit(new_jobs=[Job("j1", "i1", "q")]), T0)
    await s.close()
    s2 = await reopen()
    await s2.commit(Commit(inbox=[NewEvent("i1", "b")], new_jobs=[Job("j2", "i1", "q")]), T0)
    assert [e.seq for e in await s2.inbox("i1")] == [1, 2]
    assert [j.id for j in await s2.lease_jobs(["q"], "w", 10, T0)] == ["j1", "j2"], "FIFO order survives"
