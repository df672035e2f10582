"""Effects: what a transition does to the case besides moving it, named in the programme's
definition (`effects = ["start_notice"]`) and written once here. Each returns the columns
it changes; the service writes them with the move, in the same transaction.

And what a state's due date is (`due_on`), from the state's `deadline` sources.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from workflow import guards
from workflow.model import Case, Context
from workflow.programme import StateDef, TransitionDef
from workflow.rules import RoundRules

Effect = Callable[[Case, Context, TransitionDef], dict[str, Any]]


def record_submission(case: Case, ctx: Context, spec: TransitionDef) -> dict[str, Any]:
    """The day the applicant submitted (the province's review starts)."""
    return {"submitted_at": ctx.now}


def record_recommender(case: Case, ctx: Context, spec: TransitionDef) -> dict[str, Any]:
    """Who recommended: the same person may not approve (guard not_the_recommender)."""
    return {"recommended_by_id": ctx.actor.on_behalf_of_id or ctx.actor.user_id}


def start_notice(case: Case, ctx: Context, spec: TransitionDef) -> dict[str, Any]:
    """公示: from today, for the round's notice length in working days (002 does not fix
    it; 5 by default)."""
    return {"notice_published_on": ctx.today,
            "notice_ends_on": ctx.calendar.add_working_days(ctx.today,
                                                            ctx.rules.notice_working_days)}


def set_rectification_deadline(case: Case, ctx: Context, spec: TransitionDef
                               ) -> dict[str, Any]:
    """限期整改: the deadline the ministry gave (a new one when it continues the
    rectification; none given: the old one stands)."""
    if ctx.rectification_deadline is None:
        return {}
    return {"rectification_deadline": ctx.rectification_deadline}


def record_override(case: Case, ctx: Context, spec: TransitionDef) -> dict[str, Any]:
    """The criteria a reviewer moved the case on despite (guard `failed_criteria`): the
    case is marked for the next reviewer and on the ministry's list (002 §六)."""
    failed = {v.criterion for v in guards.overridable_failures(case, ctx)}
    if not failed:
        return {}
    return {"overridden_criteria": sorted(failed | set(case.overridden_criteria))}


def record_lateness(case: Case, ctx: Context, spec: TransitionDef) -> dict[str, Any]:
    """A step after the round's deadline (002 §六(三)): the case keeps the mark (its
    badge is the transition's `late_zh`)."""
    if guards.missed_deadline(spec, ctx) is None or spec.trigger in case.late_steps:
        return {}
    return {"late_steps": [*case.late_steps, spec.trigger]}


EFFECTS: dict[str, Effect] = {
    "record_submission": record_submission, "record_recommender": record_recommender,
    "start_notice": start_notice, "set_rectification_deadline": set_rectification_deadline,
    "record_override": record_override, "record_lateness": record_lateness,
}


def history_notes(case: Case, ctx: Context, spec: TransitionDef) -> dict[str, Any]:
    """What the history row keeps of an override or a late step: the criteria with their
    figures and the reason; the deadline missed, its badge and the reason."""
    out: dict[str, Any] = {}
    failed = guards.overridable_failures(case, ctx) if "failed_criteria" in spec.guards else []
    if failed and ctx.override_reason:
        out["override"] = {"reason": ctx.override_reason.strip(),
                           "criteria": [v.criterion for v in failed],
                           "verdicts": [v.as_dict() for v in failed]}
    missed = guards.missed_deadline(spec, ctx)
    if missed is not None:
        out["late"] = {"deadline": missed.isoformat(), "badge_zh": spec.late_zh,
                       "badge_en": spec.late_en, "reason": (ctx.late_reason or "").strip()}
    return out


def apply(case: Case, ctx: Context, spec: TransitionDef) -> dict[str, Any]:
    """Every effect of `spec`, in order: the columns they change."""
    out: dict[str, Any] = {}
    for name in spec.effects:
        out.update(EFFECTS[name](case, ctx, spec))
    return out


def due_on(state: StateDef, rules: RoundRules, notice_ends_on: date | None,
           rectification_deadline: date | None) -> date | None:
    """The case's due date in `state`: the first of the state's deadline sources that is
    set (the round's dates, the case's notice or rectification deadline)."""
    sources: dict[str, date | None] = {
        "round.provincial_internal_deadline": rules.provincial_internal_deadline,
        "round.submission_deadline": rules.submission_deadline,
        "round.approval_deadline": rules.approval_deadline,
        "case.notice_ends_on": notice_ends_on,
        "case.rectification_deadline": rectification_deadline,
    }
    return next((d for d in (sources[s] for s in state.deadline) if d is not None), None)
