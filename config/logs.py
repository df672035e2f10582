"""Structured JSON logs for web, workers and beat: one object per line on stdout.

Every record carries `request_id` (from the web request that caused it, carried into the
Celery tasks it enqueued) and `service`. Nothing secret is written: values of sensitive
keys and anything that looks like `password=…`, a bearer token or a URL's password are
replaced by `***` before formatting. `time` is the machine's clock in ISO 8601 UTC
(`2026-05-08T01:00:00.123Z`): `APP_NOW`, which pins the domain's clock for a demo, never
moves it.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                        default=None)
SENSITIVE_KEYS = re.compile(r"pass(word|wd)?|secret|token|authori[sz]ation|cookie|totp|"
                            r"api[_-]?key|session", re.I)
_PATTERNS = (
    # password=…, "token": "…", secret: …
    (re.compile(r"""(?i)((?:pass(?:word|wd)?|secret|token|api[_-]?key|totp)[\w-]*["']?\s*"""
                r"""[:=]\s*["']?)([^\s"',;&}]+)"""), r"\1***"),
    (re.compile(r"(?i)(bearer\s+)[\w.~+/=-]+"), r"\1***"),  # Authorization: Bearer …
    (re.compile(r"(?i)\beib_[\w-]{8,}"), "eib_***"),  # our API tokens, wherever they appear
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1***@"),  # scheme://user:password@host
)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_HANDLER_MARK = "_eib_json"


def redact(text: str) -> str:
    """`text` with passwords, tokens and URL passwords replaced by ***."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _scrub(value: Any, key: str = "") -> Any:
    if key and SENSITIVE_KEYS.search(key):
        return "***"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


def new_request_id(incoming: str | None = None) -> str:
    """The caller's X-Request-ID if it is a sane token, else a fresh one."""
    if incoming and _VALID_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds request_id and service; scrubs secrets from the message, args and extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.service = self.service
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is not ours to crash on
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and key not in ("request_id", "service"):
                record.__dict__[key] = _scrub(value, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _utc_time(record: logging.LogRecord) -> str:
    """When the record was made, by the machine's clock, in ISO 8601 UTC."""
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _TextFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)


class _JsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(str(super().formatException(ei)))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return redact(str(super().formatStack(stack_info)))


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message",
                                                                             "asctime"}


def configure(service: str, level: str | None = None, stream: Any = None) -> logging.Handler:
    """Send the root logger's records as JSON lines to stdout (once per process;
    LOG_FORMAT=text gives plain lines for a developer's terminal)."""
    root = logging.getLogger()
    for h in root.handlers:
        if getattr(h, _HANDLER_MARK, False):
            return h
    handler = make_handler(service, stream or sys.stdout)
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    if root.level > logging.DEBUG:
        for name in QUIET_LIBRARIES:  # their INFO is chatter: what they do, not what we did
            logging.getLogger(name).setLevel(logging.WARNING)
    return handler


# Libraries whose INFO lines say nothing an operator acts on (the state machine's every
# callback, Celery's every task received and sent, each migration step): WARNING and up
# only, unless LOG_LEVEL=DEBUG.
QUIET_LIBRARIES = ("transitions", "celery", "kombu", "amqp", "alembic")


def make_handler(service: str, stream: Any) -> logging.Handler:
    """A handler writing this project's log lines (JSON unless LOG_FORMAT=text)."""
    handler = logging.StreamHandler(stream)
    if os.environ.get("LOG_FORMAT", "json").lower() == "text":
        handler.setFormatter(_TextFormatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    else:
        handler.setFormatter(_JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(service)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False))
    handler.addFilter(ContextFilter(service))
    return handler
