"""Result-id filters of event subscriptions: the membership fast path and when it is not enough."""

from __future__ import annotations

from typing import Any

from adapters.armonik._pb import events_common_pb2 as ev_pb
from adapters.armonik._pb import filters_common_pb2 as common
from adapters.armonik._pb import results_fields_pb2 as fields
from adapters.armonik._pb import results_filters_pb2 as rf
from adapters.armonik.events import Subscriber
from adapters.armonik.records import ResultRec, ResultStatus

RESULT_ID, NAME = 7, 2  # ResultRawEnumField numbers


def cond(field: int, value: str) -> Any:
    return rf.FilterField(field=fields.ResultField(result_raw_field=fields.ResultRawField(field=field)),
                          filter_string=common.FilterString(value=value, operator=0))


def request(*clauses: list[Any]) -> Any:
    filters = rf.Filters(**{"or": [rf.FiltersAnd(**{"and": c}) for c in clauses]})
    return ev_pb.EventSubscriptionRequest(session_id="s", results_filters=filters)


def rec(rid: str, name: str) -> ResultRec:
    return ResultRec(id=rid, session_id="s", name=name, status=ResultStatus.CREATED)


def test_ids_only_filter_is_membership() -> None:
    sub = Subscriber(request([cond(RESULT_ID, "a")], [cond(RESULT_ID, "b")]))
    assert sub._ids_only and sub.result_ids == {"a", "b"}
    assert sub.wants_result(rec("a", "x")) and sub.wants_result(rec("b", "y"))
    assert not sub.wants_result(rec("c", "x"))


def test_extra_condition_still_applies() -> None:
    sub = Subscriber(request([cond(RESULT_ID, "a"), cond(NAME, "wanted")]))
    assert not sub._ids_only and sub.result_ids == {"a"}
    assert sub.wants_result(rec("a", "wanted"))
    assert not sub.wants_result(rec("a", "other"))
