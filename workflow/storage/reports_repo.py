"""Queries for quarterly data, annual reports, reference statistics and re-evaluation.

The assessment reads everything in a fixed number of statements (no per-base query):
the designated bases, their current quarterly figures (the period's, and earlier years'
sums), annual reports and the rounds' rules, one SELECT each; evaluations are written with
one INSERT … ON CONFLICT (PostgreSQL: one statement carrying every row as JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased

from workflow.quarterly_data import EXPORTS, HIGHTECH_EXPORTS
from workflow.states import DESIGNATED
from workflow.storage.models import (
    AnnualReportRow,
    ApplicationRow,
    AttachmentRow,
    AuthorityRow,
    EvaluationRow,
    EvaluationRunRow,
    LocalityStatRow,
    QuarterlyReportRow,
    ReferenceStatRow,
    RoundRow,
    form_value,
    quarter_figure,
)
from workflow.storage.types import UTCDateTime

DESIGNATED_STATES = sorted(s.value for s in DESIGNATED)


# --- quarterly reports -------------------------------------------------------------------

def current_quarters(session: Session, app_id: int) -> list[QuarterlyReportRow]:
    """The current revision of every quarter a base has reported, oldest first."""
    q = (select(QuarterlyReportRow)
         .where(QuarterlyReportRow.application_id == app_id,
                QuarterlyReportRow.is_current.is_(True))
         .order_by(QuarterlyReportRow.year, QuarterlyReportRow.quarter))
    return list(session.scalars(q))


def quarter_revisions(session: Session, app_id: int, year: int, quarter: int
                      ) -> list[QuarterlyReportRow]:
    q = (select(QuarterlyReportRow)
         .where(QuarterlyReportRow.application_id == app_id, QuarterlyReportRow.year == year,
                QuarterlyReportRow.quarter == quarter)
         .order_by(QuarterlyReportRow.revision))
    return list(session.scalars(q))


def retire_quarters(session: Session, app_id: int, periods: list[tuple[int, int]]
                    ) -> dict[tuple[int, int], int]:
    """Mark the current rows of these quarters historical; the next revision of each."""
    if not periods:
        return {}
    years = sorted({y for y, _ in periods})
    q = (select(QuarterlyReportRow.year, QuarterlyReportRow.quarter,
                func.max(QuarterlyReportRow.revision))
         .where(QuarterlyReportRow.application_id == app_id,
                QuarterlyReportRow.year.in_(years))
         .group_by(QuarterlyReportRow.year, QuarterlyReportRow.quarter))
    latest = {(y, qq): int(r or 0) for y, qq, r in session.execute(q)}
    wanted = set(periods)
    session.execute(
        update(QuarterlyReportRow)
        .where(QuarterlyReportRow.application_id == app_id,
               QuarterlyReportRow.year.in_(years), QuarterlyReportRow.is_current.is_(True))
        .where(tuple_(QuarterlyReportRow.year, QuarterlyReportRow.quarter).in_(sorted(wanted)))
        .values(is_current=False))
    return {p: latest.get(p, 0) + 1 for p in periods}


# --- annual reports ------------------------------------------------------------------------

def current_annual_reports(session: Session, app_id: int) -> list[AnnualReportRow]:
    q = (select(AnnualReportRow)
         .where(AnnualReportRow.application_id == app_id, AnnualReportRow.is_current.is_(True))
         .order_by(AnnualReportRow.year.desc()))
    return list(session.scalars(q))


def retire_annual(session: Session, app_id: int, year: int) -> int:
    """Mark the current annual report of `year` historical; return the next revision."""
    latest = session.scalar(select(func.max(AnnualReportRow.revision)).where(
        AnnualReportRow.application_id == app_id, AnnualReportRow.year == year)) or 0
    session.execute(update(AnnualReportRow)
                    .where(AnnualReportRow.application_id == app_id,
                           AnnualReportRow.year == year, AnnualReportRow.is_current.is_(True))
                    .values(is_current=False))
    return int(latest) + 1


def attachment(session: Session, attachment_id: int) -> AttachmentRow | None:
    return session.get(AttachmentRow, attachment_id)


# --- reference statistics -------------------------------------------------------------------

def reference_rows(session: Session) -> list[ReferenceStatRow]:
    return list(session.scalars(select(ReferenceStatRow).order_by(ReferenceStatRow.year.desc())))


def locality_rows(session: Session) -> list[LocalityStatRow]:
    """Authorities' own figures, newest year first, then by authority code."""
    return list(session.scalars(
        select(LocalityStatRow).join(AuthorityRow, AuthorityRow.id == LocalityStatRow.authority_id)
        .order_by(LocalityStatRow.year.desc(), AuthorityRow.code)))


