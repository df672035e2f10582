"""Webhooks (issue 7, item 5): a reviewer registers a URL that is told, by a signed POST,
whenever a case in their scope changes state.

Nothing is added to the transition path: `transition_history` is already the durable log
of every transition. A periodic scan (`scan`) copies new history rows in each webhook's
scope into `webhook_deliveries` — one row per (webhook, transition), a unique key — and
moves the webhook's cursor in the same transaction; `deliver_due` POSTs them with retries.
docs/webhooks.md is the receiver's side (payload, headers, verifying the signature).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from config import Settings
from workflow import permissions
from workflow.errors import ValidationFailed, refuse
from workflow.permissions import Scope
from workflow.services import audit
from workflow.services.clock import utcnow
from workflow.storage import scope_repo, sealed, users_repo
from workflow.storage import webhooks_repo as wr
from workflow.storage.models import UserRow, WebhookDeliveryRow, WebhookRow
from workflow.storage.uow import DbSession, UnitOfWork

SECRET_COLUMN = "webhooks.secret"  # the associated data of the sealed secret names it
EVENT = "case.transitioned"
MAX_URL = 500
TIMEOUT_SECONDS = 10.0
# wait after the 1st, 2nd … 5th failed attempt; the 6th failure makes the delivery dead
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=2), timedelta(hours=12))
MAX_ATTEMPTS = len(BACKOFF) + 1
CLAIM_BATCH = 5  # PostgreSQL; SQLite claims one at a time
# a claim outlives the POSTs of its batch, so no other worker takes a row being sent
LEASE = timedelta(seconds=CLAIM_BATCH * TIMEOUT_SECONDS + 30)
SCAN_BATCH = 1000  # history rows one webhook takes per scan
# A transition's history id is taken before its transaction commits, so a lower id can
# become visible after a higher one. The cursor therefore only moves up to an id that was
# the history's maximum at least SETTLE ago (no transition stays uncommitted that long);
# rows above it are re-read by the next scans, and the unique key skips those queued.
SETTLE = timedelta(seconds=60)
ERROR_CHARS = 500
# what the deliveries list says when no HTTP status came back: never the socket's own
# words ("connection refused", "timed out", a TLS error), which would tell a reviewer
# what listens where; the worker's log has them (logger workflow.services.webhooks)
NO_ANSWER = "no HTTP answer"
NOT_ALLOWED = "destination not allowed (loopback, private or link-local address)"
RETRYABLE = ("failed", "dead")

_log = logging.getLogger(__name__)


# --- the signature (pure; the receiver does the same) ------------------------------------

def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, now: float | None = None,
           tolerance: int = 300) -> bool:
    """Is `header` the signature of `body` at `timestamp`, made no more than `tolerance`
    seconds from now? (What a receiver checks; docs/webhooks.md.)"""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, ts, body), header)


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode()


def _sees_all(user: UserRow) -> bool:
    return permissions.scope_of(user, "webhooks.manage") is Scope.NATIONAL


def _webhook(s: DbSession, user: UserRow, webhook_id: int) -> WebhookRow:
    """A live webhook in the user's scope; another authority's is `not_found`."""
    row = s.get(WebhookRow, webhook_id)
    if row is None or row.deleted_at is not None or (
            not _sees_all(user) and row.authority_id != user.authority_id):
        raise scope_repo.not_found("webhook")
    return row


def check_url(url: str, settings: Settings) -> str:
    """http(s), a host, at most 500 characters, no user:password, not a loopback, private
    or link-local destination unless WEBHOOK_ALLOWED_HOSTS names it; in production https
    unless WEBHOOK_ALLOWED_HOSTS names the host (an internal receiver)."""
    clean = (url or "").strip()

    def bad(code: str, zh: str, en: str) -> ValidationFailed:
        return ValidationFailed(refuse(code, f"URL：{zh}", f"url: {en}", field="url",
                                       details={"value": clean[:80]}))

    if not clean:
        raise bad("required", "必填", "is required")
    if len(clean) > MAX_URL:
        raise bad("too_long", f"不得超过 {MAX_URL} 个字符", f"at most {MAX_URL} characters")
    try:
        parts = urlsplit(clean)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise bad("invalid_url", "格式不正确", "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise bad("invalid_url", "应为 http:// 或 https:// 开头的完整地址",
                  "must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise bad("credentials_in_url", "不得包含用户名或密码（请用签名验证来源）",
                  "must not carry a user name or password (verify the signature instead)")
    allowed = Destinations.of(settings.webhook_allowed_hosts)
    try:
        addresses = resolve(host, port or (443 if parts.scheme == "https" else 80))
    except OSError:  # not (yet) in DNS: checked again at each delivery
        addresses = []
    if any(not allowed.allows(host, a) for a in addresses):
        raise bad("destination_not_allowed",
                  "不得指向本机、内网或链路本地地址（内部接收方须由管理员在 "
                  "WEBHOOK_ALLOWED_HOSTS 中允许）",
                  "must not point at a loopback, private or link-local address (an internal "
                  "receiver must be allowed by WEBHOOK_ALLOWED_HOSTS)")
    if settings.is_production and parts.scheme != "https" and not allowed.names_host(host):
        raise bad("https_required", "生产环境必须使用 https", "must use https in production")
    return clean


# --- where a webhook may go ---------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Destinations:
    """Public addresses, and the internal ones WEBHOOK_ALLOWED_HOSTS names (by host name,
    address or network): a webhook is the server making a request its user chose, so
    without this a reviewer could probe the server's own network."""

    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @staticmethod
    @lru_cache(maxsize=8)
    def of(entries: tuple[str, ...]) -> Destinations:
        names, networks = set(), []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry)
        return Destinations(frozenset(names), tuple(networks))

    def allows(self, host: str, address: Address) -> bool:
        """May a webhook for `host` connect to `address` (one `host` resolved to)?"""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_global and not address.is_multicast:
            return True
        return self.names_host(host) or any(address in n for n in self.networks)

    def names_host(self, host: str) -> bool:
        """Does WEBHOOK_ALLOWED_HOSTS name this host (its name, or its literal address)?"""
        host = host.lower().rstrip(".")
        if host in self.names:
            return True
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(literal in n for n in self.networks)


