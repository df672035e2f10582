"""What a task runs with: the `Settings` its Celery app was made with (`make_celery`),
and a unit of work on that app's database."""

from __future__ import annotations

from celery import current_app

from config import Settings
from workflow.storage.db import session_factory
from workflow.storage.uow import UnitOfWork


def settings() -> Settings:
    """The settings of the Celery app running the task (`app.conf.eib_settings`, set by
    `make_celery`); a task never reads the environment itself."""
    found = current_app.conf.get("eib_settings")
    if not isinstance(found, Settings):
        raise RuntimeError("this Celery app has no settings: make it with "
                           "tasks.app.make_celery(settings)")
    return found


def uow() -> UnitOfWork:
    """A unit of work on the database of the app's settings (DATABASE_URL)."""
    return UnitOfWork(factory=session_factory(settings().database_url))
