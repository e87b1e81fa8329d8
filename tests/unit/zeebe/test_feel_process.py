"""Scenario 20's FEEL table run through script tasks of a deployed process."""

from __future__ import annotations

from tests.peers.zeebe import processes
from tests.unit.zeebe.conftest import Zeebe


async def test_feel_table_through_script_tasks(zb: Zeebe) -> None:
    await zb.deploy(processes.FEEL.encode())
    key = await zb.start("e2e-feel", processes.FEEL_INPUT)
    result = await zb.result(key)
    for i, (expr, expected) in enumerate(processes.FEEL_CASES, 1):
        assert result[f"r{i}"] == expected, expr
