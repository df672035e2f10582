"""The audit log (安全审计): append-only, hash-chained, searchable by the auditor only.

Every record stores the SHA-256 of its own content together with the previous record's
hash in its chain, so changing, deleting or reordering a record breaks the chain at that
point (GB/T 22239-2019 8.1.4.3 b/c; OWASP ASVS 5.0 V16). There is one chain per case (its
actions) and one system chain (everything else), so case actions on different cases never
wait for each other (docs/security.md, "the audit chains"). Records are kept at least 180 days
(网络安全法 第二十一条); the application has no path that edits or deletes them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

from workflow import permissions
from workflow.errors import ValidationFailed, refuse
from workflow.services import spreadsheets
from workflow.services.clock import CHINA, real_utcnow
from workflow.storage import audit_repo, users_repo
from workflow.storage.models import AuditRow, UserRow
from workflow.storage.uow import DbSession, UnitOfWork

RETENTION_DAYS = 180  # 网络安全法 第二十一条: network logs kept no less than six months

# Where the current request comes from; a Flask before_request hook binds it, so services
# need no `ip` parameter. Tasks and the CLI leave it empty.
_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def bind_ip(ip: str | None) -> None:
    """Remember the client's address for records appended in this request."""
    _client_ip.set(ip)


def current_ip() -> str | None:
    return _client_ip.get()


@dataclass(frozen=True)
class Who:
    """The person a record is about: the actor, and whom they acted for."""

    id: int | None
    name: str | None
    role: str | None = None
    on_behalf_of_id: int | None = None

    @classmethod
    def of(cls, user: UserRow | None) -> Who:
        if user is None:
            return ANONYMOUS
        return cls(user.id, user.username, user.role)


ANONYMOUS = Who(None, None, None)


_PLAIN = (str, int, bool, type(None))


def _canonical(value: Any) -> Any:
    """`value` as it reads back from a JSON column (so the hash survives the round trip);
    a flat dict of strings, numbers (not floats) and booleans already does."""
    if (isinstance(value, dict) and all(type(k) is str and type(v) in _PLAIN
                                        for k, v in value.items())):
        return dict(value)
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def content_hash(prev_hash: str, *, at: datetime, utc_offset: str | None, actor_id: int | None,
                 actor_name: str | None, actor_role: str | None, on_behalf_of_id: int | None,
                 ip: str | None, event: str, object_type: str | None, object_id: str | None,
                 result: str, details: dict[str, Any]) -> str:
    """SHA-256 over the record's fields and the previous record's hash."""
    body = {"prev": prev_hash, "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "offset": utc_offset, "actor_id": actor_id, "actor_name": actor_name,
            "actor_role": actor_role, "on_behalf_of_id": on_behalf_of_id, "ip": ip,
            "event": event, "object_type": object_type, "object_id": object_id,
            "result": result, "details": details}
    data = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def row_hash(row: AuditRow) -> str:
    return content_hash(row.prev_hash, at=row.at, utc_offset=row.utc_offset,
                        actor_id=row.actor_id, actor_name=row.actor_name,
                        actor_role=row.actor_role, on_behalf_of_id=row.on_behalf_of_id,
                        ip=row.ip, event=row.event, object_type=row.object_type,
                        object_id=row.object_id, result=row.result,
                        details=row.details or {})


def _offset(moment: datetime) -> str:
    offset = moment.astimezone(CHINA).utcoffset() or timedelta()
    return _OFFSETS.get(offset) or _format_offset(offset)


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


_OFFSETS: dict[timedelta, str] = {timedelta(hours=8): "+08:00",
                                   timedelta(hours=9): "+09:00"}  # standard, summer time


GENESIS = audit_repo.GENESIS


def chain_of(object_type: str | None, object_id: Any) -> str:
    """The hash chain a record belongs to: a case's actions form that case's own chain;
    every other record (logins, accounts, tokens, settings, exports…) the system chain."""
    if object_type == "application" and object_id is not None:
        return f"application:{object_id}"
    return audit_repo.SYSTEM_CHAIN


