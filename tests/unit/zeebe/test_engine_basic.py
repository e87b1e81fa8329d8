"""Service tasks, gateways and scopes on the in-process engine."""

from __future__ import annotations

from tests.unit.zeebe.conftest import Zeebe, bpmn, chain, task

ONE_TASK = bpmn(
    '<bpmn:startEvent id="s" />'
    + task("t", "double", ext='<zeebe:taskHeaders><zeebe:header key="factor" value="2" /></zeebe:taskHeaders>')
    + '<bpmn:endEvent id="e" />' + chain("s", "t", "e"),
    pid="e2e-one-task",
)


async def test_one_task(zb: Zeebe) -> None:
    d = await zb.deploy(ONE_TASK)
    assert d.version == 1 and d.key >= 2251799813685249
    key = await zb.start("e2e-one-task", {"x": 21})
    job = await zb.one("double")
    assert job.custom_headers == '{"factor": "2"}' and job.retries == 3
    assert job.variables == '{"x": 21}'
    await zb.complete(job, {"y": 42})
    assert await zb.result(key) == {"x": 21, "y": 42}
