"""Audit log storage: serialised appends to the hash chain, reading it back in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflow.storage.models import AuditRow

GENESIS = "0" * 64  # prev_hash of the first record
_CHAIN_LOCK = 0x41554449  # "AUDI": the advisory lock key that serialises appends


def lock_chain(session: Session) -> None:
    """Serialise appends until this transaction ends (PostgreSQL advisory xact lock;
    SQLite's BEGIN IMMEDIATE already serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})


def last_hash(session: Session) -> str:
    value = session.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
    return value or GENESIS


def add(session: Session, row: AuditRow) -> AuditRow:
    session.add(row)
    session.flush()
    return row


def links(session: Session) -> list[tuple[int, str, str]]:
    """(id, prev_hash, hash) of every record in chain order."""
    q = select(AuditRow.id, AuditRow.prev_hash, AuditRow.hash).order_by(AuditRow.id)
    return [(r[0], r[1], r[2]) for r in session.execute(q)]


def rows_in_order(session: Session, batch: int = 2000) -> Iterator[AuditRow]:
    """Every record by id, fetched in batches (keyset) so memory stays flat."""
    after = 0
    while True:
        chunk = list(session.scalars(select(AuditRow).where(AuditRow.id > after)
                                     .order_by(AuditRow.id).limit(batch)))
        if not chunk:
            return
        yield from chunk
        after = chunk[-1].id
        session.expunge_all()


def search(session: Session, *, event: str | None = None, actor: str | None = None,
           object_type: str | None = None, object_id: str | None = None,
           result: str | None = None, ip: str | None = None,
           since: datetime | None = None, until: datetime | None = None,
           before_id: int | None = None, limit: int = 100) -> list[AuditRow]:
    """Records matching every given filter, newest first (keyset on id)."""
    q = select(AuditRow)
    if event:
        q = q.where(AuditRow.event == event)
    if actor:
        q = q.where(AuditRow.actor_name.contains(actor, autoescape=True))
    if object_type:
        q = q.where(AuditRow.object_type == object_type)
    if object_id:
        q = q.where(AuditRow.object_id == object_id)
    if result:
        q = q.where(AuditRow.result == result)
    if ip:
        q = q.where(AuditRow.ip == ip)
    if since:
        q = q.where(AuditRow.at >= since)
    if until:
        q = q.where(AuditRow.at < until)
    if before_id:
        q = q.where(AuditRow.id < before_id)
    return list(session.scalars(q.order_by(AuditRow.id.desc()).limit(limit)))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)


def events(session: Session) -> list[str]:
    return list(session.scalars(select(AuditRow.event).distinct().order_by(AuditRow.event)))
