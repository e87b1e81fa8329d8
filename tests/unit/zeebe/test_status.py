"""The one error mapping (brief section 4, status table)."""

from __future__ import annotations

import grpc
import pytest

from adapters.zeebe.broker import Broker
from adapters.zeebe.keys import KEY_BASE, KEYS_OBJECT
from adapters.zeebe.status import BadRequest, Unimplemented, to_status
from gateway.clock import SystemClock
from gateway.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from gateway.notifier import LocalNotifier
from gateway.scheduler.core import CoreScheduler
from gateway.storage.memory import MemoryStorage


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (NotFound("x"), grpc.StatusCode.NOT_FOUND, "Command 'I' rejected with code 'NOT_FOUND': x"),
        (InvalidArgument("x"), grpc.StatusCode.INVALID_ARGUMENT,
         "Command 'I' rejected with code 'INVALID_ARGUMENT': x"),
        (AlreadyExists("x"), grpc.StatusCode.ALREADY_EXISTS, "Command 'I' rejected with code 'ALREADY_EXISTS': x"),
        (FailedPrecondition("x"), grpc.StatusCode.FAILED_PRECONDITION,
         "Command 'I' rejected with code 'INVALID_STATE': x"),
        (BadRequest("x"), grpc.StatusCode.INVALID_ARGUMENT, "x"),
        (PermissionError("x"), grpc.StatusCode.PERMISSION_DENIED, "x"),
        (DeadlineExceeded("x"), grpc.StatusCode.DEADLINE_EXCEEDED, None),
        (ResourceExhausted("x"), grpc.StatusCode.RESOURCE_EXHAUSTED, "x"),
        (Unavailable("x"), grpc.StatusCode.UNAVAILABLE, "x"),
        (Unimplemented("x"), grpc.StatusCode.UNIMPLEMENTED, "x"),
        (ConnectionAbortedError("x"), grpc.StatusCode.ABORTED, "x"),
        (KeyError("x"), grpc.StatusCode.INTERNAL, None),
    ],
)
def test_to_status(exc: BaseException, code: grpc.StatusCode, text: str | None) -> None:
    got_code, got_text = to_status(exc, "I")
    assert got_code == code
    if text is not None:
        assert got_text == text


async def test_keys_resume_above_the_committed_mark() -> None:
    storage = MemoryStorage()
    await storage.open()
    first = Broker(CoreScheduler(storage, SystemClock(), LocalNotifier()))
    first.keys.block = 10
    await first.load()
    assert first.next_key() == KEY_BASE + 1 == 2251799813685249
    mark = await storage.get_data(KEYS_OBJECT)
    assert mark is not None and int(mark.meta["mark"]) == 10  # reserved before any key was used
    resumed = Broker(CoreScheduler(storage, SystemClock(), LocalNotifier()))
    await resumed.load()  # a restart (or another replica): a fresh block above the mark
    assert resumed.next_key() == KEY_BASE + 11
