"""`gateway_protocol.Gateway`: the gRPC face of the broker, for pyzeebe 4.x/2.x, zbctl and the SDK.

Requests are validated and decoded here (JSON variables, tenants), the broker and job service do
the work, and every failure goes through `status.to_status` (one mapping for every rpc). The
legacy 0.26 rpcs reuse the same operations with their own message classes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from adapters.zeebe._pb import gateway_pb2 as pb
from adapters.zeebe._pb import gateway_pb2_grpc as pb_grpc
from adapters.zeebe.bpmn.modify import Activate
from adapters.zeebe.broker import Broker, parse_variables
from adapters.zeebe.jobs import TENANT, ActivatedJobData, JobService
from adapters.zeebe.registry import Definition
from adapters.zeebe.status import BadRequest, Unimplemented, to_status
from gateway.errors import DeadlineExceeded

log = logging.getLogger("adapters.zeebe.servicer")

GATEWAY_VERSION = "8.6.0"
#: Zeebe's defaults: long polls last 10 s, WithResult waits 15 s, responses stay under 4 MB.
DEFAULT_LONG_POLL = 10.0
DEFAULT_REQUEST_TIMEOUT = 15.0
MAX_RESPONSE_BYTES = 4 * 1024 * 1024 - 64 * 1024

T = TypeVar("T")


def _tenant(tenant: str, rpc: str) -> None:
    if tenant not in ("", TENANT):
        raise BadRequest(
            f"Expected to handle gRPC request {rpc} with tenant identifier '{tenant}', "
            "but multi-tenancy is disabled"
        )


def _tenants(tenants: Any, rpc: str) -> None:
    for t in tenants:
        _tenant(t, rpc)


def _budget(context: grpc.aio.ServicerContext, wanted: float, margin: float = 0.5) -> float:
    """`wanted` seconds, cut so the answer arrives before the client's deadline."""
    remaining = context.time_remaining()
    if remaining is not None:
        return max(0.0, min(wanted, remaining - margin))
    return wanted


