"""Scratch PostgreSQL databases for tests that need one of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text

from workflow.storage import db


def _admin(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def on_server(url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Run `sql` from the maintenance database of `url`'s server (autocommit: CREATE /
    DROP DATABASE, pg_stat_activity, pg_terminate_backend…); the first column of any
    rows it returns."""
    admin = create_engine(_admin(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            result = conn.execute(text(sql), params or {})
            return list(result.scalars()) if result.returns_rows else []
    finally:
        admin.dispose()


def create_database(server_url: str, prefix: str) -> str:
    """A new empty database `<prefix>_<random>` on `server_url`'s server; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    on_server(server_url, f'CREATE DATABASE "{name}"')
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    """Forget this process's connections to `url`'s database, then drop it (even if
    other processes are still connected)."""
    name = url.rsplit("/", 1)[1]
    for known in [u for u in db._engines if u.rsplit("/", 1)[1].split("?")[0] == name]:
        db.forget(known)
    on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def statements_sent(url: str) -> Iterator[list[str]]:
    """The SQL statements this process sends to `url`'s database while the block runs
    (through the app's engine, `db.get_engine`), each on one line."""
    sent: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    engine = db.get_engine(url)
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", remember)
