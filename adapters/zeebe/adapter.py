"""`ZeebeAdapter`: wires the broker, the BPMN engine and the gRPC service into the gateway.

Config (`[adapters.zeebe]`): `advertised_host` / `advertised_port` are what Topology reports
(default 127.0.0.1:26500). A test-only inspection route on the admin listener,
`GET /zeebe/instances/{key}`, shows an instance's element instances, variables and incidents,
since the Zeebe gRPC API has no listing rpcs (clients cannot find incident keys otherwise).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from adapters.zeebe._pb import gateway_pb2_grpc as pb_grpc
from adapters.zeebe.bpmn.state import State
from adapters.zeebe.broker import Broker
from adapters.zeebe.engine import ZeebeEngine
from adapters.zeebe.jobs import JobService
from adapters.zeebe.servicer import GatewayServicer
from gateway.errors import ConfigError
from gateway.ports import AdapterContext

log = logging.getLogger("adapters.zeebe")

SERVICE_NAME = "gateway_protocol.Gateway"


class ZeebeAdapter:
    """The Zeebe front-end (`gateway_protocol.Gateway`) with its own BPMN engine."""

    name = "zeebe"

    def __init__(self) -> None:
        self.broker: Broker | None = None
        self.servicer: GatewayServicer | None = None

    async def start(self, ctx: AdapterContext) -> None:
        settings = dict(ctx.settings or {})
        host = settings.pop("advertised_host", "127.0.0.1")
        port = settings.pop("advertised_port", 26500)
        for key in ("enabled", "module"):
            settings.pop(key, None)
        if settings:
            raise ConfigError(f"adapters.zeebe: unknown keys {sorted(settings)}")
        if not isinstance(host, str) or not isinstance(port, int):
            raise ConfigError("adapters.zeebe.advertised_host must be a string and advertised_port an integer")
        self.broker = Broker(ctx.scheduler)
        await self.broker.load()
        engine = ZeebeEngine(self.broker)
        ctx.scheduler.register_engine(engine)
        jobs = JobService(ctx.scheduler, self.broker.states, engine.complete_inline)
        servicer = GatewayServicer(self.broker, jobs, host, port)
        self.servicer = servicer
        ctx.add_grpc_service(lambda server: pb_grpc.add_GatewayServicer_to_server(servicer, server), [SERVICE_NAME])
        try:
            ctx.add_http_route("admin", "/zeebe/instances/{key}", self._inspect, ["GET"])
        except (ValueError, AttributeError) as exc:
            log.debug("zeebe: no inspection route: %s", exc)

    async def stop(self) -> None:
        return None

    async def _inspect(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        assert self.broker is not None
        key = request.path_params["key"]
        inst = await self.broker.scheduler.get_instance(str(key))
        if inst is None or inst.engine != "zeebe":
            return JSONResponse({"error": f"no instance {key}"}, status_code=404)
        state = State.load(inst.state)
        body = {
            "key": inst.id,
            "status": inst.status.value,
            "bpmnProcessId": inst.definition,
            "version": inst.version,
            "elementInstances": [
                {"key": k, "elementId": r["id"], "parent": r["p"], "variables": r["v"]} for k, r in state.ei.items()
            ],
            "incidents": [{"key": k, **v} for k, v in state.incidents.items()],
            "jobs": list(state.jobs),
            "output": json.loads(inst.output.data) if inst.output is not None else None,
        }
        return JSONResponse(body)
