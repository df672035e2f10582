"""Repository functions: rows in, domain objects out (and back)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workflow import form
from workflow.calendar import WorkCalendar
from workflow.errors import NotFound, refuse
from workflow.model import Case
from workflow.regions import Region
from workflow.roles import Actor, Role
from workflow.rules import ReferenceStats, RoundRules
from workflow.states import USES_QUOTA, State
from workflow.storage.models import (
    ApiTokenRow,
    ApplicationRow,
    AttachmentRow,
    AuthorityRow,
    CalendarDayRow,
    CalendarYearRow,
    DeputyRow,
    HistoryRow,
    ObjectionRow,
    ReferenceStatRow,
    RoundRow,
    UserRow,
)

FORM_COLUMNS = tuple(f.name for f in form.FIELDS)


def not_found(what: str = "application") -> NotFound:
    return NotFound(refuse("not_found", "未找到该记录，或您无权查看",
                           f"{what} not found (or not yours to see)"))


# --- actors and scope ---------------------------------------------------------------

def actor_of(user: UserRow, on_behalf_of: UserRow | None = None) -> Actor:
    """The domain's view of a user; acting for `on_behalf_of` takes that person's scope."""
    who = on_behalf_of or user
    return Actor(
        user_id=user.id, role=Role(who.role),
        authority_code=who.authority.code if who.authority else None,
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


def in_scope(user: UserRow, app: ApplicationRow) -> bool:
    role = Role(user.role)
    if role is Role.MINISTRY_REVIEWER:
        return True
    if role is Role.PROVINCIAL_REVIEWER:
        # a province sees what was submitted to it (including cases it returned)
        return user.authority_id == app.authority_id and app.submitted_at is not None
    if role is Role.APPLICANT:
        return app.owner_id == user.id
    return False


def actor_for_case(session: Session, user: UserRow, app: ApplicationRow,
                   today: date) -> Actor | None:
    """The actor `user` may be on `app`: themself, or a deputy for someone; None if neither."""
    if in_scope(user, app):
        return actor_of(user)
    for principal in principals_of(session, user.id, today):
        if in_scope(principal, app):
            return actor_of(user, principal)
    return None


def scope_filter(user: UserRow, principals: list[UserRow]) -> Any:
    """A WHERE clause limiting applications to what `user` (and whom they cover) may see."""
    clauses = []
    for u in [user, *principals]:
        role = Role(u.role)
        if role is Role.MINISTRY_REVIEWER:
            return True
        if role is Role.PROVINCIAL_REVIEWER:
            clauses.append(and_(ApplicationRow.authority_id == u.authority_id,
                                ApplicationRow.submitted_at.is_not(None)))
        elif role is Role.APPLICANT:
            clauses.append(ApplicationRow.owner_id == u.id)
    return or_(*clauses) if clauses else False


# --- rounds, calendar, reference statistics ----------------------------------------

def rules_of(round_row: RoundRow) -> RoundRules:
    return RoundRules.from_json({**round_row.params, "year": round_row.year})


def load_calendar(session: Session) -> WorkCalendar:
    overrides = {r.day: r.is_workday for r in session.scalars(select(CalendarDayRow))}
    years = frozenset(session.scalars(select(CalendarYearRow.year)))
    return WorkCalendar(overrides=overrides, complete_years=years)


def load_references(session: Session) -> dict[int, ReferenceStats]:
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
    return out


# --- applications -------------------------------------------------------------------

def get_application(session: Session, app_id: int, *, for_update: bool = False) -> ApplicationRow:
    q = select(ApplicationRow).where(ApplicationRow.id == app_id)
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


def quota_used(session: Session, app: ApplicationRow) -> int:
    """New-base recommendations of this authority in this round, other than `app`."""
    q = select(func.count()).select_from(ApplicationRow).where(
        ApplicationRow.round_id == app.round_id, ApplicationRow.authority_id == app.authority_id,
        ApplicationRow.kind == "new_base", ApplicationRow.id != app.id,
        ApplicationRow.state.in_([s.value for s in USES_QUOTA]))
    return int(session.scalar(q) or 0)


def reviewers_of(session: Session, app_id: int) -> frozenset[int]:
    q = select(HistoryRow.actor_id).where(HistoryRow.application_id == app_id,
                                          HistoryRow.actor_role != Role.APPLICANT.value)
    return frozenset(i for i in session.scalars(q) if i is not None)


def values_of(app: ApplicationRow) -> dict[str, Any]:
    return {name: getattr(app, name) for name in FORM_COLUMNS}


def to_case(session: Session, app: ApplicationRow) -> Case:
    """The domain `Case` for an application row (attachments and objections included)."""
    return Case(
        id=app.id,
        state=State(app.state),
        version=app.version,
        kind=app.kind,
        authority_code=app.authority.code,
        region=Region(app.authority.region),
        authority_has_bases=app.authority.has_existing_bases,
        round_year=app.round.year,
        owner_id=app.owner_id,
        values=values_of(app),
        products=[{"name": p.name, "exports_10k_usd": p.exports_10k_usd} for p in app.products],
        attachment_kinds=attachment_kinds(session, app.id),
        attestations=dict(app.attestations or {}),
        recommended_by_id=app.recommended_by_id,
        open_objections=open_objections(session, app.id),
        notice_published_on=app.notice_published_on,
        notice_ends_on=app.notice_ends_on,
        rectification_deadline=app.rectification_deadline,
    )


def lock_authority(session: Session, authority_id: int) -> None:
    """Serialise quota checks of one authority (PostgreSQL row lock; SQLite serialises
    writers already with BEGIN IMMEDIATE)."""
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


def objections_of(session: Session, app_id: int) -> list[ObjectionRow]:
    q = select(ObjectionRow).where(ObjectionRow.application_id == app_id).order_by(
        ObjectionRow.filed_at)
    return list(session.scalars(q))


def round_by_year(session: Session, year: int | None) -> RoundRow | None:
    """That year's round, or (year None) the newest open one."""
    if year is not None:
        return session.scalars(select(RoundRow).where(RoundRow.year == year)).first()
    return session.scalars(select(RoundRow).where(RoundRow.is_open.is_(True))
                           .order_by(RoundRow.year.desc())).first()


