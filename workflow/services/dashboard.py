"""The dashboard of a programme: counts by state, region, province and round, and progress
towards the programme's goals as its definition file sets them (`[goals]`: 002 §一 100 bases by 2010
with the path year by year, §五(二) about 15 new bases in 2006, the ~70 % share).

The ministry sees everything; a province sees the cases submitted to it (the inbox scope).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from workflow import permissions
from workflow.goals import Goals, GoalYear
from workflow.goals import path as goal_path
from workflow.permissions import Scope
from workflow.programme import DEFAULT_CODE, Programme, known, programme
from workflow.regions import Region
from workflow.services.clock import local_date, utcnow
from workflow.states import DESIGNATED
from workflow.storage import reports_repo, scope_repo, stats, users_repo
from workflow.storage.uow import DbSession, UnitOfWork


@dataclass(frozen=True)
class Share:
    """Designated bases' high-tech exports as a share of the nation's (data year)."""

    data_year: int | None
    bases_100m_usd: Decimal
    national_100m_usd: Decimal | None  # None: not entered in reference_statistics

    @property
    def pct(self) -> Decimal | None:
        if not self.national_100m_usd:
            return None
        return (self.bases_100m_usd * 100 / self.national_100m_usd).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RoundTrend:
    """One round: applications, bases designated in it and up to it, and the share."""

    year: int
    applications: int
    designated: int
    designated_cumulative: int
    designated_new: int  # of `designated`, new bases (not re-certifications)
    hightech_100m_usd: Decimal  # designated bases of this round
    share: Share  # all bases designated up to this round vs the nation in its data year


@dataclass
class Dashboard:
    scope: str  # "national" or the authority's code
    scope_zh: str
    scope_en: str
    total: int
    by_state: list[tuple[str, int]]
    by_region: list[dict[str, object]]
    by_authority: list[dict[str, object]]
    trends: list[RoundTrend]
    rounds_by_state: dict[int, dict[str, int]] = field(default_factory=dict)
    # per round: cases recommended / approved after the round's deadline (002 §六(三)) and
    # cases on which a reviewer overrode a failed criterion (002 §六)
    marks_by_round: dict[int, dict[str, int]] = field(default_factory=dict)
    goals: Goals | None = None  # the programme's (002 §一, §五(二)); None: none set
    goal_path: list[GoalYear] = field(default_factory=list)
    programme: Programme | None = None  # whose cases these are (notice 002's by default)
    programmes: list[Programme] = field(default_factory=list)  # those the reviewer may choose

    @property
    def goal_bases(self) -> int:
        return self.goals.bases if self.goals else 0

    @property
    def goal_share_pct(self) -> Decimal | None:
        return self.goals.share_pct if self.goals else None

    @property
    def designated(self) -> int:
        states = self.programme.designated if self.programme else {s.value for s in DESIGNATED}
        return sum(n for s, n in self.by_state if s in states)

    @property
    def goal_progress_pct(self) -> Decimal | None:
        if not self.goal_bases:
            return None
        return (Decimal(self.designated) * 100 / self.goal_bases).quantize(Decimal("0.1"))

    @property
    def share(self) -> Share:
        """The newest round's share (bases designated so far, that round's data year)."""
        if self.trends:
            return self.trends[-1].share
        return Share(None, Decimal(0), None)


REGION_ORDER = [r.value for r in Region]


def _programmes_for(reach: Scope | None, own: str | None) -> list[Programme]:
    """The programmes whose dashboard a reviewer may see: every one for the ministry;
    notice 002's and its own province's programme for a province."""
    return [p for p in known()
            if reach is Scope.NATIONAL or p.authority is None or p.authority == own]


def overview(uow: UnitOfWork, user_id: int, code: str = DEFAULT_CODE) -> Dashboard:
    """The dashboard of one programme (notice 002's unless named) for a ministry reviewer
    (national) or a provincial reviewer (own): its states, its designated bases, its goals
    (`[goals]`; none: no goal is shown), and the programmes the reviewer may choose."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        reach = permissions.scope_of(user, "dashboard.view")
        choices = _programmes_for(reach, user.authority.code if user.authority else None)
        if code not in {p.code for p in choices}:
            code = DEFAULT_CODE
        defined = programme(code)
        designated = sorted(defined.designated)
        scope: Any = stats.of_programme(code)
        if reach is Scope.NATIONAL:
            where, zh, en = "national", "全国", "National"
        elif reach is Scope.AUTHORITY_TREE and user.authority is not None:
            scope = stats.both(scope_repo.scope_filter(user, []), scope)
            where, zh, en = user.authority.code, user.authority.name_zh, user.authority.name_en
        else:
            permissions.forbid("dashboard.view")
        order = list(defined.states)  # the file's order of its states
        by_state = sorted(stats.by_state(s, scope),
                          key=lambda p: order.index(p[0]) if p[0] in order else len(order))
        by_region = sorted(stats.by_region(s, scope, designated),
                           key=lambda r: REGION_ORDER.index(str(r["region"])))
        # the ministry: one row per province-level authority (cities counted in);
        # a province: one row per city, and its own
        by_authority = stats.by_authority(s, scope, by_province=where == "national",
                                          designated=designated)
        rounds = stats.by_round(s, scope, designated, defined.form.kinds_where("names_base"))
        national = stats.national_hightech_exports(s)
        # the bases' exports in each round's data year: the programme report's computation
        bases_exports = bases_hightech(s, [int(str(r["year"])) for r in rounds], scope)
        marks = stats.marks_by_round(s, scope)
        rounds_by_state: dict[int, dict[str, int]] = {}
        for year, state, n in stats.by_round_and_state(s, scope):
            rounds_by_state.setdefault(year, {})[state] = n
    trends = trends_of(rounds, national, bases_exports)
    goals = defined.goals
    return Dashboard(scope=where, scope_zh=zh, scope_en=en, programme=defined,
                     programmes=choices,
                     total=sum(n for _, n in by_state), by_state=by_state, by_region=by_region,
                     by_authority=by_authority, trends=trends,
                     rounds_by_state=rounds_by_state, marks_by_round=marks, goals=goals,
                     # the path runs to the national goal (002 §一): drawn from a province's
                     # own count it would set one province a target of 100 bases
                     goal_path=goal_path_of(goals, trends, local_date(utcnow()).year)
                     if where == "national" else [])


def goal_path_of(goals: Goals | None, trends: list[RoundTrend],
                 this_year: int) -> list[GoalYear]:
    """The year-by-year path to the programme's goal with the bases designated beside it
    (each round's designations count in its year)."""
    if goals is None:
        return []
    return goal_path(goals, {t.year: t.designated_cumulative for t in trends},
                     {t.year: t.designated_new for t in trends}, this_year)


def marks_by_round(uow: UnitOfWork, user_id: int) -> dict[int, dict[str, int]]:
    """The programme report's count of late steps and overrides per round, in the
    reviewer's scope (the same computation as the dashboard's)."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        reach = permissions.scope_of(user, "dashboard.view")
        if reach is Scope.NATIONAL:
            return stats.marks_by_round(s, True)
        if reach is Scope.AUTHORITY_TREE and user.authority is not None:
            return stats.marks_by_round(s, scope_repo.scope_filter(user, []))
    permissions.forbid("dashboard.view")


def bases_hightech(s: DbSession, round_years: list[int], scope: object = True
                   ) -> dict[int, Decimal]:
    """Per round, the high-tech exports (亿美元) in its data year (the year before) of the
    bases designated in rounds up to it: one computation for the dashboard and the
    programme report (`reports_repo.hightech_by_year_and_region`), one statement for
    every round."""
    totals = dict.fromkeys(round_years, Decimal(0))
    for year, _r, _n, t, _c in reports_repo.hightech_by_year_and_region(
            s, [(y - 1, y) for y in sorted(totals)], scope=scope):
        totals[year + 1] += t
    return {y: (t / 10000).quantize(Decimal("0.0001")) for y, t in totals.items()}


def trends_of(rounds: list[dict[str, object]], national: dict[int, Decimal],
              bases_exports: dict[int, Decimal]) -> list[RoundTrend]:
    """Cumulative designations and export share per round. A round's share is that of the
    bases designated up to it in its data year (the year before the round: 2005 for the
    2006 round, 002 申报书), as the programme report computes it."""
    out: list[RoundTrend] = []
    count = 0
    for r in rounds:
        year = int(str(r["year"]))
        designated = int(str(r["designated"]))
        hightech = Decimal(str(r["designated_hightech_100m_usd"]))
        count += designated
        data_year = year - 1
        out.append(RoundTrend(year, int(str(r["applications"])), designated, count,
                              int(str(r.get("designated_new") or 0)), hightech,
                              Share(data_year, bases_exports.get(year, Decimal(0)),
                                    national.get(data_year))))
    return out
