"""The one shared state machine (pytransitions), and firing triggers against it.

The machine is built once from `workflow.states.TRANSITIONS`. A case is never kept on
it: `fire` runs the trigger's event on a tiny token carrying the state
(`Event.trigger(model, …)`), never attached, so the machine's model list stays empty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from workflow.errors import GuardFailed, InvalidTrigger, Refusal, refuse
from workflow.guards import GUARDS, guards_of
from workflow.model import Case, Context
from workflow.programme import check_names
from workflow.states import BY_TRIGGER, PROGRAMME, TRANSITIONS, State, TransitionSpec

log = logging.getLogger(__name__)


class _Token:
    """Stand-in model carrying only the state while a trigger runs."""

    __slots__ = ("state", "__dict__")

    def __init__(self) -> None:
        self.state = PROGRAMME.initial


def _condition(guard_name: str) -> Any:
    def check(event: Any) -> bool:
        case: Case = event.kwargs["case"]
        ctx: Context = event.kwargs["ctx"]
        spec = BY_TRIGGER[event.event.name]
        refusal = GUARDS[guard_name](case, ctx, spec)
        if refusal is not None:
            log.info("guard %s refused %s on case %s: %s", guard_name, spec.trigger, case.id,
                     refusal.en)
            raise GuardFailed(refusal)
        return True

    check.__name__ = f"guard_{guard_name}"
    return check


def _build() -> Machine:
    rows = []
    for spec in TRANSITIONS:
        conditions = [_condition(g) for g in guards_of(spec)]
        rows.append({"trigger": spec.trigger, "source": [s.value for s in spec.sources],
                     "dest": spec.dest.value, "conditions": conditions})
    return Machine(model=None, states=[s.value for s in State], transitions=rows,
                   initial=PROGRAMME.initial, auto_transitions=False, send_event=True,
                   ignore_invalid_triggers=False)


def _check_library() -> None:
    """Every guard and effect the programme names exists (a clear start-up error)."""
    from workflow.effects import EFFECTS

    check_names(PROGRAMME, GUARDS, EFFECTS)


_check_library()
MACHINE = _build()


@dataclass(frozen=True)
class Outcome:
    trigger: str
    source: State
    dest: State


def spec_for(trigger: str, state: State) -> TransitionSpec:
    """The table row for `trigger`, or `InvalidTrigger` (unknown / not from this state)."""
    spec = BY_TRIGGER.get(trigger)
    if spec is None:
        raise InvalidTrigger(refuse("unknown_trigger", f"未知操作：{trigger}",
                                    f"unknown trigger: {trigger}", field="trigger"))
    if state not in spec.sources:
        raise InvalidTrigger(refuse(
            "trigger_not_allowed_in_state",
            f"当前状态“{state.zh}”下不能执行“{spec.zh}”",
            f"cannot {spec.en.lower()} while the case is {state.en}", field="trigger",
            details={"state": state.value}))
    return spec


def check(case: Case, trigger: str, ctx: Context) -> list[Refusal]:
    """Every guard that would refuse `trigger` now (empty list: allowed)."""
    spec = spec_for(trigger, case.state)
    out = []
    for name in guards_of(spec):
        r = GUARDS[name](case, ctx, spec)
        if r is not None:
            out.append(r)
            if name in ("role", "scope"):
                break  # say nothing more about a case the actor may not touch
    return out


def options(case: Case, ctx: Context, *, ignore_reason: bool = True
            ) -> tuple[list[str], dict[str, list[Refusal]]]:
    """The triggers the actor may fire now, and those their role could fire in this state
    that a guard refuses now, with why. Triggers of other roles, and any on a case out of
    the actor's scope, are in neither (a reason, if needed, is asked for when firing)."""
    allowed: list[str] = []
    refused: dict[str, list[Refusal]] = {}
    for spec in TRANSITIONS:
        if case.state not in spec.sources:
            continue
        refusals = check(case, spec.trigger, ctx)
        if ignore_reason:
            refusals = [r for r in refusals if r.guard not in ("reason", "rectification_deadline")]
        if not refusals:
            allowed.append(spec.trigger)
        elif refusals[0].guard not in ("role", "scope"):
            refused[spec.trigger] = refusals
    return allowed, refused


def available(case: Case, ctx: Context, *, ignore_reason: bool = True) -> list[str]:
    """Triggers the actor may fire now (a reason, if needed, is asked for when firing)."""
    return options(case, ctx, ignore_reason=ignore_reason)[0]


def fire(case: Case, trigger: str, ctx: Context) -> Outcome:
    """Run `trigger` on the shared machine; raise `InvalidTrigger` or `GuardFailed`."""
    spec_for(trigger, case.state)
    token = _Token()
    token.state = case.state.value
    try:
        # the event runs on the token without attaching it: nothing to add or remove
        ok = MACHINE.events[trigger].trigger(token, case=case, ctx=ctx)
    except MachineError as exc:  # pragma: no cover - spec_for already checked the source
        raise InvalidTrigger(refuse("trigger_not_allowed_in_state", str(exc), str(exc))) from exc
    if not ok:  # pragma: no cover - guards raise instead of returning False
        raise GuardFailed(refuse("guard_failed", "条件不满足", "a guard refused"))
    source, dest = case.state, State(token.state)
    case.state = dest
    return Outcome(trigger, source, dest)