def locality_row(session: Session, authority_id: int, year: int) -> LocalityStatRow | None:
    return session.scalars(select(LocalityStatRow).where(
        LocalityStatRow.authority_id == authority_id, LocalityStatRow.year == year)).first()


def reference_row(session: Session, year: int) -> ReferenceStatRow | None:
    return session.scalars(select(ReferenceStatRow).where(ReferenceStatRow.year == year)).first()


# --- bases --------------------------------------------------------------------------------

def designated_in_scope(session: Session, scope: Any) -> list[ApplicationRow]:
    """Designated bases (approved, kept, rectifying) the user may see, by name."""
    q = (select(ApplicationRow).where(scope, ApplicationRow.state.in_(DESIGNATED_STATES))
         .order_by(ApplicationRow.applicant_name, ApplicationRow.id))
    return list(session.scalars(q).unique())


@dataclass
class Snapshot:
    """Everything one assessment reads, loaded in a fixed number of statements."""

    bases: Sequence[Any]  # Row(id, kind, state, applicant_name, round_id, form figures…, region)
    quarters: Sequence[Any]  # the period's: Row(application_id, year, quarter, exports, hightech,
    #                                        submitted_at)
    years: Sequence[Any]  # complete earlier years: Row(application_id, year, Σ hightech)
    annual: Sequence[Any]  # Row(application_id, year, submitted_at, policies, funding)
    # round id -> (year, params, programme code, programme_hash: the definition it opened with)
    rounds: dict[int, tuple[int, dict[str, Any], str, str | None]]


def snapshot(session: Session, period: int) -> Snapshot:
    """Designated bases with region and round, and their current reports for the years the
    assessment looks at: the period's quarters one by one, the three years before summed
    per base and year where all four quarters are in (that is all the criteria use of
    them). Five SELECTs whatever the number of bases; plain rows, no ORM objects."""
    conn = session.connection()
    designated = ApplicationRow.state.in_(DESIGNATED_STATES)
    province = aliased(AuthorityRow)
    bases = conn.execute(
        select(ApplicationRow.id, ApplicationRow.kind, ApplicationRow.state,
               ApplicationRow.applicant_name, ApplicationRow.round_id,
               form_value("hightech_exports_100m_usd"),
               form_value("hightech_export_growth_pct_prev2", "pct"),
               form_value("hightech_export_growth_pct_prev1", "pct"),
               form_value("hightech_export_growth_pct", "pct"),
               ApplicationRow.rectification_deadline, AuthorityRow.region,
               AuthorityRow.code.label("authority_code"),
               province.code.label("province_code"))
        .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id)
        .outerjoin(province, province.id == AuthorityRow.parent_id)
        .where(designated).order_by(ApplicationRow.id)).all()
    in_designated = select(ApplicationRow.id).where(designated)
    current = (QuarterlyReportRow.is_current.is_(True),
               QuarterlyReportRow.application_id.in_(in_designated))
    quarters = conn.execute(
        select(QuarterlyReportRow.application_id, QuarterlyReportRow.year,
               QuarterlyReportRow.quarter, quarter_figure(EXPORTS),
               quarter_figure(HIGHTECH_EXPORTS), QuarterlyReportRow.submitted_at)
        .where(*current, QuarterlyReportRow.year == period)).all()
    years = conn.execute(
        select(QuarterlyReportRow.application_id, QuarterlyReportRow.year,
               func.coalesce(func.sum(quarter_figure(HIGHTECH_EXPORTS, label=False)), 0))
        .where(*current, QuarterlyReportRow.year.between(period - 3, period - 1))
        .group_by(QuarterlyReportRow.application_id, QuarterlyReportRow.year)
        .having(func.count(QuarterlyReportRow.quarter.distinct()) == 4)).all()
    annual = conn.execute(
        select(AnnualReportRow.application_id, AnnualReportRow.year,
               AnnualReportRow.submitted_at, AnnualReportRow.policies_in_force,
               AnnualReportRow.project_funding_10k_cny)
        .where(AnnualReportRow.is_current.is_(True), AnnualReportRow.year == period,
               AnnualReportRow.application_id.in_(in_designated))).all()
    rounds = {r.id: (r.year, dict(r.params or {}), r.programme, r.programme_hash)
              for r in conn.execute(select(RoundRow.id, RoundRow.year, RoundRow.params,
                                           RoundRow.programme, RoundRow.programme_hash))}
    return Snapshot(bases, quarters, years, annual, rounds)


# --- evaluation runs and evaluations -----------------------------------------------------------

