"""One settings object, read from the environment. Defaults run with no servers at all."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Asia/Shanghai"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _instance() -> Path:
    return Path(os.environ.get("INSTANCE_PATH", ROOT / "instance")).resolve()


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def _int(name: str, default: int, lo: int = 0, hi: int = 10**9) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}={value} must be between {lo} and {hi}")
    return value


_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def _hosts(name: str) -> tuple[str, ...]:
    """A comma-separated list of host names, addresses and networks (10.1.0.0/16)."""
    entries = tuple(e.strip().lower() for e in os.environ.get(name, "").split(",") if e.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if not _HOST_NAME.match(entry):
                raise SettingsError(f"{name}: {entry!r} is neither a host name, an address "
                                    "nor a network such as 10.1.0.0/16") from None
    return entries


DB_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
BROKER_SCHEMES = ("sqla+sqlite", "redis", "rediss", "amqp", "pyamqp", "memory")


def check_url(name: str, url: str, schemes: tuple[str, ...]) -> str:
    """Refuse a URL whose scheme we do not support or that lacks a host/path."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise SettingsError(f"{name} is malformed: {exc}") from None
    if parts.scheme not in schemes:
        raise SettingsError(
            f"{name}={url.split('@')[-1]!r}: scheme {parts.scheme or '(none)'!r} is not "
            f"supported; use one of {', '.join(schemes)}")
    if not parts.scheme.endswith("sqlite") and parts.scheme != "memory" and not parts.hostname \
            and "host=" not in parts.query:
        raise SettingsError(f"{name}: no host in {url.split('@')[-1]!r}")
    return url


