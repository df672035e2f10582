"""A programme's goals as its notice sets them, and the year-by-year path towards them.

Notice 002 sets: about 15 new bases nationwide in 2006 (§五(二) 十五个左右), 100 bases
within five years, i.e. by 2010 (§一 力争用五年时间…建成100家), and the bases' high-tech
exports at about 70 % of the nation's (§一 比重提高到70%左右). The notice gives no
yearly path; the one here is an interpretation: a straight line from the bases designated
by the end of the first year to the goal in its year. A province's list may set a count
alone (seed 003 二(二) 2: 50 enterprise R&D centres): no share, no yearly path. Standard
library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from workflow.errors import DefinitionError


@dataclass(frozen=True)
class Goals:
    """The `[goals]` of a programme file."""

    bases: int  # bases designated in all by `bases_by`
    bases_by: int
    # the yearly path starts from the bases designated by the end of this year (None: no path)
    path_from: int | None = None
    share_pct: Decimal | None = None  # the bases' share of the nation's high-tech exports
    new_bases: dict[int, int] = field(default_factory=dict)  # year -> new bases aimed at
    source: str = ""  # the rules, e.g. "002 §一, §五(二)"


@dataclass(frozen=True)
class GoalYear:
    """One year of the path: the bases aimed at by its end and those designated."""

    year: int
    target: int
    actual: int | None  # None: the year has not begun
    new_target: int | None = None  # new bases aimed at in the year (§五(二) for 2006)
    new_actual: int | None = None


def path(goals: Goals, designated_by_year: dict[int, int], new_by_year: dict[int, int],
         this_year: int) -> list[GoalYear]:
    """Each year from `path_from` to `bases_by`: the target by its end and the bases
    designated by then. The first year's target is what it actually designated once it
    has begun (the line's start), else its new-base goal; later years step evenly (rounded
    up) to the goal. `designated_by_year`: bases designated by the end of each year, in
    all; `new_by_year`: new bases designated in each year's round. Empty without
    `path_from` (a count alone)."""
    if goals.path_from is None:
        return []
    span = goals.bases_by - goals.path_from
    start = designated_by_year.get(goals.path_from, 0) if this_year >= goals.path_from else (
        goals.new_bases.get(goals.path_from, 0))
    out = []
    for year in range(goals.path_from, goals.bases_by + 1):
        step = year - goals.path_from
        target = start if step == 0 else goals.bases if step == span else (
            start + math.ceil((goals.bases - start) * step / span))
        begun = year <= this_year
        out.append(GoalYear(
            year, target, _latest(designated_by_year, year) if begun else None,
            goals.new_bases.get(year), new_by_year.get(year, 0) if begun else None))
    return out


def _latest(by_year: dict[int, int], year: int) -> int:
    """The count by the end of `year`: the latest year up to it that has one."""
    known = [y for y in by_year if y <= year]
    return by_year[max(known)] if known else 0


GOAL_KEYS = ("bases", "bases_by", "path_from", "share_pct", "new_bases", "source")


def parse_goals(file: str, raw: Any) -> Goals | None:
    """The `[goals]` table of a programme file (optional), each error naming its key."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DefinitionError(f"{file}: goals: must be a table")

    def year_or_count(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DefinitionError(f"{file}: goals.{key}: must be a whole number ≥ 0")
        return value

    for key in ("bases", "bases_by"):
        if key not in raw:
            raise DefinitionError(f"{file}: goals.{key}: missing")
    unknown = set(raw) - set(GOAL_KEYS)
    if unknown:
        raise DefinitionError(f"{file}: goals.{sorted(unknown)[0]}: is not a goals setting (one "
                              f"of {', '.join(sorted(GOAL_KEYS))})")
    bases, by = year_or_count("bases", raw["bases"]), year_or_count("bases_by", raw["bases_by"])
    start = year_or_count("path_from", raw["path_from"]) if "path_from" in raw else None
    if start is not None and start > by:
        raise DefinitionError(f"{file}: goals.path_from: {start} is after goals.bases_by {by}")
    if "new_bases" in raw and start is None:
        raise DefinitionError(f"{file}: goals.new_bases: set on the yearly path: give "
                              "goals.path_from, the year it starts")
    new: dict[int, int] = {}
    for year, n in (raw.get("new_bases") or {}).items():
        if not str(year).isdigit():
            raise DefinitionError(f"{file}: goals.new_bases.{year}: the key is a year")
        new[int(year)] = year_or_count(f"new_bases.{year}", n)
    return Goals(bases=bases, bases_by=by, path_from=start,
                 share_pct=_share(file, raw["share_pct"]) if "share_pct" in raw else None,
                 new_bases=new, source=str(raw.get("source", "")))


def _share(file: str, raw: Any) -> Decimal:
    try:
        share = Decimal(str(raw))
    except InvalidOperation:
        share = Decimal(-1)
    if isinstance(raw, bool) or not 0 < share <= 100:
        raise DefinitionError(f"{file}: goals.share_pct: must be a percentage in (0, 100]")
    return share
