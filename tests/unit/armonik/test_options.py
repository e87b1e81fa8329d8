"""Option merging and validation (session defaults <- request <- creation)."""

from __future__ import annotations

import pytest

from adapters.armonik.options import for_task, merge, validate_session, validate_task
from adapters.armonik.records import Options
from gateway.errors import InvalidArgument

SESSION = Options(options={"a": "1", "b": "1"}, max_duration=10, max_retries=2, priority=5, partition_id="default",
                  application_name="app")


def test_later_layers_win_and_maps_union() -> None:
    out = merge(SESSION, Options(options={"b": "2", "c": "2"}, priority=7),
                Options(options={"c": "3"}, max_duration=3, priority=9))
    assert out.options == {"a": "1", "b": "2", "c": "3"}
    assert (out.max_duration, out.max_retries, out.priority) == (3, 2, 9)
    assert out.application_name == "app" and out.partition_id == "default"
    assert SESSION.options == {"a": "1", "b": "1"}  # the base is not modified


def test_zero_and_empty_do_not_override_but_priority_zero_does() -> None:
    out = merge(SESSION, Options(max_duration=0, max_retries=0, priority=0, partition_id="", application_name=""))
    assert (out.max_duration, out.max_retries, out.partition_id, out.application_name) == (10, 2, "default", "app")
    assert out.priority == 0


def test_absent_layers_change_nothing() -> None:
    assert merge(SESSION, None, None) == SESSION


def test_empty_partition_becomes_the_sessions_first() -> None:
    base = Options(max_duration=1, max_retries=1, priority=1)
    assert for_task(base, ["p1", "p2"], None).partition_id == "p1"
    with pytest.raises(InvalidArgument, match="not one of the session's partitions"):
        for_task(base, ["p1"], Options(partition_id="other", priority=1))


@pytest.mark.parametrize("opts", [
    Options(max_duration=1, max_retries=-1, priority=1),
    Options(max_duration=1, max_retries=0, priority=100),
    Options(max_duration=1, max_retries=0, priority=-1),
    Options(max_duration=0, max_retries=0, priority=1),
])
def test_task_validation(opts: Options) -> None:
    with pytest.raises(InvalidArgument):
        validate_task(opts)


def test_task_bounds_are_inclusive() -> None:
    validate_task(Options(max_duration=1, max_retries=0, priority=0))
    validate_task(Options(max_duration=1, max_retries=0, priority=99))


@pytest.mark.parametrize("opts", [
    Options(max_duration=1, max_retries=0, priority=1),
    Options(max_duration=1, max_retries=1, priority=0),
    Options(max_duration=0, max_retries=1, priority=1),
])
def test_session_validation_is_stricter(opts: Options) -> None:
    with pytest.raises(InvalidArgument):
        validate_session(opts)