def redact(url: str) -> str:
    """The URL without its password, for logs and error lines."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


@dataclass
class Settings:
    env: str
    instance_path: Path
    database_url: str
    broker_url: str
    result_backend: str
    secret_key: str
    port: int
    base_url: str
    timezone: str
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None = field(repr=False)
    smtp_tls: str  # none | starttls | ssl
    smtp_timeout: int
    mail_from: str
    mail_dir: Path
    upload_dir: Path
    max_upload_mb: int
    reminder_scan_seconds: int
    assessment_cron: str
    session_idle_minutes: int
    session_absolute_hours: int
    metrics_token: str | None = field(repr=False)
    # reverse proxies in front of the web server that append X-Forwarded-For (0: none,
    # the header is ignored — a client could write anything in it)
    trusted_proxies: int = 0
    # internal webhook receivers: host names, addresses or networks (CIDR) that webhooks
    # may reach although they are loopback, private or link-local (none by default)
    webhook_allowed_hosts: tuple[str, ...] = ()
    # outbox delivery (workflow.services.mail): backoff base, attempts before giving up,
    # how long a claimed message stays claimed, how often beat sweeps the outbox
    mail_retry_base_seconds: int = 30
    mail_max_attempts: int = 12
    mail_lease_seconds: int = 120
    mail_flush_seconds: int = 60
    # where Flask-Limiter counts (memory:// is per process: use redis://… with several)
    ratelimit_storage_uri: str = "memory://"
    # APP_NOW: the domain's clock pinned to this moment (a demo walkthrough, an operator
    # catching up); the web app and the worker pin `workflow.services.clock` with it
    app_now: datetime | None = None
    # PROMETHEUS_MULTIPROC_DIR: several processes of a host write their metrics there and
    # /metrics adds them up (prometheus_client reads the variable itself as well)
    prometheus_multiproc_dir: str | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _secret_key(env: str, instance: Path) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        if env == "production" and len(key) < 32:
            raise SettingsError("SECRET_KEY is too short for production (at least 32 characters)")
        return key
    if env == "production":
        raise SettingsError("SECRET_KEY is not set; production mode refuses to start without it")
    # Development: one key per instance, kept in a file. Every worker process of a fresh
    # instance gets here at once; the key is written whole to a file of its own and linked
    # into place, so the first link wins and every worker reads that one key.
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def load_settings() -> Settings:
    """Read and check every setting; raise `SettingsError` naming the culprit."""
    env = os.environ.get("APP_ENV", "development")
    if env not in ("development", "production", "test"):
        raise SettingsError(f"APP_ENV={env!r} must be development, production or test")
    instance = _instance()
    db = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'app.db'}"
    if db.startswith("postgresql://"):
        db = "postgresql+psycopg://" + db[len("postgresql://"):]
    check_url("DATABASE_URL", db, DB_SCHEMES)
    broker = os.environ.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{instance / 'broker.db'}"
    check_url("CELERY_BROKER_URL", broker, BROKER_SCHEMES)
    default_backend = (f"db+sqlite:///{instance / 'results.db'}" if broker.startswith("sqla+")
                       else broker if broker.startswith("redis") else "rpc://")
    backend = os.environ.get("CELERY_RESULT_BACKEND") or default_backend
    tls = os.environ.get("SMTP_TLS", "none").lower()
    if tls not in ("none", "starttls", "ssl"):
        raise SettingsError(f"SMTP_TLS={tls!r} must be none, starttls or ssl")
    port = _int("PORT", 8000, 1, 65535)
    return Settings(
        env=env,
        instance_path=instance,
        database_url=db,
        broker_url=broker,
        result_backend=backend,
        secret_key=_secret_key(env, instance),
        port=port,
        base_url=os.environ.get("BASE_URL", f"http://127.0.0.1:{port}").rstrip("/"),
        timezone=os.environ.get("TZ_NAME", TIMEZONE),
        smtp_host=os.environ.get("SMTP_HOST") or None,
        smtp_port=_int("SMTP_PORT", 465 if tls == "ssl" else 25, 1, 65535),
        smtp_user=os.environ.get("SMTP_USER") or None,
        smtp_password=os.environ.get("SMTP_PASSWORD") or None,
        smtp_tls=tls,
        smtp_timeout=_int("SMTP_TIMEOUT", 20, 1, 600),
        mail_from=os.environ.get("MAIL_FROM", "科技兴贸出口创新基地 <noreply@localhost>"),
        mail_dir=Path(os.environ.get("MAIL_DIR", instance / "mail")),
        upload_dir=Path(os.environ.get("UPLOAD_DIR", instance / "uploads")),
        max_upload_mb=_int("MAX_UPLOAD_MB", 20, 1, 1024),
        reminder_scan_seconds=_int("REMINDER_SCAN_SECONDS", 300, 10, 86400),
        # 03:00 on 1 February: after the annual report (31 Dec) and Q4 data (15 Jan) are due
        assessment_cron=os.environ.get("ASSESSMENT_CRON", "0 3 1 2 *"),
        session_idle_minutes=_int("SESSION_IDLE_MINUTES", 30, 1, 1440),
        session_absolute_hours=_int("SESSION_ABSOLUTE_HOURS", 12, 1, 168),
        metrics_token=os.environ.get("METRICS_TOKEN") or None,
        trusted_proxies=_int("TRUSTED_PROXIES", 0, 0, 5),
        webhook_allowed_hosts=_hosts("WEBHOOK_ALLOWED_HOSTS"),
        mail_retry_base_seconds=_int("MAIL_RETRY_BASE_SECONDS", 30, 1, 86400),
        mail_max_attempts=_int("MAIL_MAX_ATTEMPTS", 12, 1, 100),
        mail_lease_seconds=_int("MAIL_LEASE_SECONDS", 120, 1, 86400),
        mail_flush_seconds=_int("MAIL_FLUSH_SECONDS", 60, 5, 86400),
        ratelimit_storage_uri=os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        app_now=_moment("APP_NOW"),
        prometheus_multiproc_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
    )


def _moment(name: str) -> datetime | None:
    """An ISO 8601 moment; without an offset it is China's time."""
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an ISO 8601 moment such as "
                            "2006-05-08T09:00+08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(TIMEZONE))


def for_tests(instance: Path, database_url: str | None = None, **changes: Any) -> Settings:
    """Settings for a test, built without reading the environment: everything in
    `instance` (SQLite, the in-memory broker, mail and uploads beside it), overridden by
    `changes` (any field of `Settings`)."""
    base = Settings(
        env="test", instance_path=instance,
        database_url=database_url or f"sqlite:///{instance / 'app.db'}",
        broker_url="memory://", result_backend="cache+memory://",
        secret_key="a-test-secret-key-" + "t" * 46, port=8000,
        base_url="http://127.0.0.1:8000", timezone=TIMEZONE,
        smtp_host=None, smtp_port=25, smtp_user=None, smtp_password=None, smtp_tls="none",
        smtp_timeout=20, mail_from="科技兴贸出口创新基地 <noreply@localhost>",
        mail_dir=instance / "mail", upload_dir=instance / "uploads", max_upload_mb=20,
        reminder_scan_seconds=300, assessment_cron="0 3 1 2 *", session_idle_minutes=30,
        session_absolute_hours=12, metrics_token=None)
    return replace(base, **changes)