def record(event: str, *, prev: str, who: Who = ANONYMOUS, result: str = "ok",
           object_type: str | None = None, object_id: Any = None,
           details: dict[str, Any] | None = None, ip: str | None = None,
           now: datetime | None = None, chain: str | None = None) -> dict[str, Any]:
    """The column values of one record linked to `prev` (its chain's current head; the
    chain is `chain_of(object_type, object_id)` unless given). A record is stamped with
    the machine's time when written, never the domain's (`APP_NOW`): the log stays in
    write order and says when things really happened; a case's history row keeps the
    case's own time."""
    now = now or real_utcnow()
    fields: dict[str, Any] = dict(
        at=now, utc_offset=_offset(now), actor_id=who.id,
        actor_name=(who.name or None) and who.name[:100], actor_role=who.role,
        on_behalf_of_id=who.on_behalf_of_id, ip=(ip or current_ip() or None),
        event=event[:60], object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:64], result=result[:20],
        details=_canonical(details or {}))
    return {"chain": chain or chain_of(object_type, object_id), "prev_hash": prev,
            "hash": content_hash(prev, **fields), **fields}


_watchers: list[Callable[[str, str | None], None]] = []


def watch(listener: Callable[[str, str | None], None]) -> None:
    """Call `listener(event, object_type)` whenever a record is appended in this process
    (e.g. to drop what a process caches about users and tokens when one changes: every
    such change is audited)."""
    _watchers.append(listener)


def append(session: DbSession, event: str, *, who: Who = ANONYMOUS, result: str = "ok",
           object_type: str | None = None, object_id: Any = None,
           details: dict[str, Any] | None = None, ip: str | None = None,
           now: datetime | None = None, chain: str | None = None) -> AuditRow:
    """Append one record inside the caller's transaction (it commits or rolls back with
    the action it records). Appends to one chain are serialised so it never forks; other
    chains go on in parallel. `chain`: see `record`."""
    chain = chain or chain_of(object_type, object_id)
    audit_repo.lock_chain(session, chain)
    values = record(event, prev=audit_repo.last_hash(session, chain), who=who, result=result,
                    object_type=object_type, object_id=object_id, details=details, ip=ip,
                    now=now, chain=chain)
    for listener in _watchers:
        listener(event, object_type)
    return audit_repo.add(session, AuditRow(**values))


def log(uow: UnitOfWork, event: str, **kw: Any) -> None:
    """Append one record in a transaction of its own (login failures, denials…)."""
    with uow:
        append(uow.session, event, **kw)
        uow.commit()


# --- verification ------------------------------------------------------------------------

PROBLEMS = {
    "modified": "was modified after it was written (its content no longer matches its hash)",
    "deleted_before": "follows a record that is missing (deleted)",
    "inserted": "was inserted into the chain after the fact",
    "out_of_order": "is out of order (records were moved or renumbered)",
}


@dataclass(frozen=True)
class Break:
    """The first broken record of one chain."""

    chain: str
    record_id: int
    problem: str  # modified | deleted_before | inserted | out_of_order


@dataclass
class ChainReport:
    """What `verify` found: the first broken record of each broken chain, and a digest of
    every chain's head (the auditor records it outside the system)."""

    count: int
    chains: int
    head: str
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_bad_id(self) -> int | None:
        return min((b.record_id for b in self.breaks), default=None)

    @property
    def problem(self) -> str | None:
        return next((b.problem for b in self.breaks if b.record_id == self.first_bad_id), None)

    def describe(self) -> str:
        if self.ok:
            return (f"audit chain intact: {self.count} records in {self.chains} chains, "
                    f"heads digest {self.head}")
        return "\n".join(f"audit record #{b.record_id} (chain {b.chain}) {PROBLEMS[b.problem]}"
                         for b in sorted(self.breaks, key=lambda b: b.record_id))


def _first_break(chain: str, links: list[tuple[int, str, str, bool]]) -> Break | None:
    """Walk one chain's (id, prev_hash, hash, content intact) in id order; name the first
    record modified, deleted around, inserted or reordered."""
    known = {h for _, _, h, _ in links}
    expected_prev = audit_repo.GENESIS
    for i, (rid, prev, own, intact) in enumerate(links):
        if not intact:
            return Break(chain, rid, "modified")
        if prev != expected_prev:
            if i >= 2 and prev == links[i - 2][2]:
                return Break(chain, links[i - 1][0], "inserted")
            if i == 1 and prev == audit_repo.GENESIS:
                return Break(chain, links[0][0], "inserted")
            return Break(chain, rid, "out_of_order" if prev in known else "deleted_before")
        expected_prev = own
    return None


