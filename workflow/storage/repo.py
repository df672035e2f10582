"""Repository functions: rows in, domain objects out (and back)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from workflow import form
from workflow.calendar import WorkCalendar
from workflow.errors import NotFound, refuse
from workflow.model import Case
from workflow.programme import DEFAULT_CODE, Programme, frozen, programme
from workflow.regions import Region
from workflow.register import ExistingBase
from workflow.roles import Actor, Role
from workflow.rules import LocalityStat, ReferenceStats, RoundRules, RoundStatus, round_status
from workflow.states import DESIGNATED, USES_QUOTA
from workflow.storage import audit_repo, register_repo
from workflow.storage.db import kept_connection, may_have_written
from workflow.storage.models import (
    ApiTokenRow,
    ApplicationRow,
    AttachmentRow,
    AuditRow,
    AuthorityRow,
    CalendarDayRow,
    CalendarYearRow,
    DeputyRow,
    ExportBaseRow,
    HistoryRow,
    LocalityStatRow,
    ObjectionRow,
    ProductRow,
    ReferenceStatRow,
    RoundRow,
    UserRow,
)
from workflow.storage.types import UTCDateTime
from workflow.storage.uow import UnitOfWork


def not_found(what: str = "application") -> NotFound:
    return NotFound(refuse("not_found", "未找到该记录，或您无权查看",
                           f"{what} not found (or not yours to see)"))


# --- actors and scope ---------------------------------------------------------------

def actor_of(user: UserRow | FireUser, on_behalf_of: UserRow | None = None) -> Actor:
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


def in_scope(user: UserRow | FireUser, app: ApplicationRow | FireCase) -> bool:
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


def actor_for_case(db: Session | UnitOfWork, user: UserRow | FireUser,
                   app: ApplicationRow | FireCase, today: date, *,
                   deputising: bool = True) -> Actor | None:
    """The actor `user` may be on `app`: themself, or a deputy for someone; None if neither.

    A deputy acts "on behalf of" the person they cover for the cases that person holds
    (drafted, or last handled at that level), so history reads "X 代 Y" even when the two
    share a scope; other cases in their own scope they handle in their own name.
    `deputising=False`: the caller already knows `user` covers for nobody today (given a
    unit of work, its session is then not even opened).
    """
    if not deputising:
        return actor_of(user) if in_scope(user, app) else None
    session = db.session if isinstance(db, UnitOfWork) else db
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


def case_holders(session: Session, app: ApplicationRow | FireCase) -> set[int]:
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

def rules_of(round_row: RoundRow) -> RoundRules:
    return RoundRules.from_json({**round_row.params, "year": round_row.year})


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


def _cached(source: Session | UnitOfWork, what: str, load: Any) -> Any:
    from sqlalchemy import event

    # a unit of work's session is opened only on a cache miss
    engine = source.engine if isinstance(source, UnitOfWork) else source.get_bind().engine
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
    value = load(source.session if isinstance(source, UnitOfWork) else source)
    _cache[key] = (now, value)
    return value


def _monotonic() -> float:
    import time

    return time.monotonic()


def load_calendar(session: Session | UnitOfWork) -> WorkCalendar:
    """The working-day calendar with admin overrides (cached per process, see above)."""
    return _cached(session, "calendar", _load_calendar)  # type: ignore[no-any-return]


def _load_calendar(session: Session) -> WorkCalendar:
    overrides = {r.day: r.is_workday for r in session.scalars(select(CalendarDayRow))}
    years = frozenset(session.scalars(select(CalendarYearRow.year)))
    return WorkCalendar(overrides=overrides, complete_years=years)


def load_references(session: Session | UnitOfWork) -> dict[int, ReferenceStats]:
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


def quota_used(session: Session, app: ApplicationRow | FireCase) -> int:
    """New-base recommendations in this round of the province `app` belongs to (its own
    and its cities', 002 §六(三)), other than `app`."""
    q = select(func.count()).select_from(ApplicationRow).where(
        ApplicationRow.round_id == app.round_id,
        ApplicationRow.authority_id.in_(tree_ids(app.province_id)),
        ApplicationRow.kind == "new_base", ApplicationRow.id != app.id,
        ApplicationRow.state.in_([s.value for s in USES_QUOTA]))
    return int(session.scalar(q) or 0)


def values_of(app: ApplicationRow) -> dict[str, Any]:
    """The form's values, typed as its programme defines them."""
    return programme_of_round(app.round).form.decode(app.form, app.applicant_name)


def write_values(app: ApplicationRow, values: dict[str, Any]) -> None:
    """Write form values (as cleaned by the form) onto the row: the title to its column,
    the rest into the document."""
    if form.TITLE in values:
        app.applicant_name = values[form.TITLE]
    app.form = programme_of_round(app.round).form.merged(app.form, values)


def to_case(session: Session, app: ApplicationRow) -> Case:
    """The domain `Case` for an application row (attachments, objections and what the
    register says of its authority and of the base it names included)."""
    return case_of(app, *attachments_and_objections(session, app.id),
                   has_bases=register_repo.authority_has_bases(session, app.authority.province_id),
                   base=register_repo.existing_base(session, app.existing_base_id))


def case_of(app: ApplicationRow, kinds: frozenset[str], objections: int, *, has_bases: bool,
            base: ExistingBase | None) -> Case:
    """The domain `Case` for an application row whose attachments, objections and
    register facts the caller has already read."""
    return Case(
        id=app.id,
        state=app.state,
        programme=programme_of_round(app.round),
        version=app.version,
        kind=app.kind,
        authority_code=app.authority.code,
        region=Region(app.authority.region),
        authority_has_bases=has_bases,
        round_year=app.round.year,
        owner_id=app.owner_id,
        values=values_of(app),
        products=[{"name": p.name, "exports_10k_usd": p.exports_10k_usd} for p in app.products],
        attachment_kinds=kinds,
        attestations=dict(app.attestations or {}),
        recommended_by_id=app.recommended_by_id,
        open_objections=objections,
        notice_published_on=app.notice_published_on,
        notice_ends_on=app.notice_ends_on,
        rectification_deadline=app.rectification_deadline,
        parent_code=app.authority.parent.code if app.authority.parent else None,
        parent_region=Region(app.authority.parent.region) if app.authority.parent else None,
        existing_base=base,
        existing_base_type=app.existing_base_type,
        overridden_criteria=tuple(app.overridden_criteria or ()),
        late_steps=tuple(app.late_steps or ()),
    )


# --- firing a trigger: one statement to read, one to write ---------------------------
#
# `cases.fire` is the hot path of the whole product (every decision of every reviewer, and
# every confirmed re-evaluation). It reads plain rows, not ORM objects, and on PostgreSQL
# sends its two statements straight to the driver: SQLAlchemy builds and compiles them
# once per process (`_Raw`), psycopg prepares them on the server after a few uses. The
# rows of PostgreSQL come back typed (dates, Decimals, JSON), so nothing is lost by
# skipping SQLAlchemy's result processing; SQLite goes through SQLAlchemy Core as usual.


@dataclass(slots=True)
class FireUser:
    """The acting user, as `fire` and its guards read it (same names as `UserRow`)."""

    id: int
    username: str
    display_name: str
    role: str
    authority_id: int | None
    is_active: bool
    authority_code: str | None


@dataclass(slots=True)
class FireCase:
    """The application as `fire` and its guards read it (same names as `ApplicationRow`)."""

    id: int
    round_id: int
    authority_id: int
    owner_id: int
    kind: str
    state: str
    version: int
    attestations: dict[str, Any] | None
    recommended_by_id: int | None
    submitted_at: Any
    notice_published_on: date | None
    notice_ends_on: date | None
    rectification_deadline: date | None
    existing_base_id: int | None
    existing_base_type: str | None
    industry_field: str | None
    overridden_criteria: list[str] | None
    late_steps: list[str] | None
    values: dict[str, Any]
    authority_code: str
    region: str
    has_existing_bases: bool  # the register, for the province and its cities (002 §六(三))
    round_year: int
    round_params: str  # the round's parameters as stored (JSON text): see `fire_rules`
    existing_base: ExistingBase | None  # the register entry a re-certification names
    products: list[dict[str, Any]]
    province_id: int  # the province-level authority (a city's parent, else the authority)
    parent_code: str | None  # a city's province: its code and region; None for a province
    parent_region: str | None
    programme_code: str = DEFAULT_CODE  # the round's programme, and the definition it
    programme_hash: str | None = None  # opened with (None: planned, follows the file)


@dataclass
class ForFire:
    """Everything `cases.fire` reads, from one statement."""

    user: FireUser | None
    app: FireCase | None
    attachment_kinds: frozenset[str]
    open_objections: int
    deputising: bool  # the user covers for someone today (see `actor_for_case`)
    audit_head: str | None  # the hash of the newest record in the case's audit chain


_USER_COLS = ("id", "username", "display_name", "role", "authority_id", "is_active")
_CASE_COLS = ("id", "round_id", "authority_id", "owner_id", "kind", "state", "version",
              "attestations", "recommended_by_id", "submitted_at", "notice_published_on",
              "notice_ends_on", "rectification_deadline", "existing_base_id",
              "existing_base_type", "industry_field", "overridden_criteria", "late_steps")
_FORM_COLS = ("form", "applicant_name")


@cache
def _fire_read(dialect: str) -> Any:
    app_id, user_id = bindparam("app_id", type_=Integer), bindparam("user_id", type_=Integer)
    today = bindparam("today", type_=Date)
    comma: Any = literal_column("','")
    agg = func.string_agg if dialect == "postgresql" else func.group_concat
    kinds = (select(agg(AttachmentRow.kind, comma))
             .where(AttachmentRow.application_id == app_id,
                    AttachmentRow.superseded.is_(False)).scalar_subquery())
    objections = (select(func.count()).select_from(ObjectionRow)
                  .where(ObjectionRow.application_id == app_id,
                         ObjectionRow.status == literal_column("'open'"))
                  .scalar_subquery())
    deputising = (select(DeputyRow.id).where(DeputyRow.deputy_id == user_id,
                                             DeputyRow.starts_on <= today,
                                             DeputyRow.ends_on >= today).exists())
    head = audit_repo.head_of(bindparam("audit_chain", type_=String))
    users, apps = UserRow.__table__.c, ApplicationRow.__table__.c
    user_auth, app_auth = AuthorityRow.__table__.alias("ua"), AuthorityRow.__table__.alias("aa")
    province = AuthorityRow.__table__.alias("pa")  # a city's parent, else the authority
    base, base_auth = ExportBaseRow.__table__.alias("eb"), AuthorityRow.__table__.alias("ba")
    rounds = RoundRow.__table__
    return (select(*(users[c] for c in _USER_COLS), user_auth.c.code,
                   *(apps[c] for c in _CASE_COLS), *(apps[c] for c in _FORM_COLS),
                   app_auth.c.code, app_auth.c.region, register_repo.has_bases(province.c.id),
                   rounds.c.year, cast(rounds.c.params, Text), rounds.c.programme,
                   rounds.c.programme_hash, base.c.id, base.c.name, base.c.base_type, base.c.status, base_auth.c.code,
                   province.c.id, province.c.code, province.c.region, app_auth.c.parent_id,
                   kinds, objections, deputising, head)
            .select_from(UserRow.__table__)
            .outerjoin(user_auth, user_auth.c.id == users.authority_id)
            .outerjoin(ApplicationRow.__table__, apps.id == app_id)
            .outerjoin(app_auth, app_auth.c.id == apps.authority_id)
            .outerjoin(province, province.c.id == func.coalesce(app_auth.c.parent_id,
                                                                app_auth.c.id))
            .outerjoin(rounds, rounds.c.id == apps.round_id)
            .outerjoin(base, base.c.id == apps.existing_base_id)
            .outerjoin(base_auth, base_auth.c.id == base.c.authority_id)
            .where(users.id == user_id))


@cache
def _fire_products() -> Any:
    return (select(ProductRow.name, ProductRow.exports_10k_usd)
            .where(ProductRow.application_id == bindparam("app_id", type_=Integer))
            .order_by(ProductRow.position))


class _Raw:
    """A Core statement compiled once for psycopg and run on the driver's cursor."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        # bytes, encoded once: psycopg looks its conversion and prepared statement up by
        # the query's bytes, and a str would be encoded (and hashed) again on every call
        self.query = self.sql.encode()
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}

    def run(self, driver: Any, params: dict[str, Any]) -> Any:
        """Execute on `driver`, a psycopg connection or cursor; returns the cursor."""
        bound = {**self.defaults, **{k: Jsonb(v, dumps=_json_dumps)
                                     if isinstance(v, dict | list) else v
                                     for k, v in params.items()}}
        return driver.execute(self.query, bound)


# (id(dialect), id(statement)) -> the compiled statement; the value keeps both alive, so
# their ids cannot be reused (the statements themselves are built once, by @cache)
_raw: dict[tuple[int, int], tuple[Any, Any, _Raw]] = {}


class Direct:
    """The thread's psycopg connection in autocommit (`db.kept_connection`), for a use
    case made of one read and one conditional single-statement write (`cases.fire`): no
    BEGIN, no COMMIT, no ORM session around them."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._kept = kept_connection(engine)
        self.dialect = self._kept.engine.dialect
        self.driver = self._kept.cursor  # one cursor, reused: its adapters stay set up

    def invalidate(self, exc: BaseException) -> None:
        self._kept.pooled.invalidate(exc)

    def reconnect(self) -> None:
        """Go on with the thread's connection afresh (this one was lost)."""
        self._kept = kept_connection(self._engine)
        self.driver = self._kept.cursor


def _run(target: Any, statement: Any, params: dict[str, Any]) -> Any:
    """Execute `statement` on `target`: a `Direct` or a SQLAlchemy connection. On
    PostgreSQL it runs on the psycopg cursor (compiled once per process); elsewhere
    through SQLAlchemy (a Result)."""
    dialect = target.dialect
    if isinstance(target, Direct):
        driver = target.driver
    elif dialect.name != "postgresql" or dialect.driver != "psycopg":
        return target.execute(statement, params)
    else:
        driver = target.connection.driver_connection
    hit = _raw.get((id(dialect), id(statement)))
    if hit is None:
        hit = _raw[id(dialect), id(statement)] = (dialect, statement,
                                                   _Raw(statement, dialect))
    raw = hit[2]
    try:
        return raw.run(driver, params)
    except psycopg.Error as exc:  # the same exceptions as through SQLAlchemy
        lost = dialect.is_disconnect(exc, driver.connection if isinstance(
            driver, psycopg.Cursor) else driver, None)
        if lost:
            target.invalidate(exc)
        raise DBAPIError.instance(raw.sql, params, exc, psycopg.Error,
                                  connection_invalidated=lost) from exc


def _json_dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


_NU, _NC, _NF = len(_USER_COLS), len(_CASE_COLS), len(_FORM_COLS)


def load_for_fire(db: Session | Direct, user_id: int, app_id: int, today: date,
                  audit_chain: str) -> ForFire:
    """The acting user, the application (authority, round) and the facts its guards need,
    in one round trip (not the product rows: see `fire_products`). No row
    lock: the write is conditional on the version read here (`write_transition`), so a
    concurrent change makes it a conflict."""
    conn = _target(db)
    dialect = conn.dialect.name
    r = _run(conn, _fire_read(dialect),
             {"app_id": app_id, "user_id": user_id, "today": today,
              "audit_chain": audit_chain}).fetchone()
    if r is None:
        return ForFire(None, None, frozenset(), 0, False, None)
    user = FireUser(*r[:_NU + 1])
    app = None
    if r[_NU + 1] is not None:
        i = _NU + 1 + _NC
        values = {"document": r[i], form.TITLE: r[i + 1]}  # typed by `programme_of_fire`
        code, region, has_bases, year, params, prog, prog_hash = r[i + _NF:i + _NF + 7]
        named = r[i + _NF + 7:i + _NF + 12]
        base = ExistingBase(*named) if named[0] is not None else None
        province_id, province_code, province_region, parent_id = r[i + _NF + 12:i + _NF + 16]
        city = parent_id is not None
        app = FireCase(*r[_NU + 1:i], values, code, region,  # type: ignore[call-arg]
                       bool(has_bases), year, params or "{}", base, [], province_id,
                       province_code if city else None, province_region if city else None,
                       prog, prog_hash)
    k, n, dep, head = r[-4:]
    return ForFire(user, app, frozenset(k.split(",")) if k else frozenset(), int(n or 0),
                   bool(dep), head)


def _target(db: Session | Direct) -> Any:
    return db if isinstance(db, Direct) else db.connection()


def statement_at_a_time(uow: UnitOfWork, wanted: bool = True) -> Session | Direct:
    """Where `cases.fire` runs its statements: on PostgreSQL (when `wanted`) a `Direct`
    connection without an explicit transaction — the read and the conditional write are
    one statement each, the write's CTEs atomic, so that is the same guarantee with two
    round trips fewer; otherwise the unit of work's session, in its transaction."""
    engine = uow.engine
    if not wanted or engine.dialect.name != "postgresql":
        return uow.session
    return Direct(engine)


def fire_products(db: Session | Direct, app: FireCase) -> None:
    """Read the case's product rows into `app` (only the form-completeness guard reads
    them, so `fire` asks for them only for the triggers that have it)."""
    app.products = [{"name": n, "exports_10k_usd": e} for n, e in _run(
        _target(db), _fire_products(), {"app_id": app.id})]


@cache
def _round_source() -> Any:
    return select(RoundRow.programme_source).where(
        RoundRow.id == bindparam("round_id", type_=Integer))


def programme_of_round(round_row: RoundRow) -> Programme:
    """The rules a round runs by: the definition it opened with, or (planned) the file."""
    if round_row.programme_hash:
        return frozen(round_row.programme_hash, round_row.programme_source)
    return programme(round_row.programme)


def programme_of_fire(db: Session | Direct, app: FireCase) -> Programme:
    """`programme_of_round` for what `load_for_fire` read (the definition's text is read
    only the first time this process meets a round's frozen version)."""
    if app.programme_hash is None:
        return programme(app.programme_code)
    try:
        return frozen(app.programme_hash)
    except KeyError:
        row = _run(_target(db), _round_source(), {"round_id": app.round_id}).fetchone()
        return frozen(app.programme_hash, row[0])


def fire_case(app: FireCase, kinds: frozenset[str], objections: int,
              prog: Programme | None = None) -> Case:
    """The domain `Case` for what `load_for_fire` read."""
    prog = prog or programme(app.programme_code)
    if "document" in app.values:  # as read: typed by the programme's form, once
        app.values = prog.form.decode(app.values["document"], app.values[form.TITLE])
    return Case(
        id=app.id, state=app.state, version=app.version, kind=app.kind,
        authority_code=app.authority_code, region=Region(app.region),
        authority_has_bases=app.has_existing_bases, round_year=app.round_year,
        owner_id=app.owner_id, values=app.values, products=app.products,
        attachment_kinds=kinds, attestations=dict(app.attestations or {}),
        recommended_by_id=app.recommended_by_id, open_objections=objections,
        notice_published_on=app.notice_published_on, notice_ends_on=app.notice_ends_on,
        rectification_deadline=app.rectification_deadline, parent_code=app.parent_code,
        parent_region=Region(app.parent_region) if app.parent_region else None,
        existing_base=app.existing_base, existing_base_type=app.existing_base_type,
        programme=prog,
        overridden_criteria=tuple(app.overridden_criteria or ()),
        late_steps=tuple(app.late_steps or ()),
    )


_rules: dict[tuple[int, str], RoundRules] = {}


def fire_rules(app: FireCase) -> RoundRules:
    """The round's rules, parsed once per process for each version of its parameters
    (keyed by their stored text, so an edited round is parsed again at once)."""
    key = (app.round_year, app.round_params)
    rules = _rules.get(key)
    if rules is None:
        if len(_rules) > 64:
            _rules.clear()
        rules = _rules[key] = RoundRules.from_json({**json.loads(app.round_params or "{}"),
                                                    "year": app.round_year})
    return rules


def write_transition(db: Session | Direct, app_id: int, version: int,
                     changes: dict[str, Any], history: dict[str, Any],
                     audit: dict[str, Any]) -> int:
    """Move the case from `version` to `version + 1` with `changes`, append its history row
    and its audit record; returns the history row's id. `Conflict` if the case is no longer
    at `version` (or its history / audit chain already moved on).

    PostgreSQL: one statement (data-modifying CTEs), so a transition costs the same round
    trips as the hand-written transaction; elsewhere (SQLite, in-process) three."""
    params = {"app_id": app_id, "version": version, "new_version": version + 1,
              "chain_key": audit_repo.chain_lock_key(audit["chain"]),
              **{f"c_{k}": v for k, v in changes.items()},
              **{f"h_{k}": v for k, v in history.items()},
              **{f"a_{k}": v for k, v in audit.items()}}
    conn = _target(db)
    pg = conn.dialect.name == "postgresql"
    move, hist, aud = _fire_write(pg, tuple(changes), tuple(history), tuple(audit))
    if isinstance(db, Direct):
        may_have_written()  # in autocommit: it may stand even if its answer is lost
    try:
        if pg:
            try:
                found = _run(conn, move, params).fetchone()
            except DBAPIError as exc:
                if not (isinstance(db, Direct) and exc.connection_invalidated):
                    raise
                found = _settle_lost_write(db, move, params)
            history_id = found[0] if found else None
        elif conn.execute(move, params).rowcount == 1:
            history_id = conn.execute(hist, params).scalar()
            conn.execute(aud, params)
        else:
            history_id = None
    except IntegrityError:
        _rollback(db)
        raise Conflict() from None
    if history_id is None:
        _rollback(db)
        raise Conflict()
    return int(history_id)


def _settle_lost_write(db: Direct, move: Any, params: dict[str, Any]) -> Any:
    """The answer to a transition write whose connection was lost before its answer came
    (a killed server process, a restart): on a new connection, the history row at the
    new version says whether it stood — this write's (same actor, trigger and time: its
    id) or another's (None: a conflict). If there is none, nothing of it stood and it is
    sent again: being conditional on the case's version, it still moves the case at most
    once, whichever copy lands."""
    db.reconnect()
    mine = (params["h_actor_id"], params["h_trigger"], params["h_at"])
    there = _run(db, _history_at(), params).fetchone()
    if there is None:
        again = _run(db, move, params).fetchone()
        if again is not None:
            return again
        there = _run(db, _history_at(), params).fetchone()
    return there if there is not None and tuple(there[1:]) == mine else None


@cache
def _history_at() -> Any:
    return (select(HistoryRow.id, HistoryRow.actor_id, HistoryRow.trigger, HistoryRow.at)
            .where(HistoryRow.application_id == bindparam("app_id", type_=Integer),
                   HistoryRow.version == bindparam("new_version", type_=Integer)))


def _rollback(db: Session | Direct) -> None:
    if not isinstance(db, Direct):  # a Direct statement did all or nothing by itself
        db.rollback()


@cache
def _fire_write(pg: bool, changes: tuple[str, ...], history: tuple[str, ...],
                audit: tuple[str, ...]) -> tuple[Any, Any, Any]:
    """The statements of `write_transition` for these columns (built once, then bound)."""
    apps = ApplicationRow.__table__
    moved = (update(ApplicationRow)
             .where(apps.c.id == bindparam("app_id"), apps.c.version == bindparam("version"))
             .values({**{apps.c[k]: bindparam(f"c_{k}", type_=apps.c[k].type)
                         for k in changes}, apps.c.version: bindparam("new_version")}))
    if not pg:
        return (moved, _insert_of(HistoryRow, "h_", history).returning(HistoryRow.id),
                _insert_of(AuditRow, "a_", audit))
    step = moved.returning(apps.c.id).cte("moved")
    hist = _insert_of(HistoryRow, "h_", history, step).returning(HistoryRow.id).cte("hist")
    # the audit record waits for its chain's lock, taken after the case's row lock (the
    # order every other writer of a case's chain uses): an append racing it for the chain
    # then either follows it or makes this write a conflict (UNIQUE chain, prev_hash)
    chain_locked = select(cast(func.pg_advisory_xact_lock(
        bindparam("chain_key", type_=BigInteger)), String)).scalar_subquery().is_not(None)
    aud = _insert_of(AuditRow, "a_", audit, step, chain_locked).cte("aud")
    return select(hist.c.id).add_cte(step, aud), None, None


def _insert_of(model: Any, prefix: str, names: tuple[str, ...], step: Any = None,
               *where: Any) -> Any:
    """INSERT INTO model (names) VALUES (bound parameters) — or, given a CTE `step`,
    INSERT … SELECT those parameters FROM step [WHERE …] (one row if the step produced
    one)."""
    cols = model.__table__.c
    if step is None:
        return insert(model).values({cols[k]: bindparam(prefix + k, type_=cols[k].type)
                                     for k in names})
    row = select(*(bindparam(prefix + k, type_=cols[k].type).label(k) for k in names))
    return insert(model).from_select(list(names), row.select_from(step).where(*where))


def lock_authority(session: Session, authority_id: int) -> None:
    """Serialise quota checks of one authority — a province-level one for its cities too
    (PostgreSQL row lock; SQLite serialises writers already with BEGIN IMMEDIATE)."""
    session.execute(select(AuthorityRow.id).where(AuthorityRow.id == authority_id)
                    .with_for_update())


def user_by_id(session: Session, user_id: int) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None or not user.is_active:
        raise not_found("user")
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
                      state_order: Sequence[str] = (), industry_codes: Sequence[str] = (),
                      before: tuple[Any, int] | None = None
                      ) -> tuple[list[ApplicationRow], int]:
    """Applications in `scope`, filtered, ordered by (`sort` key, id) either way,
    keyset-paginated: the `limit` rows after `after`, or the `limit` rows just before
    `before` (still in the page's order). In `settled_rounds` (closed ones) only designated
    bases are listed."""
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
    backwards = before is not None
    downwards = descending != backwards  # walking the key from high to low
    if after or before:
        value, cid = after or before  # type: ignore[misc]
        if downwards:
            query = query.where((key < value) | ((key == value) & (ApplicationRow.id < cid)))
        else:
            query = query.where((key > value) | ((key == value) & (ApplicationRow.id > cid)))
    order = (key.desc(), ApplicationRow.id.desc()) if downwards else (key, ApplicationRow.id)
    rows = list(session.scalars(query.order_by(*order).limit(limit)).unique())
    return (rows[::-1] if backwards else rows), total


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
