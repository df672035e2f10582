"""Queries of the webhooks: subscriptions, the history scan, and the delivery queue.

The claim/fence pattern is the outbox's (reminders_repo): a claim is one UPDATE … RETURNING
(FOR UPDATE SKIP LOCKED on PostgreSQL, one row at a time on SQLite), and an outcome is
written only if the row is still the claim this worker took (status 'sending' and the
attempt it counted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.orm import Session

from workflow.storage.models import (
    ApplicationRow,
    AuthorityRow,
    HistoryRow,
    WebhookDeliveryRow,
    WebhookRow,
)
from workflow.storage.reminders_repo import (  # the outbox's helpers, reused
    _insert,
    _rowcount,
    _table,
    autocommit,
    is_postgres,
)
from workflow.storage.scope_repo import tree_ids

# statuses a delivery worker may claim (a 'sending' row whose lease ran out is orphaned)
CLAIMABLE = ("pending", "failed", "sending")
OPEN = CLAIMABLE  # what deleting a webhook cancels
__all__ = ["autocommit", "is_postgres"]


# --- subscriptions -----------------------------------------------------------------------

def max_history_id(s: Session) -> int:
    return int(s.scalar(select(func.max(HistoryRow.id))) or 0)


def visible(s: Session, authority_id: int | None, everything: bool) -> list[WebhookRow]:
    """Live webhooks: all of them (`everything`), else those of one authority."""
    q = select(WebhookRow).where(WebhookRow.deleted_at.is_(None))
    if not everything:
        q = q.where(WebhookRow.authority_id == authority_id)
    return list(s.scalars(q.order_by(WebhookRow.id.desc())))


def live_ids(s: Session) -> list[int]:
    q = select(WebhookRow.id).where(WebhookRow.deleted_at.is_(None)).order_by(WebhookRow.id)
    return list(s.scalars(q))


def lock_for_scan(s: Session, webhook_id: int) -> WebhookRow | None:
    """The live webhook, locked for this transaction; None if deleted or another scan
    holds it (PostgreSQL: SKIP LOCKED; SQLite serialises writers with BEGIN IMMEDIATE)."""
    q = select(WebhookRow).where(WebhookRow.id == webhook_id, WebhookRow.deleted_at.is_(None))
    if is_postgres(s):
        q = q.with_for_update(of=WebhookRow, skip_locked=True)
    return s.scalars(q.execution_options(populate_existing=True)).first()


def history_after(s: Session, after_id: int, authority_id: int | None, limit: int) -> list[int]:
    """Ids of transitions after `after_id` in a webhook's scope, oldest first: every case
    (authority None), or the cases a province has been sent, its cities' included
    (submitted_at set — a province never sees a draft that was never submitted to it)."""
    q = select(HistoryRow.id).where(HistoryRow.id > after_id)
    if authority_id is not None:
        q = q.join(ApplicationRow, ApplicationRow.id == HistoryRow.application_id).where(
            ApplicationRow.authority_id.in_(tree_ids(authority_id)),
            ApplicationRow.submitted_at.is_not(None))
    return list(s.scalars(q.order_by(HistoryRow.id).limit(limit)))


def queue(s: Session, webhook_id: int, history_ids: Sequence[int], now: datetime) -> int:
    """One delivery per transition; one already queued is skipped (unique key)."""
    if not history_ids:
        return 0
    t = _table(WebhookDeliveryRow)
    stmt = _insert(s)(t).on_conflict_do_nothing(
        index_elements=["subscription_id", "history_id"]).returning(t.c.id)
    rows = [{"subscription_id": webhook_id, "history_id": h, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now} for h in history_ids]
    return len(s.connection().execute(stmt, rows).all())


def cancel_open(s: Session, webhook_id: int, why: str) -> int:
    t = _table(WebhookDeliveryRow)
    stmt = (update(t).where(t.c.subscription_id == webhook_id, t.c.status.in_(OPEN))
            .values(status="cancelled", last_error=why))
    return _rowcount(s.execute(stmt))


def deliveries_of(s: Session, webhook_id: int, limit: int = 100) -> list[WebhookDeliveryRow]:
    q = (select(WebhookDeliveryRow).where(WebhookDeliveryRow.subscription_id == webhook_id)
         .order_by(WebhookDeliveryRow.id.desc()).limit(limit))
    return list(s.scalars(q))


# --- delivery ----------------------------------------------------------------------------

def _claim_statement(postgres: bool) -> Any:
    t, w = _table(WebhookDeliveryRow), _table(WebhookRow)
    i = t.alias("due")
    live = select(w.c.id).where(w.c.deleted_at.is_(None))
    pick = (select(i.c.id).where(i.c.status.in_(CLAIMABLE),
                                 i.c.next_attempt_at <= bindparam("now"),
                                 i.c.subscription_id.in_(live))
            .order_by(i.c.next_attempt_at, i.c.id).limit(bindparam("n", type_=Integer)))
    if postgres:
        pick = pick.with_for_update(of=i, skip_locked=True)
    return (update(t).where(t.c.id.in_(pick.scalar_subquery()))
            .values(status="sending", attempts=t.c.attempts + 1,
                    next_attempt_at=bindparam("until", type_=t.c.next_attempt_at.type))
            .returning(t.c.id, t.c.attempts))


_CLAIM = {pg: _claim_statement(pg) for pg in (False, True)}


def claim(s: Session, now: datetime, lease: timedelta, limit: int) -> list[tuple[int, int]]:
    """Take due deliveries of live webhooks: (id, attempt) each; status → 'sending', one
    more attempt, and a lease after which a dead worker's claim is taken again."""
    pg = is_postgres(s)
    found = s.connection().execute(_CLAIM[pg], {"now": now, "until": now + lease,
                                                "n": max(1, limit if pg else 1)}).all()
    return sorted((int(r.id), int(r.attempts)) for r in found)


