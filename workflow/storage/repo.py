"""Repository functions: rows in, domain objects out (and back)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    event,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from workflow import form
from workflow.calendar import WorkCalendar
from workflow.errors import Forbidden, NotFound, Refusal, refuse
from workflow.programme import DEFAULT_CODE, Programme, frozen, programme
from workflow.roles import Actor, Role
from workflow.rules import LocalityStat, ReferenceStats, RoundStatus, round_status
from workflow.states import DESIGNATED
from workflow.storage.models import (
    ApiTokenRow,
    ApplicationRow,
    AttachmentRow,
    AuthorityRow,
    CalendarDayRow,
    CalendarYearRow,
    DeputyRow,
    HistoryRow,
    LocalityStatRow,
    ObjectionRow,
    ReferenceStatRow,
    RoundRow,
    UserRow,
)
from workflow.storage.types import UTCDateTime


def not_found(what: str = "application") -> NotFound:
    return NotFound(refuse("not_found", "未找到该记录，或您无权查看",
                           f"{what} not found (or not yours to see)"))


# --- actors and scope ---------------------------------------------------------------

class Someone(Protocol):
    """A user as scope checks read them: a `UserRow`, or `cases_repo.Person`."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def authority_id(self) -> int | None: ...
    @property
    def authority_code(self) -> str | None: ...
    @property
    def display_name(self) -> str: ...


class Placed(Protocol):
    """A case as scope checks read it: an `ApplicationRow`, or `cases_repo.StoredCase`."""

    @property
    def id(self) -> int: ...
    @property
    def owner_id(self) -> int: ...
    @property
    def authority_id(self) -> int: ...
    @property
    def province_id(self) -> int: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def parent_code(self) -> str | None: ...


def actor_of(user: Someone, on_behalf_of: Someone | None = None) -> Actor:
    """The domain's view of a user; acting for `on_behalf_of` takes that person's scope."""
    who = on_behalf_of or user
    return Actor(
        user_id=user.id, role=Role(who.role),
        authority_code=who.authority_code,
        name=user.display_name,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        on_behalf_of_name=on_behalf_of.display_name if on_behalf_of else None,
    )


def principals_of(session: Session, user_id: int, today: date) -> list[UserRow]:
    """The people this user deputises for today (out-of-office cover)."""
    q = (select(UserRow).join(DeputyRow, DeputyRow.principal_id == UserRow.id)
         .where(DeputyRow.deputy_id == user_id, DeputyRow.starts_on <= today,
                DeputyRow.ends_on >= today, UserRow.is_active.is_(True)))
    return list(session.scalars(q).unique())


def in_scope(user: Someone, app: Placed) -> bool:
    """The tree of authorities (workflow.authorities): an applicant sees what it drafted,
    and a city bureau's accounts every case of their city; a province what was submitted
    to it by itself or its cities (including cases it returned).

    Applicant accounts at a province-level authority keep to their own drafts: before the
    tree, every city bureau's account was attached to its province, and they must not see
    each other's until the system administrator moves them to their cities."""
    role = Role(user.role)
    if role is Role.MINISTRY_REVIEWER:
        return True
    if role is Role.PROVINCIAL_REVIEWER:
        return user.authority_id == app.province_id and app.submitted_at is not None
    if role is Role.APPLICANT:
        return app.owner_id == user.id or (app.parent_code is not None
                                           and user.authority_id == app.authority_id)
    return False


def actor_for_case(session: Session, user: Someone, app: Placed, today: date, *,
                   deputising: bool = True) -> Actor | None:
    """The actor `user` may be on `app`: themself, or a deputy for someone; None if neither.

    A deputy acts "on behalf of" the person they cover for the cases that person holds
    (drafted, or last handled at that level), so history reads "X 代 Y" even when the two
    share a scope; other cases in their own scope they handle in their own name.
    `deputising=False`: the caller already knows `user` covers for nobody today (the
    deputies are then not looked up).
    """
    if not deputising:
        return actor_of(user) if in_scope(user, app) else None
    principals = principals_of(session, user.id, today)
    if principals:
        holders = case_holders(session, app)
        for principal in principals:
            if principal.id in holders and in_scope(principal, app):
                return actor_of(user, principal)
    if in_scope(user, app):
        return actor_of(user)
    for principal in principals:
        if in_scope(principal, app):
            return actor_of(user, principal)
    return None


