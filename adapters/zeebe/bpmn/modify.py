"""Process instance modification (ModifyProcessInstance), on Zeebe 8.6's rules.

Instructions: activate an element (optionally below a chosen ancestor element instance, with
variables for the element or one of its flow scopes) and terminate element instances. Activations
run first, then terminations; a flow scope left with nothing active (and not needed by an
activation) is terminated too, up to the process instance itself.

`validate` is the static part (the request against the definition and the instance's current
state); `apply` performs the instructions on a `Run` and raises `ModifyRejected` for what only
shows while doing it (several instances of a flow scope, terminating a called child process, a
multi-instance body to create). Every rejection is Zeebe's INVALID_ARGUMENT with Zeebe's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.zeebe.bpmn.model import ProcessDef
from adapters.zeebe.bpmn.state import State

if TYPE_CHECKING:
    from adapters.zeebe.bpmn.runtime import Run

#: Zeebe's element types that cannot be activated by a modification.
_UNSUPPORTED = {"startEvent": "START_EVENT", "boundaryEvent": "BOUNDARY_EVENT"}
_SUPPORTED_TEXT = (
    "[PROCESS, SUB_PROCESS, EVENT_SUB_PROCESS, AD_HOC_SUB_PROCESS, INTERMEDIATE_CATCH_EVENT, "
    "INTERMEDIATE_THROW_EVENT, END_EVENT, SERVICE_TASK, RECEIVE_TASK, USER_TASK, MANUAL_TASK, TASK, "
    "EXCLUSIVE_GATEWAY, PARALLEL_GATEWAY, EVENT_BASED_GATEWAY, INCLUSIVE_GATEWAY, MULTI_INSTANCE_BODY, "
    "CALL_ACTIVITY, BUSINESS_RULE_TASK, SCRIPT_TASK, SEND_TASK]"
)


class ModifyRejected(Exception):
    """The modification is refused (Zeebe rejects it with INVALID_ARGUMENT)."""


@dataclass(slots=True)
class Activate:
    element_id: str
    ancestor: int = -1
    #: (scope element id, variables); "" is the process instance's scope.
    variables: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"el": self.element_id, "anc": self.ancestor, "vars": [[s, v] for s, v in self.variables]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Activate:
        return cls(str(d["el"]), int(d.get("anc", -1)), [(str(s), dict(v)) for s, v in d.get("vars", [])])


def _ids(ids: list[str]) -> str:
    return "', '".join(dict.fromkeys(ids))


def _prefix(pid: str) -> str:
    return f"Expected to modify instance of process '{pid}' but it contains one or more"


def scope_chain(proc: ProcessDef, element_id: str) -> list[str]:
    """The flow scopes of an element, innermost first, ending with "" (the process)."""
    out = []
    scope = proc.elements[element_id].scope
    while scope:
        out.append(scope)
        scope = proc.elements[scope].scope
    out.append("")
    return out


def _after_event_gateway(proc: ProcessDef, element_id: str) -> bool:
    el = proc.elements[element_id]
    if el.kind not in ("intermediateCatchEvent", "receiveTask"):
        return False
    return any(proc.elements[proc.flows[f].source].kind == "eventBasedGateway" for f in el.incoming)


def _scope_id(state: State, proc: ProcessDef, key: str) -> str:
    """The element id of an element instance as a flow scope ("" for the process instance)."""
    return "" if key == state.root else str(state.ei[key]["id"])


def validate(proc: ProcessDef, state: State, activates: list[Activate], terminates: list[int]) -> None:
    """The static checks, in Zeebe's order; raises ModifyRejected."""
    pid = proc.id
    missing = [a.element_id for a in activates if a.element_id not in proc.elements
               and a.element_id not in proc.flows]
    if missing:
        raise ModifyRejected(f"{_prefix(pid)} activate instructions with an element that could not be found: "
                             f"'{_ids(missing)}'")
    evgw = [a.element_id for a in activates if a.element_id in proc.elements
            and _after_event_gateway(proc, a.element_id)]
    if evgw:
        raise ModifyRejected(f"{_prefix(pid)} activate instructions for elements that are unsupported: "
                             f"'{_ids(evgw)}'. The activation of events belonging to an "
                             "event-based gateway is not supported.")
    bad: dict[str, str] = {}
    for a in activates:
        if a.element_id in proc.flows:
            bad[a.element_id] = "SEQUENCE_FLOW"
        elif proc.elements[a.element_id].kind in _UNSUPPORTED:
            bad[a.element_id] = _UNSUPPORTED[proc.elements[a.element_id].kind]
    if bad:
        raise ModifyRejected(
            f"{_prefix(pid)} activate instructions for elements that are unsupported: '{_ids(list(bad))}'. "
            f"The activation of elements with type '{_ids(list(bad.values()))}' is not "
            f"supported. Supported element types are: {_SUPPORTED_TEXT}."
        )
    unknown = [str(k) for k in dict.fromkeys(terminates) if str(k) not in state.ei]
    if unknown:
        raise ModifyRejected(f"{_prefix(pid)} terminate instructions with an element instance that could not be "
                             f"found: '{_ids(unknown)}'")
    scopes = [s for a in activates for s, _ in a.variables if s and s not in proc.elements]
    if scopes:
        raise ModifyRejected(f"{_prefix(pid)} variable instructions with a scope element id that could not be "
                             f"found: '{_ids(scopes)}'")
    for a in activates:
        chain = scope_chain(proc, a.element_id)
        if any(s and s != a.element_id and s not in chain for s, _ in a.variables):
            raise ModifyRejected(
                f"{_prefix(pid)} variable instructions with a scope element that doesn't belong to the activating "
                "element's flow scope. These variables should be set before or after the modification."
            )
    ancestors = {a.ancestor for a in activates if a.ancestor > 0}
    gone = [str(k) for k in sorted(ancestors) if str(k) not in state.ei]
    if gone:
        raise ModifyRejected(f"{_prefix(pid)} activate instructions with an ancestor scope key that does not "
                             f"exist, or is not in an active state: '{_ids(gone)}'")
    wrong = ""
    for a in activates:
        if a.ancestor > 0:
            anc_id = _scope_id(state, proc, str(a.ancestor))
            if anc_id not in scope_chain(proc, a.element_id):
                shown = anc_id or pid
                wrong += f"\n- instance '{a.ancestor}' of element '{shown}' is not an ancestor of element " \
                         f"'{a.element_id}'"
    if wrong:
        raise ModifyRejected(f"{_prefix(pid)} activate instructions with an ancestor scope key that is not an "
                             f"ancestor of the element to activate:{wrong}")
    terminated = {str(k) for k in terminates}
    conflicts = []
    for a in activates:
        if a.ancestor > 0:
            required = str(a.ancestor)
        else:
            scope = proc.elements[a.element_id].scope
            found = [k for k, r in state.ei.items()
                     if scope and r["id"] == scope and "mi" not in r["x"] and k != state.root]
            required = found[0] if found else (state.root if not scope else "")
        if required and required in terminated:
            conflicts.append(f"element '{a.element_id}' requires flow scope instance '{required}' which is being "
                             "terminated")
    if conflicts:
        raise ModifyRejected(
            f"{_prefix(pid)} activate instructions for elements whose required flow scope instance is also being "
            f"terminated: {', '.join(conflicts)}. Please provide a valid ancestor scope key for the activation or "
            "avoid terminating the required flow scope."
        )