def run_row(session: Session, run_id: int) -> EvaluationRunRow | None:
    return session.get(EvaluationRunRow, run_id)


def runs(session: Session, limit: int = 50) -> list[EvaluationRunRow]:
    return list(session.scalars(select(EvaluationRunRow)
                                .order_by(EvaluationRunRow.id.desc()).limit(limit)))


def unfinished_run(session: Session, period: int) -> EvaluationRunRow | None:
    """The newest queued or running run of a period (a killed scheduled run)."""
    return session.scalars(select(EvaluationRunRow)
                           .where(EvaluationRunRow.period == period,
                                  EvaluationRunRow.status.in_(("queued", "running")))
                           .order_by(EvaluationRunRow.id.desc())).first()


def supersede_running(session: Session, period: int, keep_id: int) -> None:
    """Older unfinished runs of the same period are replaced by this one."""
    session.execute(update(EvaluationRunRow)
                    .where(EvaluationRunRow.period == period, EvaluationRunRow.id != keep_id,
                           EvaluationRunRow.status.in_(("queued", "running")))
                    .values(status="superseded"))


def ids_done_by_run(session: Session, period: int, run_id: int) -> set[int]:
    """Bases this run has already written (a resumed run skips them)."""
    q = select(EvaluationRow.application_id).where(EvaluationRow.period == period,
                                                   EvaluationRow.run_id == run_id)
    return set(session.scalars(q))


EVALUATION_FIELDS = ("application_id", "period", "run_id", "proposal", "findings", "indicators",
                     "explanation_zh", "explanation_en", "status")
REFRESHED = ("run_id", "proposal", "findings", "indicators", "explanation_zh", "explanation_en",
             "created_at")
# PostgreSQL caps a jsonb value at 256 MB; 10,000 evaluations are ~25 MB of JSON
ROWS_PER_STATEMENT = 20_000


def write_evaluations(session: Session, rows: list[dict[str, Any]], created_at: datetime
                      ) -> None:
    """Insert or refresh one evaluation per (base, period) in one statement (up to
    ROWS_PER_STATEMENT rows); a proposal the ministry has already confirmed is never
    overwritten.

    `rows` carry EVALUATION_FIELDS with findings and indicators already JSON-safe. On
    PostgreSQL the rows travel as one JSON document unpacked by jsonb_to_recordset (one
    json.dumps, one round trip, no per-row bind processing); on SQLite as an executemany."""
    if not rows:
        return
    table = EvaluationRow.metadata.tables["evaluations"]
    if session.get_bind().dialect.name == "postgresql":
        ins = postgresql.insert(table)
        records = func.jsonb_to_recordset(cast(bindparam("rows", type_=Text), JSONB)
                                          ).table_valued(
            *[column(f, table.c[f].type) for f in EVALUATION_FIELDS]
        ).render_derived(name="r", with_types=True)
        source = select(*[records.c[f] for f in EVALUATION_FIELDS],
                        literal(created_at, UTCDateTime()))
        stmt = _upsert(ins, ins.from_select([*EVALUATION_FIELDS, "created_at"], source))
        for at in range(0, len(rows), ROWS_PER_STATEMENT):
            document = json.dumps(rows[at:at + ROWS_PER_STATEMENT], ensure_ascii=False,
                                  separators=(",", ":"))
            session.connection().execute(stmt, {"rows": document})
        return
    lite = sqlite.insert(table)
    session.connection().execute(_upsert(lite, lite),
                                 [{**r, "created_at": created_at} for r in rows])


def _upsert(ins: Any, stmt: Any) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=["application_id", "period"],
        set_={f: getattr(ins.excluded, f) for f in REFRESHED},
        where=EvaluationRow.status == "proposed")


def proposal_counts(session: Session, period: int) -> dict[str, int]:
    """How many evaluations of `period` propose each outcome — one GROUP BY."""
    q = (select(EvaluationRow.proposal, func.count())
         .where(EvaluationRow.period == period).group_by(EvaluationRow.proposal))
    return {p: int(n) for p, n in session.connection().execute(q)}


def evaluations(session: Session, period: int, *, proposal: str | None = None,
                status: str | None = None, app_ids: list[int] | None = None
                ) -> list[tuple[EvaluationRow, str | None, str, str]]:
    """(evaluation, base name, region, state) of a period, by region then name."""
    q = (select(EvaluationRow, ApplicationRow.applicant_name, AuthorityRow.region,
                ApplicationRow.state)
         .join(ApplicationRow, ApplicationRow.id == EvaluationRow.application_id)
         .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id)
         .where(EvaluationRow.period == period)
         .order_by(AuthorityRow.region, ApplicationRow.applicant_name, EvaluationRow.id))
    if proposal:
        q = q.where(EvaluationRow.proposal == proposal)
    if status:
        q = q.where(EvaluationRow.status == status)
    if app_ids is not None:
        q = q.where(EvaluationRow.application_id.in_(app_ids))
    return [(e, n, r, s) for e, n, r, s in session.execute(q)]