def authorities_by_code(session: Session) -> dict[str, AuthorityRow]:
    return {a.code: a for a in session.scalars(select(AuthorityRow))}


def reference_years(session: Session) -> set[int]:
    return set(session.scalars(select(ReferenceStatRow.year)))


def user_ids(session: Session) -> dict[str, int]:
    return {u.username: u.id for u in session.scalars(select(UserRow))}


def applicant_names(session: Session) -> set[str]:
    return {n for n in session.scalars(select(ApplicationRow.applicant_name)) if n}


FAR_FUTURE = date(9999, 12, 31)


def page_applications(session: Session, scope: Any, *, state: str | None, states: list[str] | None,
                      region: str | None, authority: str | None, round_year: int | None,
                      kind: str | None, q: str | None, limit: int,
                      after: tuple[date, int] | None, count: bool
                      ) -> tuple[list[ApplicationRow], int]:
    """Applications in `scope`, filtered, ordered by (due date, id), keyset-paginated."""
    where = [scope]
    if state:
        where.append(ApplicationRow.state == state)
    if states is not None:
        where.append(ApplicationRow.state.in_(states))
    if kind:
        where.append(ApplicationRow.kind == kind)
    if q:
        where.append(ApplicationRow.applicant_name.contains(q.strip(), autoescape=True))
    if region or authority:
        sub = select(AuthorityRow.id)
        if region:
            sub = sub.where(AuthorityRow.region == region)
        if authority:
            sub = sub.where(AuthorityRow.code == authority)
        where.append(ApplicationRow.authority_id.in_(sub))
    if round_year:
        where.append(ApplicationRow.round_id.in_(select(RoundRow.id).where(
            RoundRow.year == round_year)))
    total = int(session.scalar(select(func.count()).select_from(ApplicationRow).where(*where))
                or 0) if count else -1
    due_key = func.coalesce(ApplicationRow.due_on, FAR_FUTURE)
    query = select(ApplicationRow).where(*where)
    if after:
        cdate, cid = after
        query = query.where((due_key > cdate) | ((due_key == cdate) & (ApplicationRow.id > cid)))
    rows = list(session.scalars(query.order_by(due_key, ApplicationRow.id).limit(limit)).unique())
    return rows, total
