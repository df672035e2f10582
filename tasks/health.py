"""Liveness tasks: a ping for /healthz and a heartbeat that proves beat and a worker run."""

from __future__ import annotations

import os
import socket

from celery import shared_task

from workflow.services import health


@shared_task(name="tasks.health.ping", acks_late=False)
def ping() -> str:
    return "pong"


@shared_task(name="tasks.health.heartbeat", acks_late=False)
def heartbeat() -> None:
    health.beat(f"worker@{socket.gethostname()}:{os.getpid()}")