def resolve(host: str, port: int) -> list[Address]:
    """The addresses `host` resolves to now (a literal address: itself)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


# --- subscriptions ------------------------------------------------------------------------

@dataclass
class Created:
    id: int
    url: str
    authority_code: str | None
    owner_id: int
    secret: str  # shown once, stored sealed
    created_at: datetime


def create(uow: UnitOfWork, user_id: int, url: str, *, settings: Settings,
           now: datetime | None = None) -> Created:
    """Register `url` for the user's scope; the signing secret is returned once (sealed
    with the settings' SECRET_KEY; the URL checked against WEBHOOK_ALLOWED_HOSTS)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "webhooks.manage")
        clean = check_url(url, settings)
        secret = secrets.token_urlsafe(32)
        top = wr.max_history_id(s)  # no backfill: only transitions from now on
        row = WebhookRow(owner_id=user.id, authority_id=None if _sees_all(user)
                         else user.authority_id, url=clean, secret="-", last_history_id=top,
                         mark_id=top, mark_at=now, created_at=now)
        s.add(row)
        s.flush()
        row.secret = sealed.seal(settings.secret_key, SECRET_COLUMN, row.id, secret)
        code = None if row.authority_id is None else user.authority_code
        audit.append(s, "webhook_created", who=audit.Who.of(user), object_type="webhook",
                     object_id=row.id, details={"url": clean, "authority_code": code},
                     now=now)
        uow.commit()
        return Created(row.id, clean, code, user.id, secret, now)


def list_visible(uow: UnitOfWork, user_id: int) -> list[WebhookRow]:
    """The live webhooks in the user's scope, newest first."""
    with uow.read():
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "webhooks.manage")
        rows = wr.visible(s, user.authority_id, _sees_all(user))
        for row in rows:
            _ = row.authority  # loaded before the session closes
        return rows


def authority_code(row: WebhookRow) -> str | None:
    return row.authority.code if row.authority_id is not None and row.authority else None


