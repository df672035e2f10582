"""The state machines (pytransitions), one per programme, and firing triggers on them.

Each programme's machine is built once from its definition (`workflow.programme`; notice
002's is `programmes/mofcom-2006-6.toml`). A case is never kept on it: `fire` runs the
trigger's event on a tiny token carrying the state (`Event.trigger(model, …)`), never
attached, so the machine's model list stays empty. A case carries its programme
(`Case.programme`): the same engine runs every programme.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from workflow.errors import GuardFailed, InvalidTrigger, Refusal, refuse
from workflow.guards import ASKED_WHEN_FIRING, GUARDS, guards_of
from workflow.model import Case, Context
from workflow.programme import Programme, TransitionDef, check_names, known
from workflow.states import PROGRAMME

log = logging.getLogger(__name__)


class _Token:
    """Stand-in model carrying only the state while a trigger runs."""

    __slots__ = ("state", "__dict__")

    def __init__(self, state: str) -> None:
        self.state = state


def _condition(guard_name: str) -> Any:
    def check(event: Any) -> bool:
        case: Case = event.kwargs["case"]
        ctx: Context = event.kwargs["ctx"]
        spec = case.programme.by_trigger[event.event.name]
        refusal = GUARDS[guard_name](case, ctx, spec)
        if refusal is not None:
            log.info("guard %s refused %s on case %s: %s", guard_name, spec.trigger, case.id,
                     refusal.en)
            raise GuardFailed(refusal)
        return True

    check.__name__ = f"guard_{guard_name}"
    return check


def _build(p: Programme) -> Machine:
    from workflow.effects import EFFECTS

    check_names(p, GUARDS, EFFECTS)  # every guard and effect the file names exists
    rows = []
    for spec in p.transitions:
        conditions = [_condition(g) for g in guards_of(spec)]
        rows.append({"trigger": spec.trigger, "source": list(spec.sources),
                     "dest": spec.dest, "conditions": conditions})
    return Machine(model=None, states=list(p.states), transitions=rows, initial=p.initial,
                   auto_transitions=False, send_event=True, ignore_invalid_triggers=False)


_machines: dict[int, Machine] = {}  # id(programme) -> its machine (programmes are kept)
_kept: list[Programme] = []


def machine_for(p: Programme) -> Machine:
    """The machine of programme `p`, built once."""
    found = _machines.get(id(p))
    if found is None:
        found = _machines[id(p)] = _build(p)
        _kept.append(p)  # its id stays its own
    return found


MACHINE = machine_for(PROGRAMME)  # notice 002's, checked at start-up
for _other in known():  # and every other file under programmes/: a guard misspelt stops the start
    machine_for(_other)


@dataclass(frozen=True)
class Outcome:
    trigger: str
    source: str
    dest: str


def spec_for(trigger: str, state: str, p: Programme = PROGRAMME) -> TransitionDef:
    """The definition's row for `trigger`, or `InvalidTrigger` (unknown / not from this
    state)."""
    spec = p.by_trigger.get(trigger)
    if spec is None:
        raise InvalidTrigger(refuse("unknown_trigger", f"未知操作：{trigger}",
                                    f"unknown trigger: {trigger}", field="trigger"))
    if state not in spec.sources:
        defined = p.states.get(str(state))
        zh, en = (defined.zh, defined.en.lower()) if defined else (str(state), str(state))
        raise InvalidTrigger(refuse(
            "trigger_not_allowed_in_state", f"当前状态“{zh}”下不能执行“{spec.zh}”",
            f"cannot {spec.en.lower()} while the case is {en}", field="trigger",
            details={"state": str(state)}))
    return spec


def check(case: Case, trigger: str, ctx: Context) -> list[Refusal]:
    """Every guard that would refuse `trigger` now (empty list: allowed)."""
    spec = spec_for(trigger, case.state, case.programme)
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
    for spec in case.programme.triggers_from(case.state):
        refusals = check(case, spec.trigger, ctx)
        if ignore_reason:
            refusals = [r for r in refusals if r.guard not in ASKED_WHEN_FIRING]
        if not refusals:
            allowed.append(spec.trigger)
        elif refusals[0].guard not in ("role", "scope"):
            refused[spec.trigger] = refusals
    return allowed, refused


def asks(case: Case, ctx: Context, trigger: str) -> list[Refusal]:
    """What firing `trigger` will ask for besides a plain reason: an override of a failed
    criterion, a reason for being late (shown as a warning beside the action)."""
    return [r for r in check(case, trigger, ctx)
            if r.guard in ASKED_WHEN_FIRING and r.guard not in ("reason",
                                                                  "rectification_deadline")]


def available(case: Case, ctx: Context, *, ignore_reason: bool = True) -> list[str]:
    """Triggers the actor may fire now (a reason, if needed, is asked for when firing)."""
    return options(case, ctx, ignore_reason=ignore_reason)[0]


def fire(case: Case, trigger: str, ctx: Context) -> Outcome:
    """Run `trigger` on the case's programme's machine; raise `InvalidTrigger` or
    `GuardFailed`."""
    spec_for(trigger, case.state, case.programme)
    token = _Token(str(case.state))
    try:
        # the event runs on the token without attaching it: nothing to add or remove
        ok = machine_for(case.programme).events[trigger].trigger(token, case=case, ctx=ctx)
    except MachineError as exc:  # pragma: no cover - spec_for already checked the source
        raise InvalidTrigger(refuse("trigger_not_allowed_in_state", str(exc), str(exc))) from exc
    if not ok:  # pragma: no cover - guards raise instead of returning False
        raise GuardFailed(refuse("guard_failed", "条件不满足", "a guard refused"))
    source, dest = str(case.state), str(token.state)
    case.state = dest
    return Outcome(trigger, source, dest)
