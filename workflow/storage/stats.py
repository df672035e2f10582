"""Aggregations behind the dashboard: every figure is one GROUP BY in the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Text, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.orm import aliased

from workflow.states import DESIGNATED
from workflow.storage.models import (
    ApplicationRow,
    AuthorityRow,
    ReferenceStatRow,
    RoundRow,
    form_value,
)
from workflow.storage.uow import DbSession

_DESIGNATED = [s.value for s in DESIGNATED]

# The 1 and 0 the counts below add up, written into the SQL. Bound, psycopg sends them as
# smallints cast to integer, which a prepared statement's generic plan evaluates on every
# row while a custom plan folds them: over the whole table the generic plan looked
# costlier, and the dashboard's counts were planned afresh on every call.
ONE: Any = literal_column("1")
ZERO: Any = literal_column("0")


def _designated(states: Sequence[str]) -> Any:
    """1 for a designated base (notice 002's: approved / re_evaluated / rectifying; a
    programme's own: its `designated` states), else 0."""
    return func.sum(case((ApplicationRow.state.in_(states), ONE), else_=ZERO)).cast(Integer)


def _designated_exports(states: Sequence[str]) -> Any:
    """Sum of the designated bases' high-tech exports (亿美元)."""
    return func.sum(case((ApplicationRow.state.in_(states),
                          form_value("hightech_exports_100m_usd", label=False)), else_=None))


def of_programme(code: str) -> Any:
    """The cases of a programme's rounds (a scope the functions here take)."""
    return ApplicationRow.round_id.in_(select(RoundRow.id).where(RoundRow.programme == code))


def both(a: Any, b: Any) -> Any:
    return and_(a, b)


def by_state(session: DbSession, scope: Any) -> list[tuple[str, int]]:
    q = (select(ApplicationRow.state, func.count()).where(scope)
         .group_by(ApplicationRow.state))
    return [(s, int(n)) for s, n in session.execute(q)]


def by_region(session: DbSession, scope: Any, designated: Sequence[str] = _DESIGNATED
              ) -> list[dict[str, Any]]:
    q = (select(AuthorityRow.region, func.count().label("applications"),
                _designated(designated).label("designated"))
         .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id)
         .where(scope).group_by(AuthorityRow.region))
    return [dict(r._mapping) for r in session.execute(q)]


def by_authority(session: DbSession, scope: Any, *, by_province: bool,
                 designated: Sequence[str] = _DESIGNATED) -> list[dict[str, Any]]:
    """Per authority: applications, bases, their high-tech exports. `by_province`: a city's
    cases counted under its province (the ministry's view of 37); else per authority, each
    city on its own row (a province's view of its cities)."""
    parent = aliased(AuthorityRow)
    who = aliased(AuthorityRow)
    q = (select(who.code, who.name_zh, who.name_en, who.region,
                func.count().label("applications"), _designated(designated).label("designated"),
                _designated_exports(designated).label("designated_hightech_100m_usd"))
         .select_from(ApplicationRow)
         .join(AuthorityRow, AuthorityRow.id == ApplicationRow.authority_id))
    if by_province:
        q = (q.outerjoin(parent, parent.id == AuthorityRow.parent_id)
             .join(who, who.id == func.coalesce(parent.id, AuthorityRow.id)))
    else:
        q = q.join(who, who.id == AuthorityRow.id)
    q = (q.where(scope).group_by(who.code, who.name_zh, who.name_en, who.region)
         .order_by(who.code))
    return [_money(dict(r._mapping), "designated_hightech_100m_usd")
            for r in session.execute(q)]


def by_round(session: DbSession, scope: Any, designated: Sequence[str] = _DESIGNATED,
             renewing: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Per round: applications, bases designated (and how many of them new: of a kind
    other than the `renewing` ones, those that name the base they re-certify), their
    high-tech exports (亿美元)."""
    new = func.sum(case((ApplicationRow.state.in_(designated)
                         & ApplicationRow.kind.notin_(renewing), ONE), else_=ZERO)).cast(Integer)
    q = (select(RoundRow.year, func.count().label("applications"),
                _designated(designated).label("designated"), new.label("designated_new"),
                _designated_exports(designated).label("designated_hightech_100m_usd"))
         .join(RoundRow, RoundRow.id == ApplicationRow.round_id)
         .where(scope).group_by(RoundRow.year).order_by(RoundRow.year))
    return [_money(dict(r._mapping), "designated_hightech_100m_usd")
            for r in session.execute(q)]


def by_round_and_state(session: DbSession, scope: Any) -> list[tuple[int, str, int]]:
    q = (select(RoundRow.year, ApplicationRow.state, func.count())
         .join(RoundRow, RoundRow.id == ApplicationRow.round_id)
         .where(scope).group_by(RoundRow.year, ApplicationRow.state))
    return [(int(y), s, int(n)) for y, s, n in session.execute(q)]


def marks_by_round(session: DbSession, scope: Any) -> dict[int, dict[str, int]]:
    """Per round: how many cases carry each mark — a step taken after the round's deadline
    (its trigger: recommend, approve; 002 §六(三)) and `overridden` (a failed criterion
    overridden by a reviewer, 002 §六). Counted in SQL per distinct set of marks."""
    late = cast(ApplicationRow.late_steps, Text)
    overridden = cast(ApplicationRow.overridden_criteria, Text)
    q = (select(RoundRow.year, late, overridden, func.count())
         .join(RoundRow, RoundRow.id == ApplicationRow.round_id)
         .where(scope, or_(ApplicationRow.late_steps.is_not(None),
                           ApplicationRow.overridden_criteria.is_not(None)))
         .group_by(RoundRow.year, late, overridden))
    out: dict[int, dict[str, int]] = {}
    for year, late_text, overridden_text, n in session.execute(q):
        marks = out.setdefault(int(year), {})
        for trigger in json.loads(late_text or "null") or ():
            marks[trigger] = marks.get(trigger, 0) + int(n)
        if json.loads(overridden_text or "null"):
            marks["overridden"] = marks.get("overridden", 0) + int(n)
    return out


def round_years(session: DbSession) -> list[int]:
    return [int(y) for y in session.scalars(select(RoundRow.year).order_by(RoundRow.year))]


def national_hightech_exports(session: DbSession) -> dict[int, Decimal]:
    """reference_statistics: national high-tech exports (亿美元) per year, where entered."""
    q = select(ReferenceStatRow.year, ReferenceStatRow.national_hightech_exports_100m_usd).where(
        ReferenceStatRow.national_hightech_exports_100m_usd.is_not(None))
    return {int(y): Decimal(str(v)) for y, v in session.execute(q)}


def _money(row: dict[str, Any], key: str) -> dict[str, Any]:
    value = row.get(key)
    row[key] = Decimal(str(value)) if value is not None else Decimal(0)
    row["designated"] = int(row.get("designated") or 0)
    return row
