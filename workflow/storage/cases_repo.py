"""A case as every reader sees it, and a transition's write.

One loader (`read_case`) builds the domain `Case` and its round's `RoundRules` for the
case page, the API and `cases.fire` alike: one SQLAlchemy Core SELECT of named columns
(the acting user, the case, its authority and province, round, the register entry it
names, attachment kinds, open objections, whether the user deputises today and the head
of the case's audit chain) into the domain's dataclasses. One write (`write_transition`)
moves the case on the unit of work's connection, in its transaction if it has one.

Locking: the case row is not locked when read. The write is conditional on the version
read (UPDATE … WHERE id AND version), so of concurrent transitions exactly one moves the
case and every other is a `Conflict`. A transition whose definition says `locks =
"province"` (programmes/*.toml: recommend counts the province's quota, 002 §六(三)) also
locks the province's authority row (`lock_authority`) before counting, in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Dialect,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from workflow import form
from workflow.applicants import Drafter
from workflow.model import Case
from workflow.programme import Programme, frozen, programme
from workflow.regions import Region
from workflow.register import ExistingBase
from workflow.rules import RoundRules
from workflow.states import DESIGNATED
from workflow.storage import audit_repo, register_repo
from workflow.storage.models import (
    ApplicationRow,
    AttachmentRow,
    AuditRow,
    AuthorityRow,
    DeputyRow,
    ExportBaseRow,
    HistoryRow,
    ObjectionRow,
    ProductRow,
    RoundRow,
    UserRow,
)
from workflow.storage.rounds_repo import programme_of_round, round_rules
from workflow.storage.scope_repo import not_found
from workflow.storage.uow import Conflict


@dataclass(slots=True, frozen=True)
class Person:
    """The acting user as a case's reader needs them (same names as `UserRow`)."""

    id: int
    username: str
    display_name: str
    role: str
    authority_id: int | None
    is_active: bool
    authority_code: str | None


@dataclass(slots=True)
class StoredCase:
    """A case as stored: the domain `Case`, its round's rules, and the keys that place it
    (whose scope it is in, whose quota it counts against, the round it belongs to)."""

    case: Case
    rules: RoundRules
    round_id: int
    authority_id: int
    province_id: int  # the province-level authority (a city's parent, else the authority)
    submitted_at: datetime | None
    industry_field: str | None
    existing_base_id: int | None

    @property
    def id(self) -> int:
        assert self.case.id is not None
        return self.case.id

    @property
    def owner_id(self) -> int:
        return self.case.owner_id

    @property
    def parent_code(self) -> str | None:
        return self.case.parent_code


@dataclass(slots=True)
class CaseRead:
    """What `read_case` found: the user, the case (None when either does not exist)."""

    user: Person | None
    stored: StoredCase | None
    deputising: bool  # the user covers for someone today (see `scope_repo.actor_for_case`)
    audit_head: str | None  # the hash of the newest record in the case's audit chain


_CASE = ("id", "round_id", "authority_id", "owner_id", "kind", "state", "version",
         "attestations", "recommended_by_id", "submitted_at", "notice_published_on",
         "notice_ends_on", "rectification_deadline", "existing_base_id",
         "existing_base_type", "industry_field", "overridden_criteria", "late_steps",
         "form", "applicant_name")


