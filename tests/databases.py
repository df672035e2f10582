"""Scratch PostgreSQL databases for tests that need one of their own."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text

from workflow.storage import db


def _admin(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def create_database(server_url: str, prefix: str) -> str:
    """A new empty database `<prefix>_<random>` on `server_url`'s server; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_admin(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    """Forget this process's connections to `url`'s database, then drop it (even if
    other processes are still connected)."""
    name = url.rsplit("/", 1)[1]
    for known in [u for u in db._engines if u.rsplit("/", 1)[1].split("?")[0] == name]:
        db.forget(known)
    admin = create_engine(_admin(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
