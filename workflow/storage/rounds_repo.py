"""Rounds (申报年度): which are open, their status, the programme and rules each runs by."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.programme import DEFAULT_CODE, Programme, frozen, programme
from workflow.rules import RoundRules, RoundStatus, round_status
from workflow.storage.models import AuthorityRow, RoundRow


def programme_of_round(round_row: RoundRow) -> Programme:
    """The rules a round runs by: the definition it opened with, or (planned) the file."""
    if round_row.programme_hash:
        return frozen(round_row.programme_hash, round_row.programme_source)
    return programme(round_row.programme)


def programme_of_record(session: Session, round_id: int, code: str, source_hash: str | None
                        ) -> Programme:
    """The same from a round's columns: the definition it opened with (its text read only
    on a process's first use of it), or (planned) the file."""
    if source_hash is None:
        return programme(code)
    try:
        return frozen(source_hash)
    except KeyError:
        return frozen(source_hash, session.scalar(
            select(RoundRow.programme_source).where(RoundRow.id == round_id)))


def status_of(round_row: RoundRow, day: date) -> RoundStatus:
    return round_status(round_row.opened_on, round_row.closed_on, day)


def open_rounds(session: Session, day: date, authority: AuthorityRow | None = None
                ) -> list[RoundRow]:
    """Rounds open for applications on `day`, newest first (notice 002's first within a
    year); with `authority`, only those of programmes it may apply in."""
    rows = session.scalars(select(RoundRow).order_by(RoundRow.year.desc(), RoundRow.id))
    out = [r for r in rows if status_of(r, day) is RoundStatus.OPEN]
    if authority is not None:
        parent = authority.parent.code if authority.parent is not None else None
        out = [r for r in out if programme_of_round(r).open_to(authority.code, parent)]
    return sorted(out, key=lambda r: (-r.year, r.programme != DEFAULT_CODE))


def closed_round_ids(session: Session, day: date) -> list[int]:
    """Rounds that have closed by `day` (their unfinished cases wait on no one)."""
    return list(session.scalars(select(RoundRow.id).where(RoundRow.closed_on <= day)))


def round_by_year(session: Session, year: int, code: str = DEFAULT_CODE) -> RoundRow | None:
    """That year's round of a programme (notice 002's unless named)."""
    return session.scalars(select(RoundRow).where(RoundRow.year == year,
                                                  RoundRow.programme == code)).first()


def round_ids_of(session: Session, code: str) -> list[int]:
    """Every round of a programme."""
    return list(session.scalars(select(RoundRow.id).where(RoundRow.programme == code)))


_rules: dict[tuple[int, str], RoundRules] = {}


def round_rules(year: int, params: str | dict[str, Any] | None) -> RoundRules:
    """A round's rules from its year and stored parameters, parsed once per process for
    each version of the parameters (keyed by their text, so an edited round is parsed
    again at once)."""
    text = params if isinstance(params, str) else json.dumps(params or {}, sort_keys=True,
                                                             default=str)
    key = (year, text)
    rules = _rules.get(key)
    if rules is None:
        if len(_rules) > 64:
            _rules.clear()
        rules = _rules[key] = RoundRules.from_json({**json.loads(text or "{}"), "year": year})
    return rules


def rules_of(round_row: RoundRow) -> RoundRules:
    """`round_rules` of a round's row (the rounds' administration screens)."""
    return round_rules(round_row.year, round_row.params)
