"""Periodic assessment (定期评估, 002 §六(三)) and its confirmation by the ministry.

The ministry's runs (page and API alike) are recorded and queued by `request_run` and done
by the worker; `run(uow, period, dry_run)` assesses every designated base from one snapshot read in a fixed
number of statements, and writes one evaluation per (base, period) — running twice gives
the same single row; a run killed half-way is finished by `execute(uow, run_id)` (the
Celery task is redelivered: acks_late), skipping what it already wrote. A dry run ("what if
we assessed today") writes nothing. `confirm` moves each case through `cases.fire`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from workflow import permissions, reporting
from workflow.assessment import (
    KEEP,
    PROPOSAL_TRIGGER,
    PROPOSALS,
    RECTIFY,
    REVOKE,
    AnnualFigures,
    Assessment,
    AssessmentRules,
    BaseFigures,
    QuarterFigures,
    assess,
)
from workflow.errors import (
    DomainError,
    GuardFailed,
    NotFound,
    Refusal,
    ValidationFailed,
    refuse,
)
from workflow.rules import RoundRules
from workflow.services import cases
from workflow.services.clock import local_date, utcnow
from workflow.states import State
from workflow.storage import (
    cases_repo,
    reference_repo,
    reports_repo,
    rounds_repo,
    users_repo,
)
from workflow.storage.models import ApplicationRow, EvaluationRunRow
from workflow.storage.uow import DbSession, UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class RunCounts:
    """What a run did: bases assessed and proposals by kind."""

    period: int
    dry_run: bool
    run_id: int | None = None
    bases: int = 0
    written: int = 0  # evaluations written by this call (a resumed run skips finished ones)
    proposals: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PROPOSALS})

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "dry_run": self.dry_run, "run_id": self.run_id,
                "bases": self.bases, "written": self.written, **self.proposals}


@dataclass
class Preview:
    """A dry run: every base's assessment, nothing stored."""

    counts: RunCounts
    items: list[tuple[Assessment, str, str]]  # (assessment, base name, region)
    provisional: Refusal | None = None  # why the findings may still change (year not closed)


def _check_period(period: int, today: date) -> None:
    if not 2006 <= period <= today.year:
        raise ValidationFailed(refuse("invalid_period", f"评估年度应在 2006–{today.year} 之间",
                                      f"the period must be a year from 2006 to {today.year}",
                                      field="period", details={"value": str(period)}))


def _not_closed(session: DbSession, period: int, today: date) -> Refusal | None:
    """Why `period` cannot be assessed for real yet: its last report is not yet due."""
    closes = reporting.period_closes_on(period, RoundRules.for_year(period),
                                        reference_repo.load_calendar(session))
    if today > closes:
        return None
    return refuse("period_not_closed",
                  f"{period}年度尚未结束：最后一期数据（第四季度）应于 {closes.isoformat()} 前报送，"
                  f"此后方可正式评估；试评估的结论是暂定的，未到期的报告不计为缺报",
                  f"{period} has not closed: its last data (Q4) are due by {closes.isoformat()}; "
                  "only after that can it be assessed for real — a dry run's findings are "
                  "provisional, and reports not yet due do not count as missing",
                  field="period", details={"closes_on": closes.isoformat()})


def default_period(today: date) -> int:
    """The year a scheduled run assesses: the last complete year."""
    return today.year - 1


# --- computing -------------------------------------------------------------------------------

def _assess_all(session: DbSession, period: int, today: date, skip: set[int] | None = None
                ) -> list[tuple[Assessment, str, str]]:
    """Assess every designated base from one snapshot (a fixed number of SELECTs)."""
    snap = reports_repo.snapshot(session, period)
    references = reference_repo.load_references(session)
    cal = reference_repo.load_calendar(session)
    quarters: dict[int, dict[tuple[int, int], QuarterFigures]] = defaultdict(dict)
    for app_id, y, q, exports, hightech, at in snap.quarters:
        quarters[app_id][(y, q)] = QuarterFigures(y, q, Decimal(exports or 0),
                                                  Decimal(hightech or 0), local_date(at))
    years: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for app_id, y, total in snap.years:
        years[app_id][y] = Decimal(total)
    annual = {a.application_id: AnnualFigures(a.year, local_date(a.submitted_at),
                                              a.policies_in_force, a.project_funding_10k_cny)
              for a in snap.annual}
    rules_of = _rules_by_round(session, snap)
    out = []
    for b in snap.bases:
        if skip and b.id in skip:
            continue
        found = rules_of(b.round_id)
        if found is None:  # its programme has no [assessment]: not re-evaluated
            continue
        round_rules, rules = found
        figures = BaseFigures(
            application_id=b.id, kind=b.kind, region=b.region, state=b.state,
            data_year=round_rules.data_year,
            form_hightech_exports_100m_usd=b.hightech_exports_100m_usd,
            form_growth_pcts=(b.hightech_export_growth_pct_prev2,
                              b.hightech_export_growth_pct_prev1, b.hightech_export_growth_pct),
            quarters=quarters.get(b.id, {}), yearly_hightech_10k_usd=years.get(b.id, {}),
            annual={period: annual[b.id]} if b.id in annual else {},
            rectification_deadline=b.rectification_deadline, name=b.applicant_name or "",
            authorities=tuple(c for c in (b.authority_code, b.province_code) if c))
        out.append((assess(figures, period, today, round_rules, references, rules, cal),
                    b.applicant_name or "", b.region))
    return out


