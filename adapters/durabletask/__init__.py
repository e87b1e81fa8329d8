"""Durable Task front-end: the gateway as the `TaskHubSidecarService` sidecar for the durabletask SDKs."""

from .adapter import DurableTaskAdapter

__all__ = ["DurableTaskAdapter"]
