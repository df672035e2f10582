"""Rounds kept by the programme's owner (issue 14): plan a round, change its dates while
it is planned, open it (its rules are frozen from then on: a case never changes rules
mid-round), close it. The ministry owns the rounds of notice 002.

`with uow: load -> domain (workflow.rounds) -> commit`, audited like every other action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflow import rounds as rules_of_rounds
from workflow.errors import Forbidden, Refusal, ValidationFailed, WrongStatus, refuse
from workflow.programme import (
    DEFAULT_CODE,
    DefinitionError,
    Programme,
    current_source,
    digest,
    known,
    programme,
)
from workflow.roles import Role
from workflow.rules import RoundRules, RoundStatus
from workflow.services import audit
from workflow.services.clock import local_date, utcnow
from workflow.storage import (
    authorities_repo,
    reference_repo,
    rounds_repo,
    scope_repo,
    users_repo,
)
from workflow.storage.models import RoundRow
from workflow.storage.uow import DbSession, UnitOfWork

MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass
class Outcome:
    """A round after a change, and what an official should look at (not errors)."""

    row: RoundRow
    rules: RoundRules
    status: RoundStatus
    warnings: list[Refusal] = field(default_factory=list)


def _owner(s: DbSession, user_id: int, code: str = DEFAULT_CODE) -> Any:
    """The user, if they keep the rounds of programme `code`: its owner's role (and, for a
    province's own programme, at that province)."""
    prog = programme(code)
    user = users_repo.user_by_id(s, user_id)
    if not prog.owned_by(Role(user.role), user.authority.code if user.authority else None):
        who_zh = "商务部科技司" if prog.authority is None else "本专项的省级商务主管部门"
        who_en = "the ministry" if prog.authority is None else "the province that runs it"
        raise Forbidden(refuse("round_owner_only", f"只有{who_zh}可以设立、开放和结束{prog.name_zh}的申报年度",
                               f"only {who_en} opens, changes and closes rounds of "
                               f"{prog.name_en}", details={"programme": code}))
    return user


def _round(s: DbSession, year: int, code: str = DEFAULT_CODE) -> RoundRow:
    row = rounds_repo.round_by_year(s, year, code)
    if row is None:
        raise scope_repo.not_found("round")
    return row


def _outcome(s: DbSession, row: RoundRow, now: datetime) -> Outcome:
    rules = rounds_repo.rules_of(row)
    return Outcome(row, rules, rounds_repo.status_of(row, local_date(now)),
                   rules_of_rounds.warnings(rules, reference_repo.load_calendar(s)))


def _names(data: dict[str, Any], year: int) -> tuple[str, str]:
    zh = str(data.get("name_zh") or f"{year}年度出口创新基地申报").strip()[:100]
    en = str(data.get("name_en") or f"{year} export innovation base round").strip()[:100]
    return zh, en


def plan(uow: UnitOfWork, user_id: int, data: dict[str, Any],
         now: datetime | None = None) -> Outcome:
    """A new round, planned (not yet open): `year` and any of `workflow.rounds.EDITABLE`;
    what is not given takes the programme file's `[rounds]`, dates moved to that year."""
    now = now or utcnow()
    raw_year = data.get("year")
    try:
        year = int(str(raw_year))
    except ValueError:
        year = 0
    errors: list[Refusal] = []
    code = str(data.get("programme") or DEFAULT_CODE)
    try:
        programme(code)
    except DefinitionError:
        errors.append(refuse("unknown_programme", f"未知的专项：{code}", f"no programme {code!r}",
                             field="programme", details={"value": code[:60]}))
        code = DEFAULT_CODE
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors.append(refuse("invalid_year", f"申报年度应为 {MIN_YEAR}～{MAX_YEAR} 年",
                             f"the year must be between {MIN_YEAR} and {MAX_YEAR}",
                             field="year", details={"value": str(raw_year)[:20]}))
    with uow:
        s = uow.session
        user = _owner(s, user_id, code)
        if not errors and rounds_repo.round_by_year(s, year, code) is not None:
            errors.append(refuse("round_exists", f"{year}年度已经设立",
                                 f"the {year} round exists already", field="year"))
        changes = {k: v for k, v in data.items()
                   if k not in ("year", "name_zh", "name_en", "programme")}
        # what the programme's file says a new round starts with ([rounds])
        starts = programme(code).round_rules(year if not errors else 2006)
        rules, wrong = rules_of_rounds.apply(starts, changes,
                                             set(authorities_repo.authorities_by_code(s)))
        if errors or wrong:  # every error at once, each naming its field
            raise ValidationFailed(*errors, *wrong)
        zh, en = _names(data, year)
        row = RoundRow(year=year, name_zh=zh, name_en=en, params=rules.to_json(),
                       programme=code, created_at=now)
        s.add(row)
        s.flush()
        audit.append(s, "round_planned", who=audit.Who.of(user), object_type="round",
                     object_id=year, details={"params": rules.to_json()})
        out = _outcome(s, row, now)
        uow.commit()
        return out