@cache
def _read_statement(dialect: str) -> Any:
    """The loader's one SELECT (built once per dialect; SQLAlchemy caches its compiled
    form, psycopg prepares it on the server after a few uses)."""
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
    users, apps = UserRow.__table__.c, ApplicationRow.__table__.c
    user_auth, app_auth = AuthorityRow.__table__.alias("ua"), AuthorityRow.__table__.alias("aa")
    province = AuthorityRow.__table__.alias("pa")  # a city's parent, else the authority
    base, base_auth = ExportBaseRow.__table__.alias("eb"), AuthorityRow.__table__.alias("ba")
    rounds = RoundRow.__table__.c
    return (select(
        users.id.label("user_id"), users.username, users.display_name, users.role,
        users.authority_id.label("user_authority_id"), users.is_active,
        user_auth.c.code.label("user_authority_code"),
        *(apps[c].label(f"app_{c}") for c in _CASE),
        app_auth.c.code.label("authority_code"), app_auth.c.region,
        app_auth.c.name_zh.label("authority_name_zh"),
        app_auth.c.name_en.label("authority_name_en"),
        app_auth.c.parent_id, register_repo.has_bases(province.c.id).label("has_bases"),
        rounds.year.label("round_year"), cast(rounds.params, Text).label("round_params"),
        rounds.programme.label("programme_code"), rounds.programme_hash,
        base.c.id.label("base_id"), base.c.name.label("base_name"),
        base.c.base_type, base.c.status.label("base_status"),
        base_auth.c.code.label("base_authority_code"),
        province.c.id.label("province_id"), province.c.code.label("province_code"),
        province.c.region.label("province_region"),
        province.c.name_zh.label("province_name_zh"),
        kinds.label("attachment_kinds"), objections.label("open_objections"),
        deputising.label("deputising"),
        audit_repo.head_of(bindparam("audit_chain", type_=String)).label("audit_head"))
        .select_from(UserRow.__table__)
        .outerjoin(user_auth, user_auth.c.id == users.authority_id)
        .outerjoin(ApplicationRow.__table__, apps.id == app_id)
        .outerjoin(app_auth, app_auth.c.id == apps.authority_id)
        .outerjoin(province, province.c.id == func.coalesce(app_auth.c.parent_id,
                                                            app_auth.c.id))
        .outerjoin(RoundRow.__table__, rounds.id == apps.round_id)
        .outerjoin(base, base.c.id == apps.existing_base_id)
        .outerjoin(base_auth, base_auth.c.id == base.c.authority_id)
        .where(users.id == user_id))


def read_case(conn: Connection, user_id: int, app_id: int, today: date,
              audit_chain: str) -> CaseRead:
    """The acting user and the case (authority, round, attachments, objections, the base
    it names), with its programme and its round's rules, in one round trip; not its
    product rows (`read_products`). No row lock: see the module's docstring. Core on the
    unit of work's connection (`UnitOfWork.connection`): no ORM row loading."""
    r = conn.execute(_read_statement(conn.dialect.name),
                     {"app_id": app_id, "user_id": user_id, "today": today,
                      "audit_chain": audit_chain}).one_or_none()
    if r is None:
        return CaseRead(None, None, False, None)
    user = Person(r.user_id, r.username, r.display_name, r.role, r.user_authority_id,
                  r.is_active, r.user_authority_code)
    stored = _stored(conn, r) if r.app_id is not None else None
    return CaseRead(user, stored, bool(r.deputising), r.audit_head)


def _stored(conn: Connection, r: Any) -> StoredCase:
    prog = _programme(conn, r.programme_code, r.programme_hash, r.app_round_id)
    city = r.parent_id is not None
    base = (ExistingBase(r.base_id, r.base_name, r.base_type, r.base_status,
                         r.base_authority_code) if r.base_id is not None else None)
    kinds = r.attachment_kinds
    case = Case(
        id=r.app_id, state=r.app_state, version=r.app_version, kind=r.app_kind,
        authority_code=r.authority_code, region=Region(r.region),
        authority_has_bases=bool(r.has_bases), round_year=r.round_year,
        owner_id=r.app_owner_id, values=prog.form.decode(r.app_form, r.app_applicant_name),
        attachment_kinds=frozenset(kinds.split(",")) if kinds else frozenset(),
        attestations=dict(r.app_attestations or {}),
        recommended_by_id=r.app_recommended_by_id, open_objections=int(r.open_objections or 0),
        notice_published_on=r.app_notice_published_on, notice_ends_on=r.app_notice_ends_on,
        rectification_deadline=r.app_rectification_deadline, programme=prog,
        parent_code=r.province_code if city else None,
        parent_region=Region(r.province_region) if city else None,
        authority_name_zh=r.authority_name_zh or "", authority_name_en=r.authority_name_en or "",
        parent_name_zh=r.province_name_zh if city else "",
        existing_base=base, existing_base_type=r.app_existing_base_type,
        overridden_criteria=tuple(r.app_overridden_criteria or ()),
        late_steps=tuple(r.app_late_steps or ()))
    return StoredCase(case, round_rules(r.round_year, r.round_params), r.app_round_id,
                      r.app_authority_id, r.province_id, r.app_submitted_at,
                      r.app_industry_field, r.app_existing_base_id)


