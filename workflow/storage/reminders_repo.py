"""Queries of the reminder scan and the outbox: due cases, facts in bulk, claims, locks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Integer,
    Table,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.programme import known
from workflow.roles import Role
from workflow.storage.models import (
    AnnualReportRow,
    ApplicationRow,
    AuthorityRow,
    HistoryRow,
    LockRow,
    NotificationRow,
    OutboxRow,
    QuarterlyReportRow,
    RoundRow,
    UserRow,
)

SCAN_LOCK = "reminder_scan"

# statuses a delivery worker may claim (a 'sending' row whose lease ran out is orphaned)
CLAIMABLE = ("pending", "failed", "sending")


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


def is_postgres(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


# --- the scan's lease ---------------------------------------------------------------------

def take_lease(s: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the named lease for `ttl` (or renew it, if `holder` has it); False while
    another holder's lease has not expired. Commit right after: the lease is a row with
    an expiry, not a lock held by a transaction, so no transaction stays open across the
    work it guards, and a killed or stuck holder blocks nobody past its expiry."""
    t = _table(LockRow)
    s.execute(_insert(s)(t).values(name=name, holder=holder, expires_at=now + ttl)
              .on_conflict_do_nothing(index_elements=["name"]))
    taken = s.execute(update(t).where(t.c.name == name,
                                      or_(t.c.holder == holder, t.c.expires_at < now))
                      .values(holder=holder, expires_at=now + ttl))
    return _rowcount(taken) == 1


def release_lease(s: Session, name: str, holder: str) -> None:
    s.execute(delete(LockRow).where(LockRow.name == name, LockRow.holder == holder))


# --- what is due --------------------------------------------------------------------------

def due_case_ids(s: Session, day: date, limit: int) -> list[int]:
    """Cases whose next reminder day has come: an index range scan, so the cost grows
    with what is due, not with the number of cases."""
    q = (select(ApplicationRow.id).where(ApplicationRow.next_reminder_on <= day)
         .order_by(ApplicationRow.next_reminder_on, ApplicationRow.id).limit(limit))
    return list(s.scalars(q))


@dataclass(frozen=True)
class CaseRecord:
    """The columns of a case the reminder rules and messages need."""

    id: int
    version: int
    round_id: int
    state: str
    owner_id: int
    authority_id: int
    province_id: int  # the province-level authority whose reviewers it waits on
    name: str | None
    notice_ends_on: date | None
    rectification_deadline: date | None
    next_reminder_on: date | None


def cases(s: Session, ids: Sequence[int]) -> list[CaseRecord]:
    a, au = _table(ApplicationRow).c, _table(AuthorityRow).c
    q = (select(a.id, a.version, a.round_id, a.state, a.owner_id, a.authority_id,
                func.coalesce(au.parent_id, au.id).label("province_id"),
                a.applicant_name.label("name"), a.notice_ends_on, a.rectification_deadline,
                a.next_reminder_on)
         .join_from(_table(ApplicationRow), _table(AuthorityRow), au.id == a.authority_id)
         .where(a.id.in_(ids)))
    return [CaseRecord(**row._mapping) for row in s.execute(q)]


def approved_on(s: Session, ids: Sequence[int], designating: Iterable[str]
                ) -> dict[int, datetime]:
    """When each case was approved (核准), from its history: the first of the `designating`
    triggers (its programme's, `Programme.designating`)."""
    q = (select(HistoryRow.application_id, func.min(HistoryRow.at))
         .where(HistoryRow.application_id.in_(ids),
                HistoryRow.trigger.in_(sorted(set(designating))))
         .group_by(HistoryRow.application_id))
    return {i: at for i, at in s.execute(q)}


def quarterly_filed(s: Session, ids: Sequence[int]) -> dict[int, set[tuple[int, int]]]:
    q = select(QuarterlyReportRow.application_id, QuarterlyReportRow.year,
               QuarterlyReportRow.quarter).where(QuarterlyReportRow.application_id.in_(ids),
                                                 QuarterlyReportRow.is_current.is_(True))
    out: dict[int, set[tuple[int, int]]] = {}
    for i, y, qu in s.execute(q):
        out.setdefault(i, set()).add((y, qu))
    return out


def annual_filed(s: Session, ids: Sequence[int]) -> dict[int, set[int]]:
    q = select(AnnualReportRow.application_id, AnnualReportRow.year).where(
        AnnualReportRow.application_id.in_(ids), AnnualReportRow.is_current.is_(True))
    out: dict[int, set[int]] = {}
    for i, y in s.execute(q):
        out.setdefault(i, set()).add(y)
    return out