def verify(uow: UnitOfWork) -> ChainReport:
    """Walk every chain in id order; name the first record of each chain that was
    modified, deleted around, inserted or reordered."""
    with uow.read():
        heads = hashlib.sha256()
        breaks: list[Break] = []
        count = chains = 0
        rows = audit_repo.rows_in_order(uow.session)
        for chain, group in groupby(rows, key=lambda r: r.chain):
            links = [(r.id, r.prev_hash, r.hash, row_hash(r) == r.hash) for r in group]
            count, chains = count + len(links), chains + 1
            heads.update(f"{chain}\t{links[-1][2]}\n".encode())
            broken = _first_break(chain, links)
            if broken is not None:
                breaks.append(broken)
        return ChainReport(count, chains, heads.hexdigest(), breaks)


# --- the auditor's search and export -----------------------------------------------------

SEARCH_FIELDS = ("event", "actor", "object_type", "object_id", "result", "ip")
EXPORT_COLUMNS = ("id", "at_utc", "utc_offset", "actor_id", "actor_name", "actor_role",
                  "on_behalf_of_id", "ip", "event", "object_type", "object_id", "result",
                  "details", "prev_hash", "hash")


def _filters(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SEARCH_FIELDS:
        value = str(raw.get(name) or "").strip()
        if len(value) > 100:
            raise ValidationFailed(refuse("too_long", "查询条件过长", "search term too long",
                                          field=name))
        if value:
            out[name] = value
    for name in ("since", "until"):
        given = raw.get(name)
        if given in (None, ""):
            continue
        if isinstance(given, datetime):
            out[name] = given
            continue
        try:
            moment = datetime.fromisoformat(str(given))
        except ValueError:
            raise ValidationFailed(refuse("invalid_date", "日期格式应为 YYYY-MM-DD",
                                          "dates are YYYY-MM-DD", field=name)) from None
        out[name] = moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
    return out


def search(uow: UnitOfWork, auditor_id: int, filters: dict[str, Any],
           before_id: int | None = None, limit: int = 100) -> list[AuditRow]:
    """The auditor's read-only search, newest first."""
    with uow.read():
        s = uow.session
        permissions.require(users_repo.user_by_id(s, auditor_id), "audit.read")
        return audit_repo.search(s, **_filters(filters), before_id=before_id,
                                 limit=max(1, min(limit, 500)))


def _export_rows(uow: UnitOfWork, auditor_id: int, filters: dict[str, Any], fmt: str,
                 limit: int) -> list[AuditRow]:
    with uow:
        s = uow.session
        auditor = permissions.require(users_repo.user_by_id(s, auditor_id), "audit.read")
        clean = _filters(filters)
        rows = audit_repo.search(s, **clean, limit=limit)
        append(s, "audit_exported", who=Who.of(auditor), object_type="audit_log",
               details={"format": fmt, "filters": clean, "rows": len(rows)})
        uow.commit()
        return rows


def _cells(row: AuditRow) -> list[Any]:
    return [row.id, row.at.astimezone(UTC).isoformat(timespec="seconds"), row.utc_offset,
            row.actor_id, row.actor_name, row.actor_role, row.on_behalf_of_id, row.ip,
            row.event, row.object_type, row.object_id, row.result,
            json.dumps(row.details or {}, ensure_ascii=False, sort_keys=True),
            row.prev_hash, row.hash]


def export_csv(uow: UnitOfWork, auditor_id: int, filters: dict[str, Any],
               limit: int = 100_000) -> bytes:
    """The matching records as UTF-8 CSV (with BOM, so Excel reads the Chinese)."""
    rows = _export_rows(uow, auditor_id, filters, "csv", limit)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(spreadsheets.row(EXPORT_COLUMNS))
    for row in rows:
        writer.writerow(spreadsheets.row(_cells(row)))
    return ("\ufeff" + buf.getvalue()).encode()


def export_xlsx(uow: UnitOfWork, auditor_id: int, filters: dict[str, Any],
                limit: int = 100_000) -> bytes:
    """The matching records as an Excel workbook."""
    from openpyxl import Workbook

    rows = _export_rows(uow, auditor_id, filters, "xlsx", limit)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("audit_log")
    ws.append(spreadsheets.row(EXPORT_COLUMNS))
    for row in rows:
        ws.append(spreadsheets.row(_cells(row)))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def event_names(uow: UnitOfWork, auditor_id: int) -> list[str]:
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, auditor_id), "audit.read")
        return audit_repo.events(uow.session)