@cache
def _products_statement() -> Any:
    return (select(ProductRow.name, ProductRow.exports_10k_usd)
            .where(ProductRow.application_id == bindparam("app_id", type_=Integer))
            .order_by(ProductRow.position))


def read_products(conn: Connection, case: Case) -> None:
    """Read the case's product rows (主要出口产品) into `case`: only the form-completeness
    guard reads them, so `fire` asks for them only for the triggers that have it."""
    case.products = [{"name": p.name, "exports_10k_usd": p.exports_10k_usd}
                     for p in conn.execute(_products_statement(), {"app_id": case.id})]


@cache
def _round_source() -> Any:
    return select(RoundRow.programme_source).where(
        RoundRow.id == bindparam("round_id", type_=Integer))


def _programme(conn: Connection, code: str, frozen_hash: str | None,
               round_id: int) -> Programme:
    """The rules a round runs by: the definition it opened with (its text read only the
    first time this process meets that version), or — planned — the file."""
    if frozen_hash is None:
        return programme(code)
    try:
        return frozen(frozen_hash)
    except KeyError:
        return frozen(frozen_hash, conn.scalar(_round_source(), {"round_id": round_id}))


# --- quota --------------------------------------------------------------------------------

def lock_authority(session: Session, authority_id: int) -> None:
    """Serialise quota checks of one authority — a province-level one for its cities too
    (PostgreSQL row lock; SQLite serialises writers already with BEGIN IMMEDIATE)."""
    session.execute(select(AuthorityRow.id).where(AuthorityRow.id == authority_id)
                    .with_for_update())


def quota_used(session: Session, app_id: int, round_id: int, province_id: int,
               programme: Programme) -> int:
    """Recommendations in this round that count against the quota of the province `app`
    belongs to (its own and its cities', 002 §六(三)), other than `app_id`: cases of the
    kinds the round's programme marks `uses_quota` in its states that use the quota."""
    cities = select(AuthorityRow.id).where((AuthorityRow.id == province_id)
                                           | (AuthorityRow.parent_id == province_id))
    q = select(func.count()).select_from(ApplicationRow).where(
        ApplicationRow.round_id == round_id, ApplicationRow.authority_id.in_(cities),
        ApplicationRow.kind.in_(programme.form.kinds_where("uses_quota")),
        ApplicationRow.id != app_id, ApplicationRow.state.in_(sorted(programme.uses_quota)))
    return int(session.scalar(q) or 0)


# --- a transition's write -----------------------------------------------------------------

def write_transition(conn: Connection, app_id: int, version: int,
                     changes: dict[str, Any], history: dict[str, Any],
                     audit: dict[str, Any]) -> int:
    """Move the case from `version` to `version + 1` with `changes`, append its history row
    and its audit record, on the unit of work's connection (in its transaction, if it has
    one); returns the history row's id. `Conflict` if the case is no longer at `version`
    (or its history / audit chain already moved on): nothing of it stands, and the unit
    of work rolls back what else it did when the conflict leaves it.

    PostgreSQL: one statement (data-modifying CTEs); SQLite: three."""
    params = {"app_id": app_id, "version": version, "new_version": version + 1,
              "chain_key": audit_repo.chain_lock_key(audit["chain"]),
              **{f"c_{k}": v for k, v in changes.items()},
              **{f"h_{k}": v for k, v in history.items()},
              **{f"a_{k}": v for k, v in audit.items()}}
    pg = conn.dialect.name == "postgresql"
    move, hist, aud = _write_statements(pg, tuple(changes), tuple(history), tuple(audit))
    try:
        if pg:
            history_id = conn.exec_driver_sql(*_driver_sql(move, conn.dialect, params)).scalar()
        elif conn.execute(move, params).rowcount == 1:
            history_id = conn.scalar(hist, params)
            conn.execute(aud, params)
        else:
            history_id = None
    except IntegrityError:
        raise Conflict() from None
    if history_id is None:
        raise Conflict()
    return int(history_id)


