"""What a task runs with: the `Settings` its Celery app was made with (`make_celery`)."""

from __future__ import annotations

from celery import current_app

from config import Settings, load_settings


def settings() -> Settings:
    """The settings of the Celery app running the task (`app.conf.eib_settings`); a bare
    Celery app (none given) reads them from the environment, as `make_celery` would."""
    found = current_app.conf.get("eib_settings")
    return found if isinstance(found, Settings) else load_settings()