def _rules_by_round(session: DbSession, snap: reports_repo.Snapshot
                    ) -> Callable[[int], tuple[RoundRules, AssessmentRules] | None]:
    """round id -> its rules and its programme's re-evaluation rules (`[assessment]` of the
    definition it runs by, with the round's overrides), each worked out once; None for a
    programme without [assessment]."""
    cache: dict[int, tuple[RoundRules, AssessmentRules] | None] = {}

    def rules_of(round_id: int) -> tuple[RoundRules, AssessmentRules] | None:
        if round_id not in cache:
            year, params, code, source_hash = snap.rounds[round_id]
            defined = rounds_repo.programme_of_record(session, round_id, code,
                                                      source_hash).assessment
            cache[round_id] = None if defined is None else (
                RoundRules.from_json({**params, "year": year}),
                AssessmentRules.from_params(params, defined))
        return cache[round_id]
    return rules_of


def proposals_for(uow: UnitOfWork, period: int, now: datetime, only: set[int]
                  ) -> dict[int, Assessment]:
    """The system's proposal for `period` for some bases (a province's), nothing written:
    what the province sees beside its own assessment (workflow.services.supervision)."""
    if not only:
        return {}
    with uow.read():
        items = _assess_all(uow.session, period, local_date(now))
    return {a.application_id: a for a, _n, _r in items if a.application_id in only}


def _row(a: Assessment, run_id: int) -> dict[str, Any]:
    return {"application_id": a.application_id, "period": a.period, "run_id": run_id,
            "proposal": a.proposal, "findings": a.findings_json(),
            "indicators": a.indicators_json(), "explanation_zh": a.explanation("zh"),
            "explanation_en": a.explanation("en"), "status": "proposed"}


# --- running ---------------------------------------------------------------------------------

def preview(uow: UnitOfWork, user_id: int | None, period: int, now: datetime | None = None
            ) -> Preview:
    """Dry run: "what if we assessed today" — every proposal, nothing written."""
    now = now or utcnow()
    today = local_date(now)
    _check_period(period, today)
    with uow.read():
        s = uow.session
        if user_id is not None:
            permissions.require(users_repo.user_by_id(s, user_id), "assessment.run")
        items = _assess_all(s, period, today)
        provisional = _not_closed(s, period, today)
    counts = RunCounts(period, True, bases=len(items))
    counts.proposals.update(Counter(a.proposal for a, _, _ in items))
    return Preview(counts, items, provisional)


def start(uow: UnitOfWork, user_id: int | None, period: int, now: datetime | None = None) -> int:
    """Record a run for `period` (status queued) and return its id; `execute` does the work."""
    now = now or utcnow()
    _check_period(period, local_date(now))
    with uow:
        s = uow.session
        if user_id is not None:
            permissions.require(users_repo.user_by_id(s, user_id), "assessment.run")
        not_closed = _not_closed(s, period, local_date(now))
        if not_closed is not None:
            raise ValidationFailed(not_closed)
        run = EvaluationRunRow(period=period, dry_run=False, status="queued",
                               started_by_id=user_id, started_at=now, summary={})
        s.add(run)
        s.flush()
        reports_repo.supersede_running(s, period, run.id)
        uow.record("assessment_started", run_id=run.id, period=period, user_id=user_id)
        uow.commit()
        return run.id


def request_run(uow: UnitOfWork, user_id: int, period: int, queue: Callable[[int], object],
                now: datetime | None = None) -> int:
    """The ministry asks for a run of `period`, on the page or through the API alike: the
    run is recorded (queued) and, once that has committed, its id handed to `queue` — the
    worker then does it (`execute`). Returns the run's id."""
    run_id = start(uow, user_id, period, now)
    queue(run_id)
    return run_id