@cache
def _write_statements(pg: bool, changes: tuple[str, ...], history: tuple[str, ...],
                      audit: tuple[str, ...]) -> tuple[Any, Any, Any]:
    """The statements of `write_transition` for these columns (built once, then bound)."""
    apps: Any = ApplicationRow.__table__
    moved = (update(apps)
             .where(apps.c.id == bindparam("app_id"), apps.c.version == bindparam("version"))
             .values({**{apps.c[k]: bindparam(f"c_{k}", type_=apps.c[k].type)
                         for k in changes}, apps.c.version: bindparam("new_version")}))
    if not pg:
        return (moved, _insert_of(HistoryRow, "h_", history).returning(
            HistoryRow.__table__.c.id),
                _insert_of(AuditRow, "a_", audit))
    step = moved.returning(apps.c.id).cte("moved")
    hist = _insert_of(HistoryRow, "h_", history, step).returning(
        HistoryRow.__table__.c.id).cte("hist")
    # the audit record waits for its chain's lock, taken after the case's row lock (the
    # order every other writer of a case's chain uses): an append racing it for the chain
    # then either follows it or makes this write a conflict (UNIQUE chain, prev_hash)
    chain_locked = select(cast(func.pg_advisory_xact_lock(
        bindparam("chain_key", type_=BigInteger)), String)).scalar_subquery().is_not(None)
    aud = _insert_of(AuditRow, "a_", audit, step, chain_locked).cte("aud")
    return select(hist.c.id).add_cte(step, aud), None, None


@cache
def _compiled_once(statement: Any, dialect: Dialect) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """`statement`'s SQL text for `dialect`, compiled once, and the bind processors of its
    typed parameters (a JSON value into the driver's JSON wrapper…)."""
    compiled = statement.compile(dialect=dialect)
    processors = ((name, bind.type.dialect_impl(dialect).bind_processor(dialect))
                  for name, bind in compiled.binds.items())
    return str(compiled), tuple((name, p) for name, p in processors if p is not None)


def _driver_sql(statement: Any, dialect: Dialect, params: dict[str, Any]
                ) -> tuple[str, dict[str, Any]]:
    """What `Connection.exec_driver_sql` runs `statement` with: the text compiled once
    from the same Core statement, and `params` as its bind processors make them. For the
    write's 38 parameters this skips ≈ 0.1 ms of SQLAlchemy's set-up of a compiled
    statement per execution (its parameters, its result's metadata); the statement, its
    connection and its errors are the same."""
    sql, processors = _compiled_once(statement, dialect)
    return sql, {**params, **{name: process(params[name]) for name, process in processors}}


def transition_at(session: Session, app_id: int, version: int) -> Any:
    """The history row that moved the case to `version` (its id, actor, trigger and
    time), or None."""
    return session.execute(
        select(HistoryRow.id, HistoryRow.actor_id, HistoryRow.trigger, HistoryRow.at)
        .where(HistoryRow.application_id == app_id, HistoryRow.version == version)
    ).one_or_none()


def _insert_of(model: Any, prefix: str, names: tuple[str, ...], step: Any = None,
               *where: Any) -> Any:
    """INSERT INTO model (names) VALUES (bound parameters) — or, given a CTE `step`,
    INSERT … SELECT those parameters FROM step [WHERE …] (one row if the step produced
    one)."""
    table = model.__table__
    cols = table.c
    if step is None:
        return insert(table).values({cols[k]: bindparam(prefix + k, type_=cols[k].type)
                                     for k in names})
    row = select(*(bindparam(prefix + k, type_=cols[k].type).label(k) for k in names))
    return insert(table).from_select(list(names), row.select_from(step).where(*where))


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


def values_of(app: ApplicationRow) -> dict[str, Any]:
    """The form's values, typed as its programme defines them."""
    return programme_of_round(app.round).form.decode(app.form, app.applicant_name)


def drafter_of(authority: AuthorityRow) -> Drafter:
    """The authority as the drafter of an application (002 §六(三))."""
    parent = authority.parent
    return Drafter(authority.code, authority.name_zh, authority.name_en,
                   parent.name_zh if parent is not None else None)


def write_values(app: ApplicationRow, values: dict[str, Any]) -> None:
    """Write form values (as cleaned by the form) onto the row: the title to its column,
    the rest into the document."""
    if form.TITLE in values:
        app.applicant_name = values[form.TITLE]
    app.form = programme_of_round(app.round).form.merged(app.form, values)


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


def applicant_names(session: Session) -> set[str]:
    return {n for n in session.scalars(select(ApplicationRow.applicant_name)) if n}
