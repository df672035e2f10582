"""Run Alembic migrations from code (the `flask db` commands and the tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(url: str, secret_key: str | None = None) -> Config:
    """Alembic's configuration for `url`; `secret_key` (Settings.secret_key) is what a
    migration that seals data seals with (0008); without it such a migration reads the
    settings itself, as when `alembic upgrade` runs on its own."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if secret_key is not None:
        cfg.attributes["secret_key"] = secret_key
    return cfg


def upgrade(url: str, revision: str = "head", secret_key: str | None = None) -> None:
    command.upgrade(alembic_config(url, secret_key), revision)


def downgrade(url: str, revision: str = "base", secret_key: str | None = None) -> None:
    command.downgrade(alembic_config(url, secret_key), revision)
