"""The compiled form of a BPMN process: what the parser produces and the interpreter walks.

Definitions are compiled once per deployment (and again after a restart, from the stored XML);
instances refer to elements by id. Expressions are compiled at deploy time (`Expr`), so a FEEL
syntax error is a deployment error that names its element.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.zeebe.bpmn.expr import Expr

#: Element kinds that run as a job handed to a worker.
JOB_TASKS = frozenset({"serviceTask", "sendTask", "scriptTask", "businessRuleTask", "userTask"})
#: Activities: they can carry boundary events, IO mappings and multi-instance.
ACTIVITIES = frozenset({*JOB_TASKS, "receiveTask", "task", "manualTask", "subProcess", "callActivity"})
#: Job type Zeebe uses for job-based user tasks.
USER_TASK_TYPE = "io.camunda.zeebe:userTask"


@dataclass(slots=True)
class Mapping:
    """One `zeebe:input`/`zeebe:output`: `source` evaluated, written to the (dotted) `target`."""

    source: Expr
    target: str


@dataclass(slots=True)
class EventDef:
    """The event definition of an event element (none if `kind` is "none")."""

    kind: str = "none"  # none | message | timer | error | signal | terminate
    message_name: Expr | None = None
    correlation_key: Expr | None = None
    timer_kind: str = ""  # duration | date | cycle
    timer: Expr | None = None
    #: Error code to throw/catch; None on a catch event means "catch all".
    error_code: str | None = None
    signal_name: Expr | None = None


@dataclass(slots=True)
class Loop:
    """`multiInstanceLoopCharacteristics` with `zeebe:loopCharacteristics`."""

    sequential: bool
    input_collection: Expr
    input_element: str = ""
    output_collection: str = ""
    output_element: Expr | None = None
    completion: Expr | None = None


@dataclass(slots=True)
class Flow:
    id: str
    source: str
    target: str
    condition: Expr | None = None


@dataclass(slots=True)
class Element:
    """One flow node. `scope` is the id of the enclosing subprocess, or "" for the process."""

    id: str
    kind: str
    name: str = ""
    scope: str = ""
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    default_flow: str = ""
    event: EventDef = field(default_factory=EventDef)
    # jobs
    job_type: Expr | None = None
    job_retries: Expr | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # zeebe:script
    script: Expr | None = None
    result_variable: str = ""
    # mappings and loops
    inputs: list[Mapping] = field(default_factory=list)
    outputs: list[Mapping] = field(default_factory=list)
    loop: Loop | None = None
    # boundary events
    attached_to: str = ""
    cancel_activity: bool = True
    boundaries: list[str] = field(default_factory=list)
    # scopes (subProcess; the process itself is scope "")
    start_event: str = ""
    event_subprocesses: list[str] = field(default_factory=list)
    triggered_by_event: bool = False
    # event subprocess start events are interrupting unless isInterrupting="false"
    interrupting: bool = True
    # callActivity
    called_process: Expr | None = None
    propagate_all_child: bool = True
    propagate_all_parent: bool = True

    @property
    def is_activity(self) -> bool:
        return self.kind in ACTIVITIES

    @property
    def is_scope(self) -> bool:
        return self.kind == "subProcess"

    @property
    def is_job(self) -> bool:
        return self.job_type is not None


@dataclass(slots=True)
class ProcessDef:
    """One executable process of a deployed resource."""

    id: str
    name: str
    elements: dict[str, Element] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    #: The none start event of the process (empty: cannot be created by CreateProcessInstance).
    start_event: str = ""
    #: Start events with a message, timer or signal definition, at process level.
    message_starts: list[str] = field(default_factory=list)
    timer_starts: list[str] = field(default_factory=list)
    signal_starts: list[str] = field(default_factory=list)
    #: Event subprocesses directly in the process scope.
    event_subprocesses: list[str] = field(default_factory=list)