def evaluation(session: Session, evaluation_id: int) -> EvaluationRow | None:
    return session.get(EvaluationRow, evaluation_id)


def mark_confirmed(session: Session, evaluation_id: int, user_id: int, now: datetime) -> bool:
    """Proposed → confirmed; False if someone confirmed it first."""
    res = session.execute(update(EvaluationRow)
                          .where(EvaluationRow.id == evaluation_id,
                                 EvaluationRow.status == "proposed")
                          .values(status="confirmed", confirmed_by_id=user_id,
                                  confirmed_at=now))
    return bool(getattr(res, "rowcount", 0))


def evaluations_of_base(session: Session, app_id: int) -> list[EvaluationRow]:
    return list(session.scalars(select(EvaluationRow).where(
        EvaluationRow.application_id == app_id).order_by(EvaluationRow.period.desc())))


# --- programme view ------------------------------------------------------------------------

def hightech_by_region(session: Session, year: int, *, rounds_up_to: int | None = None,
                       scope: Any = True) -> list[tuple[str, int, Decimal, int]]:
    """(region, designated bases, their high-tech exports in 万美元 for `year`, bases whose
    figure is known) — for the programme report and, a year at a time, the dashboard
    (`hightech_by_year_and_region`, the same computation). `rounds_up_to`: only bases
    designated in rounds up to that year."""
    return [(r, n, t, c) for _y, r, n, t, c in
            hightech_by_year_and_region(session, [(year, rounds_up_to)], scope=scope)]


def hightech_by_year_and_region(session: Session, periods: Sequence[tuple[int, int | None]],
                                *, scope: Any = True
                                ) -> list[tuple[int, str, int, Decimal, int]]:
    """For each (year, rounds up to) of `periods`: (year, region, designated bases, their
    high-tech exports in 万美元 for that year, bases whose figure is known) — one GROUP BY
    over every period at once, so the dashboard's trend (a period per round) is one
    statement however many rounds there have been.

    A base's figure for a year is `workflow.assessment.yearly_hightech_musd`'s, in SQL: the
    sum of its four quarters when all four are filed, else — for the year its application
    reported (the round's year before) — the figure of its 申报书; otherwise unknown (not
    counted). Rounds up to None: bases of every round."""
    if not periods:
        return []
    # the periods as a table of literals (the product's own years, never user input)
    rows: list[Any] = [
        select(literal_column(str(int(y))).label("year"),
               literal_column(str(int(up) if up is not None else 9999)).label("up_to"))
        for y, up in periods]
    table: Any = union_all(*rows) if len(rows) > 1 else rows[0]
    wanted = table.subquery("periods")
    per_base = (select(QuarterlyReportRow.application_id, QuarterlyReportRow.year,
                       func.sum(quarter_figure(HIGHTECH_EXPORTS, label=False)).label("total"),
                       func.count().label("quarters"))
                .where(QuarterlyReportRow.is_current.is_(True),
                       QuarterlyReportRow.year.in_(sorted({int(y) for y, _u in periods})))
                .group_by(QuarterlyReportRow.application_id, QuarterlyReportRow.year)
                .subquery())
    figure = case((per_base.c.quarters == 4, per_base.c.total),
                  (RoundRow.year - 1 == wanted.c.year,
                   form_value("hightech_exports_100m_usd", label=False) * 10000), else_=None)
    q = (select(wanted.c.year, AuthorityRow.region, func.count(ApplicationRow.id),
                func.coalesce(func.sum(figure), 0), func.count(figure))
         .select_from(ApplicationRow)
         .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id)
         .join(RoundRow, RoundRow.id == ApplicationRow.round_id)
         .join(wanted, RoundRow.year <= wanted.c.up_to)
         .outerjoin(per_base, and_(per_base.c.application_id == ApplicationRow.id,
                                   per_base.c.year == wanted.c.year))
         .where(ApplicationRow.state.in_(DESIGNATED_STATES), scope)
         .group_by(wanted.c.year, AuthorityRow.region))
    return [(int(y), r, int(n), Decimal(str(t)), int(c))
            for y, r, n, t, c in session.execute(q)]


def first_reported_year(session: Session) -> int | None:
    return session.scalar(select(func.min(QuarterlyReportRow.year)))
