"""Liveness tasks: a ping for /healthz and a heartbeat that proves beat and a worker run."""

from __future__ import annotations

import os
import socket

from celery import shared_task

from tasks.context import uow
from workflow.services import health


@shared_task(name="tasks.health.ping", acks_late=False, soft_time_limit=10, time_limit=15)
def ping() -> str:
    return "pong"


@shared_task(name="tasks.health.heartbeat", acks_late=False, soft_time_limit=30,
             time_limit=45)
def heartbeat() -> None:
    health.beat(f"worker@{socket.gethostname()}:{os.getpid()}", uow())