@dataclass(frozen=True)
class Outgoing:
    """What one POST needs: where, the sealed secret, and the transition."""

    delivery_id: int
    webhook_id: int
    url: str
    sealed_secret: str
    history_id: int
    application_id: int
    authority_code: str
    province_code: str  # a city's province, else the authority itself
    trigger: str
    from_state: str
    to_state: str
    version: int
    at: datetime
    actor_role: str


def outgoing(s: Session, delivery_ids: Sequence[int]) -> list[Outgoing]:
    d, w, h = _table(WebhookDeliveryRow).c, _table(WebhookRow).c, _table(HistoryRow).c
    a, au = _table(ApplicationRow).c, _table(AuthorityRow).c
    parent = _table(AuthorityRow).alias("parent")
    q = (select(d.id.label("delivery_id"), w.id.label("webhook_id"), w.url,
                w.secret.label("sealed_secret"), h.id.label("history_id"), h.application_id,
                au.code.label("authority_code"),
                func.coalesce(parent.c.code, au.code).label("province_code"), h.trigger,
                h.from_state, h.to_state, h.version, h.at, h.actor_role)
         .join_from(_table(WebhookDeliveryRow), _table(WebhookRow), w.id == d.subscription_id)
         .join(_table(HistoryRow), h.id == d.history_id)
         .join(_table(ApplicationRow), a.id == h.application_id)
         .join(_table(AuthorityRow), au.id == a.authority_id)
         .outerjoin(parent, parent.c.id == au.parent_id)
         .where(d.id.in_(list(delivery_ids))).order_by(d.id))
    return [Outgoing(**row._mapping) for row in s.execute(q)]


def finish(s: Session, delivery_id: int, attempt: int, **values: Any) -> bool:
    """Record a POST's outcome, fenced on the claim (attempt) this worker took."""
    t = _table(WebhookDeliveryRow)
    stmt = (update(t).where(t.c.id == delivery_id, t.c.status == "sending",
                            t.c.attempts == attempt).values(**values))
    return _rowcount(s.execute(stmt)) > 0
