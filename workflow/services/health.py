"""Health checks of the database and the heartbeat row."""

from __future__ import annotations

from workflow.services.clock import utcnow
from workflow.storage import ops
from workflow.storage.models import HeartbeatRow
from workflow.storage.uow import UnitOfWork


def database_ok(uow: UnitOfWork) -> None:
    """Raise if the database cannot answer `SELECT 1`."""
    with uow.read():
        ops.ping(uow.session)


def beat(name: str, uow: UnitOfWork) -> None:
    """Record that `name` is alive now."""
    with uow:
        row = uow.session.get(HeartbeatRow, name) or HeartbeatRow(name=name)
        row.at = utcnow()
        uow.session.add(row)
        uow.commit()