@dataclass(frozen=True)
class RoundRecord:
    """The columns of a round the reminder scan needs."""

    year: int
    params: dict[str, Any]
    opened_on: date | None
    closed_on: date | None
    programme: str  # its programme's code
    programme_hash: str | None  # the definition it opened with (None: planned, the file)


def round_params(s: Session, ids: Iterable[int]) -> dict[int, RoundRecord]:
    """round id -> what the scan needs of it."""
    q = select(RoundRow.id, RoundRow.year, RoundRow.params, RoundRow.opened_on,
               RoundRow.closed_on, RoundRow.programme, RoundRow.programme_hash
               ).where(RoundRow.id.in_(set(ids)))
    return {i: RoundRecord(y, p or {}, o, c, code, h)
            for i, y, p, o, c, code, h in s.execute(q)}


def programme_source(s: Session, round_id: int) -> str | None:
    """The definition's text a round opened with (read once per process and version)."""
    return s.scalar(select(RoundRow.programme_source).where(RoundRow.id == round_id))


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str
    role: str
    authority_id: int | None
    is_head: bool
    locale: str
    mail_digest: bool


def _people(s: Session, where: Any) -> list[Person]:
    u = _table(UserRow).c
    q = select(u.id, u.display_name.label("name"), u.email, u.role, u.authority_id, u.is_head,
               u.locale, u.mail_digest).where(where, u.is_active.is_(True)).order_by(u.id)
    return [Person(**row._mapping) for row in s.execute(q)]


def people_for(s: Session, owner_ids: Iterable[int], province_ids: Iterable[int]
               ) -> tuple[dict[int, Person], dict[int, list[Person]], list[Person]]:
    """(owners by id, provincial reviewers by province-level authority, ministry
    reviewers) in 3 queries."""
    u = _table(UserRow).c
    owners = {p.id: p for p in _people(s, u.id.in_(set(owner_ids)))}
    province: dict[int, list[Person]] = {}
    for p in _people(s, and_(u.role == Role.PROVINCIAL_REVIEWER.value,
                             u.authority_id.in_(set(province_ids)))):
        province.setdefault(p.authority_id or 0, []).append(p)
    ministry = _people(s, u.role == Role.MINISTRY_REVIEWER.value)
    return owners, province, ministry


def person(s: Session, user_id: int) -> Person | None:
    found = _people(s, UserRow.id == user_id)
    return found[0] if found else None


# --- writing the outbox ------------------------------------------------------------------

def _insert(s: Session) -> Any:
    return postgresql.insert if is_postgres(s) else sqlite.insert


def add_outbox(s: Session, rows: list[dict[str, Any]]) -> list[Any]:
    """Insert outbox rows; a row whose dedupe_key exists already is skipped. Returns the
    rows actually inserted (id, dedupe_key, recipient_id, application_id, subject, body)."""
    if not rows:
        return []
    t = _table(OutboxRow)
    # one cached statement, executed as "insertmanyvalues" batches (fast on both databases)
    stmt = (_insert(s)(t).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(t.c.id, t.c.dedupe_key, t.c.recipient_id, t.c.application_id,
                       t.c.subject, t.c.body))
    return list(s.connection().execute(stmt, rows).all())


