"""The scheduler core: instance steps, job leasing and push dispatch, timers, wake-ups."""

from gateway.scheduler.core import CoreScheduler, Route

__all__ = ["CoreScheduler", "Route"]