def delete(uow: UnitOfWork, user_id: int, webhook_id: int, now: datetime | None = None) -> None:
    """Stop a webhook: nothing more is queued or sent (open deliveries are cancelled)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "webhooks.manage")
        row = _webhook(s, user, webhook_id)
        row.deleted_at = now
        s.flush()
        cancelled = wr.cancel_open(s, row.id, f"webhook deleted by user {user.id}")
        audit.append(s, "webhook_deleted", who=audit.Who.of(user), object_type="webhook",
                     object_id=row.id, details={"url": row.url, "cancelled": cancelled},
                     now=now)
        uow.commit()


def deliveries(uow: UnitOfWork, user_id: int, webhook_id: int,
               limit: int = 100) -> list[WebhookDeliveryRow]:
    """The webhook's latest deliveries, newest first."""
    return with_deliveries(uow, user_id, webhook_id, limit)[1]


def with_deliveries(uow: UnitOfWork, user_id: int, webhook_id: int, limit: int = 100
                    ) -> tuple[WebhookRow, list[WebhookDeliveryRow]]:
    """The webhook (its authority loaded) and its latest deliveries, newest first."""
    with uow.read():
        s = uow.session
        row = _webhook(s, permissions.require(users_repo.user_by_id(s, user_id), "webhooks.manage"), webhook_id)
        _ = row.authority  # loaded before the session closes
        return row, wr.deliveries_of(s, row.id, limit)


def retry(uow: UnitOfWork, user_id: int, webhook_id: int, delivery_id: int,
          now: datetime | None = None) -> WebhookDeliveryRow:
    """Queue a failed or dead delivery again now, its attempts counted afresh."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "webhooks.manage")
        hook = _webhook(s, user, webhook_id)
        row = s.get(WebhookDeliveryRow, delivery_id)
        if row is None or row.subscription_id != hook.id:
            raise scope_repo.not_found("delivery")
        if row.status not in RETRYABLE:
            raise ValidationFailed(refuse(
                "not_retryable", "只有发送失败或已放弃的投递可以重试",
                "only failed or dead deliveries can be retried", field="status",
                details={"status": row.status}))
        was = row.status
        row.status, row.attempts, row.next_attempt_at = "pending", 0, now
        audit.append(s, "webhook_delivery_retried", who=audit.Who.of(user),
                     object_type="webhook", object_id=hook.id,
                     details={"delivery_id": row.id, "history_id": row.history_id,
                              "was": was}, now=now)
        uow.commit()
        return row


# --- the scan -----------------------------------------------------------------------------

@dataclass
class ScanResult:
    webhooks: int = 0
    queued: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def scan(uow: UnitOfWork, now: datetime | None = None, settle: timedelta = SETTLE,
         batch: int = SCAN_BATCH) -> ScanResult:
    """Queue the transitions after each live webhook's cursor that are in its scope.
    Safe to run in several processes at once: each webhook is locked while it is scanned
    (one that another scan holds is skipped), and the unique key drops repeats."""
    now = now or utcnow()
    done = ScanResult()
    with uow:
        ids = wr.live_ids(uow.session)
    for webhook_id in ids:
        with uow:
            s = uow.session
            row = wr.lock_for_scan(s, webhook_id)
            if row is None:
                continue
            top = wr.max_history_id(s)
            found = wr.history_after(s, row.last_history_id, row.authority_id, batch)
            done.queued += wr.queue(s, row.id, found, now)
            done.webhooks += 1
            _advance(row, top, found[-1] if len(found) >= batch else top, now, settle)
            uow.commit()
    return done


def _advance(row: WebhookRow, top: int, seen_up_to: int, now: datetime,
             settle: timedelta) -> None:
    """Move the cursor over what this scan queued, but not past the settled mark."""
    settled = now - row.mark_at >= settle
    limit = row.mark_id if settled else row.last_history_id
    row.last_history_id = max(row.last_history_id, min(limit, seen_up_to))
    if settled and row.last_history_id >= row.mark_id:
        row.mark_id, row.mark_at = max(top, row.mark_id), now


# --- delivery -----------------------------------------------------------------------------

@dataclass
class Delivery:
    """What one `deliver_due` run did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.failed + self.dead

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def payload(out: wr.Outgoing) -> dict[str, Any]:
    """What the receiver gets: the transition, no personal data (no names, no contacts)."""
    return {"event": EVENT, "delivery_id": out.delivery_id, "history_id": out.history_id,
            "application_id": out.application_id, "authority_code": out.authority_code,
            "province_code": out.province_code, "trigger": out.trigger, "from_state": out.from_state, "to_state": out.to_state,
            "version": out.version,
            "at": out.at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "actor_role": out.actor_role}