def change(uow: UnitOfWork, user_id: int, year: int, data: dict[str, Any],
           now: datetime | None = None, code: str = DEFAULT_CODE) -> Outcome:
    """Change a planned round's names, dates, quotas or fields. Once it has opened its
    rules are frozen (`round_frozen`)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user = _owner(s, user_id, code)
        row = _round(s, year, code)
        if rounds_repo.status_of(row, local_date(now)) is not RoundStatus.PLANNED:
            raise WrongStatus(refuse("round_frozen", f"{year}年度已经开放，规则不能再修改",
                                     f"the {year} round has opened: its rules are frozen",
                                     field="year"))
        changes = {k: v for k, v in data.items() if k not in ("name_zh", "name_en")}
        rules, errors = rules_of_rounds.apply(rounds_repo.rules_of(row), changes,
                                              set(authorities_repo.authorities_by_code(s)))
        if errors:
            raise ValidationFailed(*errors)
        if "name_zh" in data or "name_en" in data:
            zh, en = _names({"name_zh": data.get("name_zh") or row.name_zh,
                             "name_en": data.get("name_en") or row.name_en}, year)
            row.name_zh, row.name_en = zh, en
        before = row.params
        row.params = rules.to_json()
        audit.append(s, "round_changed", who=audit.Who.of(user), object_type="round",
                     object_id=year, details={"changed": sorted(data), "before": before})
        out = _outcome(s, row, now)
        uow.commit()
        return out


def open_round(uow: UnitOfWork, user_id: int, year: int,
               now: datetime | None = None, code: str = DEFAULT_CODE) -> Outcome:
    """planned → open today: applications may be drafted in it, its rules are frozen."""
    now = now or utcnow()
    today = local_date(now)
    with uow:
        s = uow.session
        user = _owner(s, user_id, code)
        row = _round(s, year, code)
        status = rounds_repo.status_of(row, today)
        if status is not RoundStatus.PLANNED:
            raise WrongStatus(refuse("round_not_planned", f"{year}年度已经开放或已结束",
                                     f"the {year} round is {status.value}, not planned",
                                     field="year", details={"status": status.value}))
        rules = rounds_repo.rules_of(row)
        refused = rules_of_rounds.openable(rules, today)
        if refused:
            raise ValidationFailed(*refused)
        row.opened_on, row.closed_on = today, None
        # its programme's definition as it is today: a case never changes rules mid-round
        row.programme_source = current_source(row.programme)
        row.programme_hash = digest(row.programme_source)
        audit.append(s, "round_opened", who=audit.Who.of(user), object_type="round",
                     object_id=year, details={"params": row.params, "programme": row.programme,
                                              "programme_hash": row.programme_hash})
        out = _outcome(s, row, now)
        uow.commit()
        return out


def close_round(uow: UnitOfWork, user_id: int, year: int,
                now: datetime | None = None, code: str = DEFAULT_CODE) -> Outcome:
    """open → closed today: no new drafts; its unfinished cases wait on no one and get no
    reminders; its bases keep their reporting duties."""
    now = now or utcnow()
    today = local_date(now)
    with uow:
        s = uow.session
        user = _owner(s, user_id, code)
        row = _round(s, year, code)
        status = rounds_repo.status_of(row, today)
        if status is not RoundStatus.OPEN:
            raise WrongStatus(refuse("round_not_open", f"{year}年度不在开放状态，无法结束",
                                     f"the {year} round is {status.value}, not open",
                                     field="year", details={"status": status.value}))
        row.closed_on = today
        audit.append(s, "round_closed", who=audit.Who.of(user), object_type="round",
                     object_id=year)
        out = _outcome(s, row, now)
        uow.commit()
        return out


def programmes_kept_by(uow: UnitOfWork, user_id: int) -> list[Programme]:
    """The programmes whose rounds this user keeps (the ministry: notice 002's; a
    province's reviewers: their province's own)."""
    with uow.read():
        user = users_repo.user_by_id(uow.session, user_id)
        code = user.authority.code if user.authority else None
        return [p for p in known() if p.owned_by(Role(user.role), code)]


def may_keep_rounds(uow: UnitOfWork, user_id: int, code: str = DEFAULT_CODE) -> bool:
    """Does this user plan, open and close rounds of programme `code` (the page shows them
    the controls)?"""
    with uow.read():
        user = users_repo.user_by_id(uow.session, user_id)
        return programme(code).owned_by(Role(user.role),
                                        user.authority.code if user.authority else None)