def case_holders(session: Session, app: Placed) -> set[int]:
    """Who holds a case: its drafter, and the last person to act on it at each role."""
    holders = {app.owner_id}
    last: dict[str, int | None] = {}
    q = (select(HistoryRow.actor_role, HistoryRow.actor_id, HistoryRow.on_behalf_of_id)
         .where(HistoryRow.application_id == app.id).order_by(HistoryRow.version))
    for role, actor_id, behalf_id in session.execute(q):
        last[role] = behalf_id or actor_id
    return holders | {i for i in last.values() if i is not None}


def scope_filter(user: UserRow, principals: list[UserRow]) -> Any:
    """A WHERE clause limiting applications to what `user` (and whom they cover) may see."""
    clauses = []
    for u in [user, *principals]:
        role = Role(u.role)
        if role is Role.MINISTRY_REVIEWER:
            return True
        if role is Role.PROVINCIAL_REVIEWER and u.authority_id is not None:
            clauses.append(and_(ApplicationRow.authority_id.in_(tree_ids(u.authority_id)),
                                ApplicationRow.submitted_at.is_not(None)))
        elif role is Role.APPLICANT:
            clauses.append(ApplicationRow.owner_id == u.id)
            if u.authority is not None and u.authority.is_city:  # the bureau's cases
                clauses.append(ApplicationRow.authority_id == u.authority_id)
    return or_(*clauses) if clauses else False


def tree_ids(province_id: int) -> Any:
    """SELECT the ids of a province-level authority and of the cities under it."""
    return select(AuthorityRow.id).where(or_(AuthorityRow.id == province_id,
                                             AuthorityRow.parent_id == province_id))


# --- rounds, calendar, reference statistics ----------------------------------------


# Calendar overrides and reference statistics change a few times a year but are read on
# every transition: each process keeps them, keyed by database. Any write to those tables
# through SQLAlchemy in this process clears the cache at once (see `_invalidate_on_write`);
# other processes see a change within REFERENCE_CACHE_SECONDS.
REFERENCE_CACHE_SECONDS = 30.0
_CACHED_TABLES = ("calendar_days", "calendar_years", "reference_statistics",
                  "locality_statistics")
_cache: dict[tuple[str, str], tuple[float, Any]] = {}
_engine_keys: dict[int, tuple[Any, str]] = {}  # id(engine) -> (engine, its URL as text)
_watched: set[int] = set()


