"""Errors the core raises. Each adapter maps them to its protocol's status in one function."""

from __future__ import annotations


class GatewayError(Exception):
    """Base class of every error the core raises on purpose."""

    code = "UNKNOWN"


class NotFound(GatewayError):
    """The instance, job, message or object named does not exist (or no longer does)."""

    code = "NOT_FOUND"


class AlreadyExists(GatewayError):
    """An id that must be unique is taken (instance id, buffered message id...)."""

    code = "ALREADY_EXISTS"


class FailedPrecondition(GatewayError):
    """The request is valid but the current state forbids it (e.g. a transition out of a terminal state)."""

    code = "FAILED_PRECONDITION"


class InvalidArgument(GatewayError):
    """The request itself is malformed."""

    code = "INVALID_ARGUMENT"


class LeaseLost(GatewayError):
    """A completion or step commit came under a lease that is no longer held; nothing was applied."""

    code = "LEASE_LOST"


class ResourceExhausted(GatewayError):
    """A configured limit (message size, history length, queue length) would be exceeded."""

    code = "RESOURCE_EXHAUSTED"


class Unavailable(GatewayError):
    """The gateway is shutting down or a dependency (the database) cannot be reached."""

    code = "UNAVAILABLE"


class DeadlineExceeded(GatewayError):
    """A long poll or wait ran out of time."""

    code = "DEADLINE_EXCEEDED"


class ConfigError(GatewayError):
    """Invalid configuration: names the key and the bad value."""

    code = "CONFIG"
