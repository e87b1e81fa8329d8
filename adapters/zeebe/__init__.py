"""Zeebe front-end: gateway_protocol.Gateway, the BPMN engine and its FEEL evaluator.

`ZeebeAdapter` is imported lazily so that the FEEL and BPMN packages can be used (and tested)
without loading the gRPC service.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ZeebeAdapter"]


def __getattr__(name: str) -> Any:
    if name == "ZeebeAdapter":
        from adapters.zeebe.adapter import ZeebeAdapter

        return ZeebeAdapter
    raise AttributeError(name)
