"""The one error mapping (brief section 4, status table)."""

from __future__ import annotations

import grpc
import pytest

from adapters.zeebe.keys import KEY_BASE, KeyAllocator
from adapters.zeebe.status import BadRequest, Unimplemented, to_status
from gateway.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)


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


def test_keys_resume_above_the_committed_mark() -> None:
    alloc = KeyAllocator.from_mark(0, block=10)
    first = alloc.next_key()
    assert first == KEY_BASE + 1 == 2251799813685249
    mark = alloc.reservation()
    assert mark is not None and int(mark.meta["mark"]) == 11
    assert alloc.reservation() is None  # covered until the block is used up
    resumed = KeyAllocator.from_mark(int(mark.meta["mark"]), block=10)
    assert resumed.next_key() > first + 10 - 1