def execute(uow: UnitOfWork, run_id: int, *, now: datetime | None = None, chunk_size: int = 0,
            pause_seconds: float = 0.0,
            progress: Callable[[int, int], None] | None = None) -> RunCounts:
    """Do (or resume) a run: assess every designated base and write its evaluation.

    With `chunk_size` 0 everything is written in one transaction (a constant number of
    statements); otherwise every chunk commits on its own, so a killed worker resumes where
    it stopped — bases this run already wrote are skipped. Safe to call again and again."""
    now = now or utcnow()
    today = local_date(now)
    with uow:
        s = uow.session
        run = reports_repo.run_row(s, run_id)
        if run is None:
            raise NotFound(refuse("not_found", "未找到该评估批次", "assessment run not found"))
        period = run.period
        if run.status in ("finished", "superseded"):
            return RunCounts(period, False, run_id, **_summary_counts(run.summary))
        done = reports_repo.ids_done_by_run(s, period, run_id)
        items = _assess_all(s, period, today, skip=done)
        run.status = "running"
        uow.commit()
    counts = RunCounts(period, False, run_id, bases=len(items) + len(done))
    size = chunk_size if chunk_size > 0 else max(len(items), 1)
    for start_at in range(0, len(items), size):
        chunk = items[start_at:start_at + size]
        with uow:
            reports_repo.write_evaluations(uow.session, [_row(a, run_id) for a, _, _ in chunk],
                                           now)
            uow.commit()
        counts.written += len(chunk)
        if progress is not None:
            progress(counts.written, len(items))
        if pause_seconds and start_at + size < len(items):
            time.sleep(pause_seconds)
    with uow:
        s = uow.session
        run = reports_repo.run_row(s, run_id)
        assert run is not None
        counts.proposals.update(reports_repo.proposal_counts(s, period))
        if run.status == "running":
            run.status = "finished"
        run.finished_at = now
        run.summary = counts.as_dict()
        uow.record("assessment_finished", run_id=run_id, period=period,
                   **{k: v for k, v in counts.proposals.items()})
        uow.commit()
    log.info("assessment run %s for %s: %s", run_id, period, counts.as_dict())
    return counts


def _summary_counts(summary: dict[str, Any]) -> dict[str, Any]:
    return {"bases": int(summary.get("bases", 0)), "written": 0,
            "proposals": {p: int(summary.get(p, 0)) for p in PROPOSALS}}


def run(uow: UnitOfWork, period: int, dry_run: bool = False, *, user_id: int | None = None,
        now: datetime | None = None, chunk_size: int = 0) -> RunCounts:
    """Assess every designated base for `period` (the benchmark and beat call this).
    Dry run: compute only. Returns counts of bases and proposals."""
    if dry_run:
        return preview(uow, user_id, period, now).counts
    run_id = start(uow, user_id, period, now)
    return execute(uow, run_id, now=now, chunk_size=chunk_size)


def scheduled(uow: UnitOfWork, now: datetime | None = None) -> RunCounts:
    """The yearly run started by beat: the last complete year."""
    now = now or utcnow()
    period = default_period(local_date(now))
    with uow:
        pending = reports_repo.unfinished_run(uow.session, period)
        run_id = pending.id if pending is not None else None
    if run_id is None:
        run_id = start(uow, None, period, now)
    return execute(uow, run_id, now=now)


def runs(uow: UnitOfWork, user_id: int) -> list[EvaluationRunRow]:
    """The recent runs, newest first (ministry)."""
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, user_id), "assessment.run")
        return reports_repo.runs(uow.session)


def run_of(uow: UnitOfWork, user_id: int, run_id: int) -> EvaluationRunRow:
    """One run and how far it is: queued, running, finished or superseded (ministry)."""
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, user_id), "assessment.run")
        row = reports_repo.run_row(uow.session, run_id)
        if row is None:
            raise NotFound(refuse("not_found", "未找到该评估批次", "assessment run not found"))
        return row


def proposals(uow: UnitOfWork, user_id: int, period: int, *, proposal: str | None = None,
              status: str | None = None) -> list[tuple[Any, str | None, str, str]]:
    """Stored evaluations of a period: (evaluation, base name, region, case state)."""
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, user_id), "assessment.run")
        return reports_repo.evaluations(uow.session, period, proposal=proposal, status=status)


# --- programme view ------------------------------------------------------------------------

@dataclass
class RegionShare:
    region: str
    bases: int
    complete: int  # bases with all four quarters reported
    hightech_100m_usd: Decimal
    share_pct: Decimal | None  # of national high-tech exports