def add_notifications(s: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        s.execute(_table(NotificationRow).insert(), rows)


def move_next_reminder(s: Session, plans: list[dict[str, Any]]) -> None:
    """Store each case's next reminder day — unless the case changed since it was read
    (its version moved): then it keeps the day its transition set, and is re-planned."""
    if not plans:
        return
    t = _table(ApplicationRow)
    stmt = (update(t).where(t.c.id == bindparam("b_id"), t.c.version == bindparam("b_version"))
            .values(next_reminder_on=bindparam("b_next")))
    s.connection().execute(stmt, plans)


def final_states() -> list[str]:
    """The states final in every programme that has them (a case there is never reminded)."""
    progs = known()
    keys = {k for p in progs for k in p.terminal}
    return sorted(k for k in keys if all(k in p.terminal for p in progs if k in p.states))


def replan_open_cases(s: Session, day: date, round_ids: Sequence[int] | None = None) -> int:
    """Ask the next scan to re-plan every unfinished case (of some rounds: after a round's
    dates change)."""
    t = _table(ApplicationRow)
    stmt = update(t).where(t.c.state.not_in(final_states()))
    if round_ids is not None:
        stmt = stmt.where(t.c.round_id.in_(list(round_ids)))
    return _rowcount(s.execute(stmt.values(next_reminder_on=day)))


# --- digests -------------------------------------------------------------------------------

def held(s: Session, limit: int = 5000) -> list[OutboxRow]:
    """Reminders waiting for their recipient's daily digest."""
    q = (select(OutboxRow).where(OutboxRow.status == "held")
         .order_by(OutboxRow.recipient_id, OutboxRow.id).limit(limit))
    return list(s.scalars(q))


# --- delivery ------------------------------------------------------------------------------
#
# A delivery run (`workflow.services.mail.send_due`) claims due rows (status → 'sending',
# one more attempt, a lease in next_attempt_at), sends them outside any lock, and records
# each outcome fenced on its claim (status 'sending' and the attempt it took). On
# PostgreSQL every statement below commits by itself (`autocommit`): the claim is one
# UPDATE … RETURNING the whole rows, the outcome one UPDATE — one round trip each, no
# BEGIN/COMMIT around them; claims take small batches with FOR UPDATE SKIP LOCKED, so
# workers never wait on each other. SQLite has no SKIP LOCKED: one row per claim, inside
# the caller's transaction (BEGIN IMMEDIATE holds the write lock), committed by the caller.

def autocommit(s: Session) -> bool:
    """Make each statement of this session commit by itself where that is safe and
    cheaper (PostgreSQL: True). Call before anything else in the session. False: the
    caller commits after each step as usual (SQLite)."""
    if not is_postgres(s):
        return False
    s.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return True


def claims_batches(s: Session) -> bool:
    """Can one claim take several rows without workers waiting on each other?"""
    return is_postgres(s)


def _claim_statement(postgres: bool, by_id: bool) -> Any:
    t = _table(OutboxRow)
    i = t.alias("due")
    pick = select(i.c.id).where(i.c.status.in_(CLAIMABLE),
                                i.c.next_attempt_at <= bindparam("now"))
    if by_id:
        pick = pick.where(i.c.id == bindparam("only_id"))
    else:
        pick = pick.order_by(i.c.next_attempt_at, i.c.id).limit(bindparam("n", type_=Integer))
    if postgres:
        pick = pick.with_for_update(skip_locked=True)
    return (update(t).where(t.c.id.in_(pick.scalar_subquery()))
            .values(status="sending", attempts=t.c.attempts + 1,
                    next_attempt_at=bindparam("until", type_=t.c.next_attempt_at.type))
            .returning(*t.c))


# built once: constructing a statement costs more CPU than executing a cached one
_CLAIM = {(pg, by_id): _claim_statement(pg, by_id) for pg in (False, True)
          for by_id in (False, True)}


def claim(s: Session, now: datetime, lease: timedelta, only_id: int | None = None,
          limit: int = 1) -> list[OutboxRow]:
    """Atomically take due messages for sending — the one `only_id` names (if it is still
    due), else up to `limit` in due order (SQLite: always one) — in one statement that
    returns the whole rows: status → 'sending', one more attempt, and a lease
    (next_attempt_at) after which a dead worker's claim can be taken again.

    The rows come back as detached `OutboxRow` objects (read them; outcomes are written
    with `finish`/`cancel`/`release`): a Core statement, as nothing is cheaper when the
    row is no longer due — the usual answer to a `deliver` nudge."""
    pg = is_postgres(s)
    params: dict[str, Any] = {"now": now, "until": now + lease}
    if only_id is not None:
        params["only_id"] = only_id
    else:
        params["n"] = max(1, limit if pg else 1)
    found = s.connection().execute(_CLAIM[(pg, only_id is not None)], params).all()
    return sorted((OutboxRow(**row._mapping) for row in found), key=lambda r: r.id)


@lru_cache(maxsize=16)
def _finish_statement(columns: tuple[str, ...]) -> Any:
    t = _table(OutboxRow)
    return (update(t).where(t.c.id == bindparam("b_id"), t.c.status == "sending",
                            t.c.attempts == bindparam("b_attempt"))
            .values({c: bindparam(c, type_=t.c[c].type) for c in columns}))


def finish(s: Session, outbox_id: int, attempt: int, **values: Any) -> bool:
    """Record a send's outcome, fenced on the attempt this worker claimed (a claim taken
    over after its lease ran out is not overwritten by the slow first worker)."""
    stmt = _finish_statement(tuple(sorted(values)))
    done = s.connection().execute(stmt, {"b_id": outbox_id, "b_attempt": attempt, **values})
    return _rowcount(done) > 0


def release(s: Session, claims: Sequence[tuple[int, int]], now: datetime) -> int:
    """Give back claimed rows that were not tried (id, attempt): due again now, and the
    attempt their claim counted is not counted. Fenced like `finish`."""
    if not claims:
        return 0
    t = _table(OutboxRow)
    stmt = (update(t).where(t.c.id == bindparam("b_id"), t.c.status == "sending",
                            t.c.attempts == bindparam("b_attempt"))
            .values(status="pending", attempts=t.c.attempts - 1, next_attempt_at=now))
    done = s.connection().execute(stmt, [{"b_id": i, "b_attempt": a} for i, a in claims])
    return _rowcount(done)


def cancel(s: Session, outbox_id: int, why: str, attempt: int | None = None) -> bool:
    """A reminder whose reason is gone: not sent; its unread notification goes too. With
    `attempt`, fenced on that claim (a row another worker has taken over is left alone).
    PostgreSQL: one statement (a data-modifying CTE), so it is atomic under autocommit."""
    o, n = _table(OutboxRow), _table(NotificationRow)
    where = [o.c.id == outbox_id]
    if attempt is not None:
        where += [o.c.status == "sending", o.c.attempts == attempt]
    mark = update(o).where(*where).values(status="cancelled", last_error=why)
    unread = [n.c.read_at.is_(None)]
    if is_postgres(s):
        gone = mark.returning(o.c.id).cte("gone")
        drop = delete(n).where(n.c.outbox_id.in_(select(gone.c.id)), *unread).cte("dropped")
        return bool(s.scalar(select(func.count()).select_from(gone).add_cte(drop)))
    if _rowcount(s.execute(mark)) == 0:
        return False
    s.execute(delete(n).where(n.c.outbox_id == outbox_id, *unread))
    return True


def people(s: Session, user_ids: Iterable[int]) -> dict[int, Person]:
    """Active users by id (an inactive or unknown id is absent)."""
    ids = set(user_ids)
    return {p.id: p for p in _people(s, UserRow.id.in_(ids))} if ids else {}


def outbox_rows(s: Session, *, status: str | None, kind: str | None, q: str | None,
                limit: int, before_id: int | None) -> list[OutboxRow]:
    """The admin's outbox list, newest first, filtered, keyset-paginated by id."""
    where = []
    if status:
        where.append(OutboxRow.status == status)
    if kind:
        where.append(OutboxRow.kind == kind)
    if q:
        where.append(or_(OutboxRow.recipient_email.contains(q, autoescape=True),
                         OutboxRow.subject.contains(q, autoescape=True)))
    if before_id:
        where.append(OutboxRow.id < before_id)
    return list(s.scalars(select(OutboxRow).where(*where).order_by(OutboxRow.id.desc())
                          .limit(limit)))


def outbox_counts(s: Session) -> dict[str, int]:
    return {st: n for st, n in s.execute(select(OutboxRow.status, func.count())
                                         .group_by(OutboxRow.status))}


def notifications_of(s: Session, user_id: int, limit: int, unread_only: bool,
                     programme: str | None = None) -> list[NotificationRow]:
    """A user's notifications, newest first; of one programme's cases when named."""
    q = select(NotificationRow).where(NotificationRow.user_id == user_id)
    if unread_only:
        q = q.where(NotificationRow.read_at.is_(None))
    if programme is not None:
        q = (q.join(ApplicationRow, ApplicationRow.id == NotificationRow.application_id)
             .join(RoundRow, RoundRow.id == ApplicationRow.round_id)
             .where(RoundRow.programme == programme))
    return list(s.scalars(q.order_by(NotificationRow.id.desc()).limit(limit)))


def unread_count(s: Session, user_id: int) -> int:
    return int(s.scalar(select(func.count()).select_from(NotificationRow).where(
        NotificationRow.user_id == user_id, NotificationRow.read_at.is_(None))) or 0)


def mark_read(s: Session, user_id: int, ids: Sequence[int] | None, now: datetime) -> int:
    stmt = update(NotificationRow).where(NotificationRow.user_id == user_id,
                                         NotificationRow.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(NotificationRow.id.in_(ids))
    return _rowcount(s.execute(stmt.values(read_at=now).execution_options(
        synchronize_session=False)))