# ---------------------------------------------------------------------------------------------- apply

def _descends(state: State, key: str, ancestor: str) -> bool:
    while key is not None:
        if key == ancestor:
            return True
        rec = state.ei.get(key)
        if rec is None:
            return False
        key = rec["p"]
    return False


def _flow_scope(run: Run, a: Activate, required: set[str]) -> dict[str, str]:
    """Find or create the flow scope instances of the element to activate; returns element id ->
    instance key for each level ("" = the process instance)."""
    state, proc = run.state, run.proc
    chain = scope_chain(proc, a.element_id)  # innermost first
    levels = list(reversed(chain))  # "" first
    keys: dict[str, str] = {"": state.root}
    current = state.root
    start = 1
    if a.ancestor > 0:
        anc = str(a.ancestor)
        anc_id = _scope_id(state, proc, anc)
        if "mi" in state.ei[anc]["x"]:
            raise ModifyRejected(
                f"Expected to modify instance of process '{proc.id}' but it contains one or more activate "
                f"instructions that would result in the activation of multi-instance element '{anc_id}', which is "
                "currently unsupported."
            )
        start = levels.index(anc_id) + 1
        current = anc
        keys[anc_id] = anc
    for level in levels[start:]:
        found: list[str] = []
        if a.ancestor <= 0:
            found = [k for k, r in state.ei.items()
                     if r["id"] == level and "mi" not in r["x"] and k != state.root and _descends(state, k, current)]
        if len(found) > 1:
            raise ModifyRejected(
                f"Expected to modify instance of process '{proc.id}' but it contains one or more activate "
                f"instructions for an element that has a flow scope with more than one active instance: '{level}'. "
                "Can't decide in which instance of the flow scope the element should be activated. Please specify "
                "an ancestor element instance key for this activate instruction."
            )
        if found:
            current = found[0]
        else:
            el = proc.elements[level]
            if el.loop is not None:
                raise ModifyRejected(
                    f"Expected to modify instance of process '{proc.id}' but it contains one or more activate "
                    f"instructions that would result in the activation of multi-instance element '{level}', which "
                    "is currently unsupported."
                )
            key = run.key()
            state.add(key, level, current)
            if el.boundaries:
                run.open_boundaries(key, el)
            if not el.triggered_by_event:
                run.open_event_subprocesses(key, el.event_subprocesses)
            current = key
        keys[level] = current
    required.update(keys.values())
    return keys