@dataclass
class ProgrammeShare:
    """The bases' share of national high-tech exports, by region (002 §一: goal ~70 %)."""

    year: int
    national_100m_usd: Decimal | None
    regions: list[RegionShare]
    goal_pct: Decimal | None  # the programme's [goals] share_pct (002 §一)

    @property
    def total_100m_usd(self) -> Decimal:
        return sum((r.hightech_100m_usd for r in self.regions), Decimal(0))

    @property
    def total_share_pct(self) -> Decimal | None:
        if not self.national_100m_usd:
            return None
        return (self.total_100m_usd / self.national_100m_usd * 100).quantize(Decimal("0.01"))


def programme_share(uow: UnitOfWork, user_id: int, year: int) -> ProgrammeShare:
    """Designated bases' high-tech exports of `year` by region against the national figure
    the ministry entered (reference statistics)."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        permissions.require(user, "reports.programme")
        ref = reports_repo.reference_row(s, year)
        national = ref.national_hightech_exports_100m_usd if ref else None
        rows = reports_repo.hightech_by_region(s, year)
    out = []
    for region, n, total_10k, complete in sorted(rows):
        amount = (total_10k / 10000).quantize(Decimal("0.0001"))
        share = (amount / national * 100).quantize(Decimal("0.01")) if national else None
        out.append(RegionShare(region, n, complete, amount, share))
    return ProgrammeShare(year, national, out, AssessmentRules().programme_share_goal_pct)


# --- confirming --------------------------------------------------------------------------------

def _deadline(session: DbSession, row: ApplicationRow, today: date) -> date:
    """限期整改: RoundRules.rectification_working_days working days from today."""
    rules = rounds_repo.rules_of(row.round)
    return reference_repo.load_calendar(session).add_working_days(today, rules.rectification_working_days)


def confirm_one(uow: UnitOfWork, user_id: int, evaluation_id: int,
                now: datetime | None = None) -> cases.Fired:
    """The ministry confirms one proposal: keep → keep_designation, rectify →
    order_rectification with a deadline, revoke → revoke with the explanation as reason —
    through `cases.fire`, with its guards and a history row, in one transaction."""
    now = now or utcnow()
    today = local_date(now)
    with uow:
        s = uow.session
        permissions.require(users_repo.user_by_id(s, user_id), "assessment.run")
        ev = reports_repo.evaluation(s, evaluation_id)
        if ev is None:
            raise NotFound(refuse("not_found", "未找到该评估结果", "evaluation not found"))
        if ev.status != "proposed":
            raise GuardFailed(refuse("already_confirmed", "该评估建议已确认", "already confirmed",
                                     guard="evaluation"))
        app_id, proposal, period = ev.application_id, ev.proposal, ev.period
        reason = ev.explanation_zh[:2000]
        row = cases_repo.get_application(s, app_id)
        trigger = PROPOSAL_TRIGGER[proposal]
        if proposal == RECTIFY and row.state == State.RECTIFYING.value:
            trigger = "continue_rectification"  # still within its deadline: it stands
        deadline = (_deadline(s, row, today) if trigger == "order_rectification" else None)

    def mark(session: DbSession, _row: object) -> None:
        if not reports_repo.mark_confirmed(session, evaluation_id, user_id, now):
            raise GuardFailed(refuse("already_confirmed", "该评估建议已被他人确认",
                                     "someone else confirmed this proposal first",
                                     guard="evaluation"))

    return cases.fire(uow, user_id, app_id, trigger, None,
                      reason=reason, deadline=deadline,
                      now=now, also=mark,
                      data={"evaluation_id": evaluation_id, "period": period,
                            "proposal": proposal})


def confirm(uow: UnitOfWork, user_id: int, evaluation_ids: list[int],
            now: datetime | None = None) -> list[dict[str, Any]]:
    """Confirm many proposals; each gets its own guard check, history row and transaction
    (`uow` entered anew for each).
    Returns per evaluation what happened, or the refusal and why."""
    results = []
    for ev_id in evaluation_ids:
        try:
            fired = confirm_one(uow, user_id, ev_id, now)
            results.append({"evaluation_id": ev_id, "application_id": fired.application_id,
                            "ok": True, "trigger": fired.trigger, "state": fired.to_state})
        except DomainError as err:
            results.append({"evaluation_id": ev_id, "ok": False, "code": err.code,
                            "errors": [r.as_dict() for r in err.refusals]})
    return results


__all__ = ["KEEP", "RECTIFY", "REVOKE", "Preview", "RunCounts", "confirm", "confirm_one",
           "execute", "preview", "proposals", "request_run", "run", "run_of", "runs",
           "scheduled", "start"]
