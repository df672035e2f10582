"""Reference data every signed-in user may read: the 37 authorities and the rounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflow.programme import DEFAULT_CODE, Programme, programme
from workflow.rules import RoundRules, RoundStatus
from workflow.services.clock import today as china_today
from workflow.storage import (
    api_repo,
    authorities_repo,
    casepages,
    register_repo,
    rounds_repo,
    scope_repo,
    users_repo,
)
from workflow.storage.models import AuthorityRow, RoundRow, UserRow
from workflow.storage.uow import UnitOfWork


@dataclass
class Round:
    row: RoundRow
    rules: RoundRules
    status: RoundStatus

    @property
    def programme(self) -> Programme:
        """The programme it runs, as it opened with it."""
        return rounds_repo.programme_of_round(self.row)

    def calendar(self) -> dict[str, Any]:
        """The round's dates (DOMAIN.md "The calendar"; 002 §六(三), §四(四))."""
        r = self.rules
        month, day = r.annual_report_month_day
        return {"provincial_internal_deadline": r.provincial_internal_deadline,
                "submission_deadline": r.submission_deadline,
                "approval_deadline": r.approval_deadline,
                "notice_working_days": r.notice_working_days,
                "annual_report_due": f"{month:02d}-{day:02d}",
                "reminder_days_before": list(r.reminder_days_before),
                "rectification_working_days": r.rectification_working_days}


@dataclass(frozen=True)
class Authority:
    """A submitting authority, and whether it has existing bases (from the register)."""

    code: str
    name_zh: str
    name_en: str
    region: str
    kind: str
    has_existing_bases: bool  # 002 §六(三): decides its quota of new bases
    parent_code: str | None  # a city's province-level authority
    region_overridden: bool
    is_active: bool


def authorities(uow: UnitOfWork, user_id: int) -> list[Authority]:
    """The 37 submitting authorities (002 §二) and the cities under them, by code."""
    with uow.read():
        users_repo.user_by_id(uow.session, user_id)
        with_bases = register_repo.authorities_with_bases(uow.session)
        return [Authority(a.code, a.name_zh, a.name_en, a.region, a.kind, a.id in with_bases,
                          a.parent_code, a.region_overridden, a.is_active)
                for a in api_repo.authorities(uow.session)]


def city_choices(uow: UnitOfWork, user_id: int, authority_id: int | None = None
                 ) -> list[AuthorityRow]:
    """The cities a form's `city` field offers (a cluster's leading enterprises', 002
    §六(三)): the prefecture-level cities of the drafting authority's province — a draft's
    authority (`authority_id`), else the user's own — as the register has them, by code.
    None under a municipality: the field is then typed."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        authority = s.get(AuthorityRow, authority_id) if authority_id else user.authority
        if authority is None:
            return []
        return casepages.cities_of(s, authority.province_id)


def city_names(uow: UnitOfWork, values: set[str]) -> dict[str, AuthorityRow]:
    """The authorities a form's city values name by code (`FormDef.cities_named`), by
    code: the pages show a city picked by its name."""
    with uow.read():
        return authorities_repo.named_by_codes(uow.session, values)


def rounds(uow: UnitOfWork, user_id: int) -> list[Round]:
    """Every round, newest first, with its rules."""
    with uow.read():
        users_repo.user_by_id(uow.session, user_id)
        today = china_today()
        return [Round(r, rounds_repo.rules_of(r), rounds_repo.status_of(r, today))
                for r in api_repo.rounds(uow.session)]


def round_of(uow: UnitOfWork, user_id: int, year: int, code: str = DEFAULT_CODE) -> Round:
    with uow.read():
        users_repo.user_by_id(uow.session, user_id)
        row = api_repo.round_by_year(uow.session, year, code)
        if row is None:
            raise scope_repo.not_found("round")
        return Round(row, rounds_repo.rules_of(row), rounds_repo.status_of(row, china_today()))


def drafting_round(uow: UnitOfWork, user_id: int, year: int | None = None,
                   code: str | None = None) -> Round | None:
    """The round a new application goes into (the newest open one the user's authority may
    apply in, of programme `code` if named), or the round `year`: the form names it and
    offers its fields (002 §五(二)). None: no round is open."""
    with uow.read():
        user = users_repo.user_by_id(uow.session, user_id)
        today = china_today()
        if year is not None:
            row = rounds_repo.round_by_year(uow.session, year, code or DEFAULT_CODE)
        else:
            row = next((r for r in rounds_repo.open_rounds(uow.session, today, user.authority)
                        if code is None or r.programme == code), None)
        return Round(row, rounds_repo.rules_of(row), rounds_repo.status_of(row, today)) if row else None


def drafting_rounds(uow: UnitOfWork, user_id: int) -> list[Round]:
    """Every open round the user's authority may apply in, newest first: the
    new-application page lets them choose when there is more than one (their province's
    own programme's, or this year's while next year's has opened too)."""
    with uow.read():
        user = users_repo.user_by_id(uow.session, user_id)
        today = china_today()
        return [Round(r, rounds_repo.rules_of(r), rounds_repo.status_of(r, today))
                for r in rounds_repo.open_rounds(uow.session, today, user.authority)]


def programme_of(round_row: RoundRow) -> Programme:
    """The programme a round runs (the definition it opened with)."""
    return rounds_repo.programme_of_round(round_row)


def default_programme() -> Programme:
    """Notice 002's programme: the form shown while no round is open."""
    return programme()


def me(uow: UnitOfWork, user_id: int) -> UserRow:
    """The signed-in user (with their authority loaded)."""
    with uow.read():
        return users_repo.user_by_id(uow.session, user_id)
