"""Celery: the app, its queues and beat schedule. Tasks are thin: take ids, call a service."""

from tasks.app import celery_app, make_celery

app = celery_app

__all__ = ["app", "celery_app", "make_celery"]