class GatewayServicer(pb_grpc.GatewayServicer):
    """All rpcs of the 8.6 service plus the 0.26 Workflow ones."""

    def __init__(self, broker: Broker, jobs: JobService, host: str = "127.0.0.1", port: int = 26500) -> None:
        self.broker = broker
        self.jobs = jobs
        self.host = host
        self.port = port

    async def _call(self, context: grpc.aio.ServicerContext, intent: str, work: Callable[[], Awaitable[T]]) -> T:
        try:
            return await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            code, message = to_status(exc, intent)
            if code is grpc.StatusCode.INTERNAL:
                log.exception("zeebe %s failed", intent)
            await context.abort(code, message)
            raise AssertionError("unreachable") from None

    # ------------------------------------------------------------------ topology

    async def Topology(self, request: pb.TopologyRequest, context: grpc.aio.ServicerContext) -> pb.TopologyResponse:
        partition = pb.Partition(partitionId=1, role=pb.Partition.LEADER, health=pb.Partition.HEALTHY)
        broker = pb.BrokerInfo(
            nodeId=0, host=self.host, port=self.port, partitions=[partition], version=GATEWAY_VERSION
        )
        return pb.TopologyResponse(
            brokers=[broker], clusterSize=1, partitionsCount=1, replicationFactor=1, gatewayVersion=GATEWAY_VERSION
        )

    # ------------------------------------------------------------------ deployment

    async def _deploy(self, resources: list[tuple[str, bytes]]) -> tuple[int, list[Definition]]:
        for name, _ in resources:
            lower = name.lower()
            if lower.endswith((".dmn", ".form")):
                raise BadRequest(f"Expected to deploy a BPMN resource, but '{name}' is not supported by this gateway")
        return await self.broker.deploy(resources)

    @staticmethod
    def _meta(d: Definition, resource: str) -> pb.ProcessMetadata:
        return pb.ProcessMetadata(
            bpmnProcessId=d.bpmn_process_id, version=d.version, processDefinitionKey=d.key,
            resourceName=d.resource_name or resource, tenantId=TENANT,
        )

    async def DeployResource(
        self, request: pb.DeployResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeployResourceResponse:
        async def work() -> pb.DeployResourceResponse:
            _tenant(request.tenantId, "DeployResource")
            key, defs = await self._deploy([(r.name, r.content) for r in request.resources])
            deployments = [pb.Deployment(process=self._meta(d, "")) for d in defs]
            return pb.DeployResourceResponse(key=key, deployments=deployments, tenantId=TENANT)

        return await self._call(context, "CREATE", work)

    async def DeployProcess(
        self, request: pb.DeployProcessRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeployProcessResponse:
        async def work() -> pb.DeployProcessResponse:
            key, defs = await self._deploy([(p.name, p.definition) for p in request.processes])
            return pb.DeployProcessResponse(key=key, processes=[self._meta(d, "") for d in defs])

        return await self._call(context, "CREATE", work)

    async def DeployWorkflow(
        self, request: pb.DeployWorkflowRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeployWorkflowResponse:
        async def work() -> pb.DeployWorkflowResponse:
            resources = []
            for w in request.workflows:
                yaml = w.type == pb.WorkflowRequestObject.YAML or (
                    w.type == pb.WorkflowRequestObject.FILE and w.name.lower().endswith((".yaml", ".yml"))
                )
                if yaml:
                    raise BadRequest(f"Expected to deploy a BPMN resource, but '{w.name}' is YAML (not supported)")
                resources.append((w.name, w.definition))
            key, defs = await self._deploy(resources)
            workflows = [
                pb.WorkflowMetadata(bpmnProcessId=d.bpmn_process_id, version=d.version, workflowKey=d.key,
                                    resourceName=d.resource_name)
                for d in defs
            ]
            return pb.DeployWorkflowResponse(key=key, workflows=workflows)

        return await self._call(context, "CREATE", work)

    async def DeleteResource(
        self, request: pb.DeleteResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteResourceResponse:
        async def work() -> pb.DeleteResourceResponse:
            await self.broker.delete_resource(request.resourceKey)
            return pb.DeleteResourceResponse()

        return await self._call(context, "DELETE", work)

    async def EvaluateDecision(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._unimplemented(context, "EvaluateDecision")

    async def ModifyProcessInstance(
        self, request: pb.ModifyProcessInstanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModifyProcessInstanceResponse:
        async def work() -> pb.ModifyProcessInstanceResponse:
            activates = [
                Activate(a.elementId, a.ancestorElementInstanceKey,
                         [(v.scopeId, parse_variables(v.variables)) for v in a.variableInstructions])
                for a in request.activateInstructions
            ]
            terminates = [t.elementInstanceKey for t in request.terminateInstructions]
            await self.broker.modify(request.processInstanceKey, activates, terminates)
            return pb.ModifyProcessInstanceResponse()

        return await self._call(context, "MODIFY", work)

    async def MigrateProcessInstance(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._unimplemented(context, "MigrateProcessInstance")

    async def _unimplemented(self, context: grpc.aio.ServicerContext, rpc: str) -> Any:
        async def work() -> Any:
            raise Unimplemented(f"{rpc} is not supported by this gateway")

        return await self._call(context, rpc, work)

    # ------------------------------------------------------------------ instances

    async def _create(self, r: Any, legacy: bool) -> tuple[Definition, int, dict[str, Any]]:
        variables = parse_variables(r.variables)
        if not legacy:
            _tenant(r.tenantId, "CreateProcessInstance")
            start_at = [s.elementId for s in r.startInstructions]
            def_key = r.processDefinitionKey
        else:
            start_at = []
            def_key = r.workflowKey
        d, key = await self.broker.create_instance(def_key, r.bpmnProcessId, r.version, variables, start_at)
        return d, key, variables

    async def CreateProcessInstance(
        self, request: pb.CreateProcessInstanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateProcessInstanceResponse:
        async def work() -> pb.CreateProcessInstanceResponse:
            d, key, _ = await self._create(request, False)
            return pb.CreateProcessInstanceResponse(
                processDefinitionKey=d.key, bpmnProcessId=d.bpmn_process_id, version=d.version,
                processInstanceKey=key, tenantId=TENANT,
            )

        return await self._call(context, "CREATE", work)

    async def CreateWorkflowInstance(
        self, request: pb.CreateWorkflowInstanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateWorkflowInstanceResponse:
        async def work() -> pb.CreateWorkflowInstanceResponse:
            d, key, _ = await self._create(request, True)
            return pb.CreateWorkflowInstanceResponse(
                workflowKey=d.key, bpmnProcessId=d.bpmn_process_id, version=d.version, workflowInstanceKey=key
            )

        return await self._call(context, "CREATE", work)

    async def _with_result(self, request: Any, context: grpc.aio.ServicerContext, legacy: bool
                           ) -> tuple[Definition, int, str]:
        wanted = request.requestTimeout / 1000.0 if request.requestTimeout > 0 else DEFAULT_REQUEST_TIMEOUT
        d, key, _ = await self._create(request.request, legacy)
        try:
            result = await self.broker.wait_result(key, _budget(context, wanted, 0.2), list(request.fetchVariables))
        except DeadlineExceeded:
            raise DeadlineExceeded(
                f"Expected to receive the result of process instance '{key}' within {wanted:g} s, "
                "but it did not complete in time; the instance continues"
            ) from None
        return d, key, json.dumps(result)

    async def CreateProcessInstanceWithResult(
        self, request: pb.CreateProcessInstanceWithResultRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateProcessInstanceWithResultResponse:
        async def work() -> pb.CreateProcessInstanceWithResultResponse:
            d, key, variables = await self._with_result(request, context, False)
            return pb.CreateProcessInstanceWithResultResponse(
                processDefinitionKey=d.key, bpmnProcessId=d.bpmn_process_id, version=d.version,
                processInstanceKey=key, variables=variables, tenantId=TENANT,
            )

        return await self._call(context, "CREATE_WITH_AWAITING_RESULT", work)

    async def CreateWorkflowInstanceWithResult(
        self, request: pb.CreateWorkflowInstanceWithResultRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateWorkflowInstanceWithResultResponse:
        async def work() -> pb.CreateWorkflowInstanceWithResultResponse:
            d, key, variables = await self._with_result(request, context, True)
            return pb.CreateWorkflowInstanceWithResultResponse(
                workflowKey=d.key, bpmnProcessId=d.bpmn_process_id, version=d.version,
                workflowInstanceKey=key, variables=variables,
            )

        return await self._call(context, "CREATE_WITH_AWAITING_RESULT", work)

    async def CancelProcessInstance(
        self, request: pb.CancelProcessInstanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelProcessInstanceResponse:
        async def work() -> pb.CancelProcessInstanceResponse:
            await self.broker.cancel(request.processInstanceKey)
            return pb.CancelProcessInstanceResponse()

        return await self._call(context, "CANCEL", work)

    async def CancelWorkflowInstance(
        self, request: pb.CancelWorkflowInstanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelWorkflowInstanceResponse:
        async def work() -> pb.CancelWorkflowInstanceResponse:
            await self.broker.cancel(request.workflowInstanceKey)
            return pb.CancelWorkflowInstanceResponse()

        return await self._call(context, "CANCEL", work)

    async def SetVariables(
        self, request: pb.SetVariablesRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetVariablesResponse:
        async def work() -> pb.SetVariablesResponse:
            variables = parse_variables(request.variables)
            key = await self.broker.set_variables(request.elementInstanceKey, variables, request.local)
            return pb.SetVariablesResponse(key=key)

        return await self._call(context, "UPDATE", work)

    async def ResolveIncident(
        self, request: pb.ResolveIncidentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ResolveIncidentResponse:
        async def work() -> pb.ResolveIncidentResponse:
            await self.broker.resolve_incident(request.incidentKey)
            return pb.ResolveIncidentResponse()

        return await self._call(context, "RESOLVE", work)

    # ------------------------------------------------------------------ messages and signals

    async def PublishMessage(
        self, request: pb.PublishMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.PublishMessageResponse:
        async def work() -> pb.PublishMessageResponse:
            _tenant(request.tenantId, "PublishMessage")
            if not request.name:
                raise BadRequest("Expected to publish a message with a name, but it was empty")
            variables = parse_variables(request.variables)
            key = await self.broker.publish(
                request.name, request.correlationKey, request.timeToLive, request.messageId, variables
            )
            return pb.PublishMessageResponse(key=key, tenantId=TENANT)

        return await self._call(context, "PUBLISH", work)

    async def BroadcastSignal(
        self, request: pb.BroadcastSignalRequest, context: grpc.aio.ServicerContext
    ) -> pb.BroadcastSignalResponse:
        async def work() -> pb.BroadcastSignalResponse:
            _tenant(request.tenantId, "BroadcastSignal")
            variables = parse_variables(request.variables)
            key = await self.broker.broadcast_signal(request.signalName, variables)
            return pb.BroadcastSignalResponse(key=key, tenantId=TENANT)

        return await self._call(context, "BROADCAST", work)

    # ------------------------------------------------------------------ jobs

    async def CompleteJob(self, request: pb.CompleteJobRequest, context: grpc.aio.ServicerContext
                          ) -> pb.CompleteJobResponse:
        async def work() -> pb.CompleteJobResponse:
            await self.jobs.complete(request.jobKey, parse_variables(request.variables))
            return pb.CompleteJobResponse()

        return await self._call(context, "COMPLETE", work)

    async def FailJob(self, request: pb.FailJobRequest, context: grpc.aio.ServicerContext) -> pb.FailJobResponse:
        async def work() -> pb.FailJobResponse:
            variables = parse_variables(request.variables)
            await self.jobs.fail(request.jobKey, request.retries, request.errorMessage, request.retryBackOff, variables)
            return pb.FailJobResponse()

        return await self._call(context, "FAIL", work)

    async def ThrowError(self, request: pb.ThrowErrorRequest, context: grpc.aio.ServicerContext
                         ) -> pb.ThrowErrorResponse:
        async def work() -> pb.ThrowErrorResponse:
            variables = parse_variables(request.variables)
            await self.jobs.throw_error(request.jobKey, request.errorCode, request.errorMessage, variables)
            return pb.ThrowErrorResponse()

        return await self._call(context, "THROW_ERROR", work)

    async def UpdateJobRetries(
        self, request: pb.UpdateJobRetriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateJobRetriesResponse:
        async def work() -> pb.UpdateJobRetriesResponse:
            if request.retries < 1:
                raise BadRequest(f"Expected retries to be greater than zero, but was {request.retries}")
            await self.jobs.update_retries(request.jobKey, request.retries)
            return pb.UpdateJobRetriesResponse()

        return await self._call(context, "UPDATE_RETRIES", work)

    async def UpdateJobTimeout(
        self, request: pb.UpdateJobTimeoutRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateJobTimeoutResponse:
        async def work() -> pb.UpdateJobTimeoutResponse:
            await self.jobs.update_timeout(request.jobKey, request.timeout)
            return pb.UpdateJobTimeoutResponse()

        return await self._call(context, "UPDATE_TIMEOUT", work)

    @staticmethod
    def _wire(j: ActivatedJobData) -> pb.ActivatedJob:
        return pb.ActivatedJob(
            key=j.key, type=j.type, processInstanceKey=j.process_instance_key, bpmnProcessId=j.bpmn_process_id,
            processDefinitionVersion=j.version, processDefinitionKey=j.process_definition_key,
            elementId=j.element_id, elementInstanceKey=j.element_instance_key, customHeaders=j.custom_headers,
            worker=j.worker, retries=j.retries, deadline=j.deadline, variables=j.variables, tenantId=TENANT,
        )

    async def ActivateJobs(self, request: pb.ActivateJobsRequest, context: grpc.aio.ServicerContext) -> None:
        async def validate() -> None:
            if not request.type.strip():
                raise BadRequest("Expected to activate jobs of a non-empty type, but it was blank")
            if request.timeout < 1:
                raise BadRequest(f"Expected timeout to be greater than zero, but was {request.timeout}")
            if request.maxJobsToActivate < 1:
                raise BadRequest(
                    f"Expected maxJobsToActivate to be greater than zero, but was {request.maxJobsToActivate}"
                )
            _tenants(request.tenantIds, "ActivateJobs")

        await self._call(context, "ACTIVATE", validate)
        if request.requestTimeout < 0:
            wait = 0.0
        else:
            wait = request.requestTimeout / 1000.0 if request.requestTimeout > 0 else DEFAULT_LONG_POLL
        wait = _budget(context, wait)
        jobs = await self.jobs.activate(
            request.type, request.worker, request.timeout, request.maxJobsToActivate,
            list(request.fetchVariable), wait,
        )
        if not jobs:
            return  # the poll ends OK with no message
        batch: list[ActivatedJobData] = []
        size = 0
        for j in jobs:
            if batch and size + j.size > MAX_RESPONSE_BYTES:
                break
            batch.append(j)
            size += j.size
        rest = jobs[len(batch):]
        if rest:
            await self.jobs.release(rest)
        try:
            await context.write(pb.ActivateJobsResponse(jobs=[self._wire(j) for j in batch]))
        except BaseException:
            await asyncio.shield(self.jobs.release(batch))
            raise

    async def StreamActivatedJobs(
        self, request: pb.StreamActivatedJobsRequest, context: grpc.aio.ServicerContext
    ) -> None:
        async def validate() -> None:
            if not request.type.strip():
                raise BadRequest("Expected to stream jobs of a non-empty type, but it was blank")
            if request.timeout < 1:
                raise BadRequest(f"Expected timeout to be greater than zero, but was {request.timeout}")
            _tenants(request.tenantIds, "StreamActivatedJobs")

        await self._call(context, "STREAM", validate)
        # Push jobs as they become ready, one at a time so each write is acknowledged by flow control.
        while True:
            jobs = await self.jobs.activate(
                request.type, request.worker, request.timeout, 1, list(request.fetchVariable), 30.0
            )
            for j in jobs:
                try:
                    await context.write(self._wire(j))
                except BaseException:
                    await asyncio.shield(self.jobs.release([j]))
                    raise