class _Pinned(http.client.HTTPConnection):
    """HTTP to `address`, the checked address the URL's host resolved to, never to what
    the name resolves to a moment later (DNS rebinding). The Host header still names the
    host."""

    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to the checked `address`; the certificate is verified for the host name."""

    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def post(url: str, secret: str, delivery_id: int, body: bytes,
         timeout: float = TIMEOUT_SECONDS, allowed: Destinations | None = None
         ) -> tuple[int | None, str | None]:
    """POST one signed body to an allowed address of the URL's host: (status code or
    None, error or None if 2xx). A redirect is an answer other than 2xx, retried and never
    followed (a POST must not turn into a GET somewhere else)."""
    allowed = allowed or Destinations.of(())
    parts = urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    ts = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "eib-webhooks/1",
               "X-EIB-Delivery": str(delivery_id), "X-EIB-Timestamp": str(ts),
               "X-EIB-Signature": signature(secret, ts, body)}
    try:
        addresses = resolve(host, port)
        address = next((a for a in addresses if allowed.allows(host, a)), None)
        if address is None:
            _log.warning("webhook delivery %s: %s resolves to %s, none of them allowed",
                         delivery_id, host, ", ".join(map(str, addresses)))
            return None, NOT_ALLOWED
        conn = (_PinnedTLS if tls else _Pinned)(host, port, address, timeout)
        try:
            conn.request("POST", parts.path + (f"?{parts.query}" if parts.query else "")
                         or "/", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read(65536)
            code = int(answer.status)
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        _log.warning("webhook delivery %s to %s port %s: no HTTP answer: %s: %s",
                     delivery_id, host, port, type(exc).__name__, exc)
        return None, NO_ANSWER
    if 200 <= code < 300:
        return code, None
    return code, f"HTTP {code}"


def outcome(attempt: int, code: int | None, error: str | None, now: datetime
            ) -> dict[str, Any]:
    """The values recording one attempt: delivered, failed (retried later) or dead."""
    if error is None:
        return {"status": "delivered", "last_status_code": code, "last_error": None,
                "delivered_at": now}
    if attempt >= MAX_ATTEMPTS:
        return {"status": "dead", "last_status_code": code,
                "last_error": f"gave up after {attempt} attempts: {error}"[:ERROR_CHARS]}
    return {"status": "failed", "last_status_code": code, "last_error": error[:ERROR_CHARS],
            "next_attempt_at": now + BACKOFF[attempt - 1]}


def _send(out: wr.Outgoing, settings: Settings) -> tuple[int | None, str | None]:
    try:
        secret = sealed.unseal(settings.secret_key, SECRET_COLUMN, out.webhook_id,
                               out.sealed_secret)
    except sealed.Unreadable:  # SECRET_KEY changed: the URL must be registered again
        return None, "the signing secret does not open (SECRET_KEY changed)"
    return post(out.url, secret, out.delivery_id, body_of(payload(out)),
                allowed=Destinations.of(settings.webhook_allowed_hosts))


def deliver_due(uow: UnitOfWork, *, settings: Settings, limit: int = 100) -> Delivery:
    """POST up to `limit` due deliveries; safe to run in many workers at once (each claim
    is fenced). A claim is committed before any POST, so no lock is held while waiting
    for a receiver; a worker killed mid-POST leaves a 'sending' row that is claimed again
    after LEASE (the receiver may then get that delivery twice: it has the same
    X-EIB-Delivery id). `settings` (SECRET_KEY, WEBHOOK_ALLOWED_HOSTS) come from the
    caller: the worker's Celery app, the web app."""
    done = Delivery()
    with uow:
        s = uow.session
        autocommit = wr.autocommit(s)
        while done.handled < limit:
            claims = wr.claim(s, utcnow(), LEASE, min(CLAIM_BATCH, limit - done.handled))
            if not autocommit:
                uow.commit()
            if not claims:
                break
            attempts = dict(claims)
            for out in wr.outgoing(s, list(attempts)):
                code, error = _send(out, settings)
                values = outcome(attempts[out.delivery_id], code, error, utcnow())
                wr.finish(s, out.delivery_id, attempts[out.delivery_id], **values)
                if not autocommit:
                    uow.commit()
                setattr(done, values["status"], getattr(done, values["status"]) + 1)
    return done