def apply(run: Run, activates: list[Activate], terminates: list[int]) -> None:
    """Perform the instructions (activations first); raises ModifyRejected (state then undefined:
    callers work on a copy or drop the step)."""
    state = run.state
    required: set[str] = set()
    for a in activates:
        scopes = _flow_scope(run, a, required)
        for scope_id, variables in a.variables:
            if scope_id and scope_id != a.element_id:
                state.set_local(scopes[scope_id], variables)
            elif not scope_id:
                state.set_local(state.root, variables)
        key = run.key()
        state.add(key, a.element_id, scopes[scope_chain(run.proc, a.element_id)[0]])
        for scope_id, variables in a.variables:
            if scope_id == a.element_id:
                state.set_local(key, variables)
        run.enter(key)
    for t in terminates:
        key = str(t)
        if key not in state.ei:
            continue  # already gone with an earlier instruction
        if key == state.root:
            _terminate_process(run)
            return
        parent = state.ei[key]["p"]
        run.terminate(key)
        _terminate_empty_scopes(run, parent, required)
        if run.fx.status is not None:
            return


def _terminate_process(run: Run) -> None:
    if run.state.doc.get("parent"):
        raise ModifyRejected(
            f"Expected to modify instance of process '{run.proc.id}' but the given instructions would terminate "
            "the instance. The instance was created by a call activity in the parent process. To terminate this "
            "instance please modify the parent process instead."
        )
    run.cancel_process()


def _terminate_empty_scopes(run: Run, scope: str | None, required: set[str]) -> None:
    state = run.state
    while scope is not None and scope in state.ei and scope not in required:
        rec = state.ei[scope]
        if state.children(scope) or rec["x"].get("joins") or rec["x"].get("child"):
            return
        if scope == state.root:
            _terminate_process(run)
            return
        parent = rec["p"]
        run.terminate(scope)
        scope = parent