def _invalidate_on_write(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    if _cache and not statement.lstrip()[:6].upper().startswith("SELECT") and any(
            t in statement for t in _CACHED_TABLES):
        clear_reference_cache()


def clear_reference_cache() -> None:
    """Forget cached calendars and reference statistics (the next read reloads them)."""
    _cache.clear()


def _cached(session: Session, what: str, load: Any) -> Any:
    engine = session.get_bind().engine
    known = _engine_keys.get(id(engine))
    if known is None or known[0] is not engine:
        known = _engine_keys[id(engine)] = (engine, str(engine.url))  # holds the engine
    key = (known[1], what)
    hit = _cache.get(key)
    now = _monotonic()
    if hit is not None and now - hit[0] < REFERENCE_CACHE_SECONDS:
        return hit[1]
    if id(engine) not in _watched:
        event.listen(engine, "before_cursor_execute", _invalidate_on_write)
        _watched.add(id(engine))
    value = load(session)
    _cache[key] = (now, value)
    return value


def _monotonic() -> float:
    return time.monotonic()


def load_calendar(session: Session) -> WorkCalendar:
    """The working-day calendar with admin overrides (cached per process, see above)."""
    return _cached(session, "calendar", _load_calendar)  # type: ignore[no-any-return]


def _load_calendar(session: Session) -> WorkCalendar:
    overrides = {r.day: r.is_workday for r in session.scalars(select(CalendarDayRow))}
    years = frozenset(session.scalars(select(CalendarYearRow.year)))
    return WorkCalendar(overrides=overrides, complete_years=years)


def load_references(session: Session) -> dict[int, ReferenceStats]:
    """Reference statistics by year (cached per process; callers get their own dict)."""
    return dict(_cached(session, "references", _load_references))


def _load_references(session: Session) -> dict[int, ReferenceStats]:
    out = {}
    for r in session.scalars(select(ReferenceStatRow)):
        out[r.year] = ReferenceStats(
            year=r.year,
            national_hightech_exports_100m_usd=r.national_hightech_exports_100m_usd,
            national_hightech_growth_pct=r.national_hightech_growth_pct,
            region_export_growth_pct={k: Decimal(str(v))
                                      for k, v in (r.region_export_growth_pct or {}).items()
                                      if v is not None},
        )
    localities: dict[int, dict[str, LocalityStat]] = {}
    for row in session.scalars(select(LocalityStatRow)):
        a = row.authority
        localities.setdefault(row.year, {})[a.code] = LocalityStat(
            authority_code=a.code, year=row.year, export_growth_pct=row.export_growth_pct,
            source=row.source, catalogue=row.catalogue, name_zh=a.name_zh, name_en=a.name_en)
    for year, by_code in localities.items():
        ref = out.get(year) or ReferenceStats(year=year)
        out[year] = replace(ref, localities=by_code)
    return out


# --- applications -------------------------------------------------------------------

def get_application(session: Session, app_id: int, *, for_update: bool = False) -> ApplicationRow:
    # products in the same round trip (the relationship's default is a second SELECT)
    q = select(ApplicationRow).where(ApplicationRow.id == app_id).options(
        joinedload(ApplicationRow.products))
    if for_update:
        q = q.with_for_update(of=ApplicationRow)
    row = session.scalars(q).unique().one_or_none()
    if row is None:
        raise not_found()
    return row


def attachment_kinds(session: Session, app_id: int) -> frozenset[str]:
    q = select(AttachmentRow.kind).where(AttachmentRow.application_id == app_id,
                                         AttachmentRow.superseded.is_(False)).distinct()
    return frozenset(session.scalars(q))


def open_objections(session: Session, app_id: int) -> int:
    q = select(func.count()).select_from(ObjectionRow).where(
        ObjectionRow.application_id == app_id, ObjectionRow.status == "open")
    return int(session.scalar(q) or 0)


def attachments_and_objections(session: Session, app_id: int) -> tuple[frozenset[str], int]:
    """`attachment_kinds` and `open_objections` in one round trip."""
    kinds = select(literal("k").label("what"), AttachmentRow.kind.label("value")).where(
        AttachmentRow.application_id == app_id, AttachmentRow.superseded.is_(False)).distinct()
    count = select(literal("o").label("what"), cast(func.count(), String).label("value")).where(
        ObjectionRow.application_id == app_id, ObjectionRow.status == "open")
    found: set[str] = set()
    n = 0
    for what, value in session.execute(union_all(kinds, count)):
        if what == "k":
            found.add(value)
        else:
            n = int(value)
    return frozenset(found), n


def values_of(app: ApplicationRow) -> dict[str, Any]:
    """The form's values, typed as its programme defines them."""
    return programme_of_round(app.round).form.decode(app.form, app.applicant_name)


def write_values(app: ApplicationRow, values: dict[str, Any]) -> None:
    """Write form values (as cleaned by the form) onto the row: the title to its column,
    the rest into the document."""
    if form.TITLE in values:
        app.applicant_name = values[form.TITLE]
    app.form = programme_of_round(app.round).form.merged(app.form, values)


def programme_of_round(round_row: RoundRow) -> Programme:
    """The rules a round runs by: the definition it opened with, or (planned) the file."""
    if round_row.programme_hash:
        return frozen(round_row.programme_hash, round_row.programme_source)
    return programme(round_row.programme)


def user_by_id(session: Session, user_id: int) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None or not user.is_active:
        raise not_found("user")
    return user


def user_in_role(session: Session, user_id: int, role: Role | tuple[Role, ...],
                 refusal: Refusal) -> UserRow:
    """The active user `user_id` if they hold `role` (or one of the roles given);
    `Forbidden(refusal)` otherwise."""
    user = user_by_id(session, user_id)
    if Role(user.role) not in (role if isinstance(role, tuple) else (role,)):
        raise Forbidden(refusal)
    return user


class Conflict(Exception):
    """A concurrent writer changed the row first (stale version or duplicate key)."""


def flush_or_conflict(session: Session) -> None:
    """Flush; the UPDATE carries "WHERE version = <read version>", so a writer that got
    there first turns this one into `Conflict`."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise Conflict() from None


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


def user_by_username(session: Session, username: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.username == username)).first()


def token_by_digest(session: Session, digest: str) -> ApiTokenRow | None:
    return session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest)).first()


def history(session: Session, app_id: int) -> list[HistoryRow]:
    q = select(HistoryRow).where(HistoryRow.application_id == app_id).order_by(HistoryRow.version)
    return list(session.scalars(q))


def objection_by_number(session: Session, number: str) -> ObjectionRow | None:
    return session.scalars(select(ObjectionRow).where(ObjectionRow.confirmation_no == number)
                           ).first()


def objections_of(session: Session, app_id: int) -> list[ObjectionRow]:
    q = select(ObjectionRow).where(ObjectionRow.application_id == app_id).order_by(
        ObjectionRow.filed_at)
    return list(session.scalars(q))


def designated_bases(session: Session) -> list[ApplicationRow]:
    """Every case that is a designated base now."""
    return list(session.scalars(select(ApplicationRow).where(
        ApplicationRow.state.in_([d.value for d in DESIGNATED])).order_by(ApplicationRow.id)))


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


def authorities_by_code(session: Session) -> dict[str, AuthorityRow]:
    return {a.code: a for a in session.scalars(select(AuthorityRow))}


def authority_by_code(session: Session, code: str) -> AuthorityRow | None:
    return session.scalars(select(AuthorityRow).where(AuthorityRow.code == code)).first()


def reference_years(session: Session) -> set[int]:
    return set(session.scalars(select(ReferenceStatRow.year)))


def user_ids(session: Session) -> dict[str, int]:
    return {u.username: u.id for u in session.scalars(select(UserRow))}


def applicant_names(session: Session) -> set[str]:
    return {n for n in session.scalars(select(ApplicationRow.applicant_name)) if n}


FAR_FUTURE = date(9999, 12, 31)


FAR_PAST = datetime(1900, 1, 1, tzinfo=UTC)  # a draft's submission date, for sorting
INBOX_SORTS = ("due", "applicant", "state", "submitted")


def inbox_sort_key(sort: str, state_order: Sequence[str] = ()) -> Any:
    """The SQL value an inbox sort orders by (never NULL, so a keyset can compare it):
    due date, applicant name, state in its programme's order, or submission date."""
    if sort == "applicant":
        return func.coalesce(ApplicationRow.applicant_name, "")
    if sort == "state":
        return case({k: i for i, k in enumerate(state_order)}, value=ApplicationRow.state,
                    else_=len(state_order))
    if sort == "submitted":
        return func.coalesce(ApplicationRow.submitted_at, literal(FAR_PAST, UTCDateTime()))
    return func.coalesce(ApplicationRow.due_on, FAR_FUTURE)


def inbox_sort_value(row: ApplicationRow, sort: str, state_order: Sequence[str] = ()) -> Any:
    """A row's value of `inbox_sort_key` (for the next page's cursor)."""
    if sort == "applicant":
        return row.applicant_name or ""
    if sort == "state":
        return state_order.index(row.state) if row.state in state_order else len(state_order)
    if sort == "submitted":
        return row.submitted_at or FAR_PAST
    return row.due_on or FAR_FUTURE


def _matching(q: str, industry_codes: Sequence[str]) -> Any:
    """An application matching a search: its applicant's name, its authority's name (or
    its province's), its case number, or its industry field."""
    term = q.strip()
    named = select(AuthorityRow.id).where(or_(
        AuthorityRow.name_zh.contains(term, autoescape=True),
        AuthorityRow.name_en.icontains(term, autoescape=True)))
    found = [ApplicationRow.applicant_name.contains(term, autoescape=True),
             ApplicationRow.authority_id.in_(select(AuthorityRow.id).where(or_(
                 AuthorityRow.id.in_(named), AuthorityRow.parent_id.in_(named)))),
             ApplicationRow.industry_field.in_(list(industry_codes))]
    number = term.lstrip("#＃")
    if number.isdigit() and len(number) < 10:
        found.append(ApplicationRow.id == int(number))
    return or_(*found)


def page_applications(session: Session, scope: Any, *, state: str | None, states: list[str] | None,
                      region: str | None, authority: str | None, round_year: int | None,
                      kind: str | None, q: str | None, limit: int,
                      after: tuple[Any, int] | None, count: bool,
                      settled_rounds: Sequence[int] = (), programme_code: str | None = None,
                      sort: str = "due", descending: bool = False,
                      state_order: Sequence[str] = (), industry_codes: Sequence[str] = ()
                      ) -> tuple[list[ApplicationRow], int]:
    """Applications in `scope`, filtered, ordered by (`sort` key, id) either way,
    keyset-paginated. In `settled_rounds` (closed ones) only designated bases are listed."""
    where = [scope]
    if state:
        where.append(ApplicationRow.state == state)
    if states is not None:
        where.append(ApplicationRow.state.in_(states))
    if settled_rounds:
        where.append(or_(ApplicationRow.round_id.not_in(list(settled_rounds)),
                         ApplicationRow.state.in_([d.value for d in DESIGNATED])))
    if kind:
        where.append(ApplicationRow.kind == kind)
    if q:
        where.append(_matching(q, industry_codes))
    if region or authority:
        sub = select(AuthorityRow.id)
        if region:
            sub = sub.where(AuthorityRow.region == region)
        if authority:  # a province's code takes in its cities
            named = select(AuthorityRow.id).where(AuthorityRow.code == authority)
            sub = sub.where(or_(AuthorityRow.id.in_(named), AuthorityRow.parent_id.in_(named)))
        where.append(ApplicationRow.authority_id.in_(sub))
    if round_year or programme_code:
        rounds_wanted = select(RoundRow.id)
        if round_year:
            rounds_wanted = rounds_wanted.where(RoundRow.year == round_year)
        if programme_code:
            rounds_wanted = rounds_wanted.where(RoundRow.programme == programme_code)
        where.append(ApplicationRow.round_id.in_(rounds_wanted))
    total = int(session.scalar(select(func.count()).select_from(ApplicationRow).where(*where))
                or 0) if count else -1
    key = inbox_sort_key(sort, state_order)
    query = select(ApplicationRow).where(*where)
    if after:
        value, cid = after
        if descending:
            query = query.where((key < value) | ((key == value) & (ApplicationRow.id < cid)))
        else:
            query = query.where((key > value) | ((key == value) & (ApplicationRow.id > cid)))
    order = (key.desc(), ApplicationRow.id.desc()) if descending else (key, ApplicationRow.id)
    rows = list(session.scalars(query.order_by(*order).limit(limit)).unique())
    return rows, total


# --- admin-entered calendar -------------------------------------------------------------

def calendar_day(session: Session, day: date) -> CalendarDayRow | None:
    return session.get(CalendarDayRow, day)


def calendar_entries(session: Session, year: int) -> list[CalendarDayRow]:
    q = select(CalendarDayRow).where(CalendarDayRow.day >= date(year, 1, 1),
                                     CalendarDayRow.day <= date(year, 12, 31)).order_by(
        CalendarDayRow.day)
    return list(session.scalars(q))


def calendar_year(session: Session, year: int) -> CalendarYearRow | None:
    return session.get(CalendarYearRow, year)
