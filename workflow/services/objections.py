"""Objections (异议) filed by the public during the notice, and their resolution."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workflow import permissions
from workflow.errors import GuardFailed, Refusal, ValidationFailed, refuse
from workflow.services import audit, cases, files
from workflow.services.clock import local_date, utcnow
from workflow.states import State
from workflow.storage import cases_repo, notices, scope_repo, users_repo
from workflow.storage.models import ObjectionRow
from workflow.storage.uow import DbSession, UnitOfWork


def _text(value: str | None, field: str, zh: str, en: str, max_len: int) -> str:
    v = (value or "").strip()
    if not v:
        raise ValidationFailed(refuse("required", f"{zh}：必填", f"{en}: is required", field=field))
    if len(v) > max_len:
        raise ValidationFailed(refuse("too_long", f"{zh}：不得超过 {max_len} 字",
                                      f"{en}: at most {max_len} characters", field=field))
    return v


@dataclass(frozen=True)
class EvidenceUpload:
    """A file the public sends with an objection; checked like any attachment (files.py)."""

    filename: str
    data: bytes
    upload_dir: Path
    max_bytes: int


def file_objection(uow: UnitOfWork, app_id: int, name: str, contact: str, text: str,
                   ip: str | None = None, attachment_id: int | None = None,
                   now: datetime | None = None, evidence: EvidenceUpload | None = None) -> str:
    """Anyone may object to a case while its notice runs; returns a confirmation number.
    With `evidence`, the file is checked by content first and stored in the same
    transaction as the objection: a refusal stores nothing."""
    now = now or utcnow()
    cleaned, checked = _checked(name, contact, text, evidence)
    stored: Path | None = None
    with uow:
        s = uow.session
        row = cases_repo.get_application(s, app_id)
        if row.state != State.PUBLICLY_SHOWN.value or (
                row.notice_ends_on is not None and local_date(now) > row.notice_ends_on):
            raise scope_repo.not_found("notice")  # only cases under notice are public
        try:
            if evidence is not None and checked is not None:
                stored_name = files.store_bytes(evidence.upload_dir, evidence.data)
                stored = evidence.upload_dir / stored_name
                attachment_id = notices.add_evidence(
                    s, app_id, files.OBJECTION_EVIDENCE, checked[0], stored_name, checked[1],
                    len(evidence.data), hashlib.sha256(evidence.data).hexdigest(), now)
            number = _record(uow, app_id, cleaned, ip, attachment_id, now)
            uow.commit()
        except BaseException:
            if stored is not None:
                stored.unlink(missing_ok=True)  # the row was not kept: neither is the file
            raise
        return number


def _checked(name: str, contact: str, text: str, evidence: EvidenceUpload | None
             ) -> tuple[dict[str, str], tuple[str, str] | None]:
    """The objection's fields trimmed, and the evidence's checked (name, content type);
    every field at fault is refused at once, each named."""
    problems: list[Refusal] = []
    cleaned: dict[str, str] = {}
    for key, value, zh, en, max_len in (("name", name, "姓名", "Name", 100),
                                        ("contact", contact, "联系方式", "Contact", 200),
                                        ("text", text, "异议内容", "Objection", 5000)):
        try:
            cleaned[key] = _text(value, key, zh, en, max_len)
        except ValidationFailed as err:
            problems += err.refusals
    checked = None
    if evidence is not None:
        try:
            checked = files.check_upload(evidence.filename, evidence.data, evidence.max_bytes)
        except ValidationFailed as err:
            problems += err.refusals
    if problems:
        raise ValidationFailed(*problems)
    return cleaned, checked


def _record(uow: UnitOfWork, app_id: int, cleaned: dict[str, str], ip: str | None,
            attachment_id: int | None, now: datetime) -> str:
    """Store the objection and log it; its confirmation number."""
    s = uow.session
    number = f"YY{local_date(now):%Y%m%d}{secrets.randbelow(10**6):06d}"
    s.add(ObjectionRow(application_id=app_id, confirmation_no=number, name=cleaned["name"],
                       contact=cleaned["contact"], text=cleaned["text"], ip=ip,
                       attachment_id=attachment_id, filed_at=now))
    s.flush()
    # the objector is the public: no account, and no name or contact in the log
    audit.append(s, "objection_filed", object_type="objection", object_id=number, ip=ip,
                 details={"application_id": app_id, "evidence": attachment_id})
    uow.record("objection_filed", application_id=app_id, confirmation_no=number)
    return number


def dismiss(uow: UnitOfWork, user_id: int, objection_id: int, reason: str,
            now: datetime | None = None) -> None:
    """The ministry dismisses an objection with a reason (the case stays under notice)."""
    now = now or utcnow()
    reason = _text(reason, "reason", "理由", "Reason", 2000)
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "objections.decide")
        obj = s.get(ObjectionRow, objection_id)
        if obj is None:
            raise scope_repo.not_found("objection")
        if obj.status != "open":
            raise GuardFailed(refuse("already_resolved", "该异议已处理",
                                     "this objection is already resolved", guard="objection"))
        obj.status, obj.resolution_reason = "dismissed", reason
        obj.resolved_by_id, obj.resolved_at = user.id, now
        audit.append(s, "objection_dismissed", who=audit.Who.of(user), object_type="objection",
                     object_id=obj.confirmation_no,
                     details={"objection_id": obj.id, "application_id": obj.application_id})
        uow.commit()


def uphold(uow: UnitOfWork, user_id: int, objection_id: int, reason: str, version: int | None,
           now: datetime | None = None) -> cases.Fired:
    """Uphold an objection: the case leaves the notice (state objection_upheld)."""
    now = now or utcnow()
    with uow:
        obj = uow.session.get(ObjectionRow, objection_id)
        if obj is None or obj.status != "open":
            raise scope_repo.not_found("objection")
        app_id = obj.application_id

    def mark(session: DbSession, _row: object) -> None:
        o = session.get(ObjectionRow, objection_id)
        assert o is not None
        o.status, o.resolution_reason = "upheld", reason
        o.resolved_by_id, o.resolved_at = user_id, now
        # the case's own move is fire()'s "case_action" record; this one is the objection's
        user = users_repo.user_by_id(session, user_id)
        audit.append(session, "objection_upheld", who=audit.Who.of(user),
                     object_type="objection", object_id=o.confirmation_no,
                     details={"objection_id": o.id, "application_id": o.application_id})

    return cases.fire(uow, user_id, app_id, "uphold_objection", version, reason=reason,
                      now=now, data={"objection_id": objection_id}, also=mark)


def open_for(uow: UnitOfWork, app_id: int) -> list[ObjectionRow]:
    with uow.read():
        return cases_repo.objections_of(uow.session, app_id)


# --- what the public and the case page see of an objection --------------------------------

NUMBER_RE = re.compile(r"^YY\d{14}$")  # e.g. YY20060502004817


@dataclass(frozen=True)
class Status:
    """An objection's status as the person who filed it may look it up: no names, no
    contacts — the confirmation number is the key."""

    number: str
    case_name: str
    filed_at: datetime
    status: str  # open | upheld | dismissed
    resolved_at: datetime | None
    reason: str | None


def status_of(uow: UnitOfWork, number: str) -> Status:
    """The status of the objection with confirmation number `number` (anyone may ask)."""
    number = (number or "").strip().upper()
    if not NUMBER_RE.match(number):
        raise ValidationFailed(refuse("invalid_confirmation_no",
                                      "确认编号格式不正确（如 YY20060502004817）",
                                      "not a confirmation number (e.g. YY20060502004817)",
                                      field="number", details={"value": number[:40]}))
    with uow.read():
        s = uow.session
        obj = cases_repo.objection_by_number(s, number)
        if obj is None:
            raise scope_repo.not_found("objection")
        app = cases_repo.get_application(s, obj.application_id)
        return Status(number, app.applicant_name or "", obj.filed_at, obj.status,
                      obj.resolved_at, obj.resolution_reason)


def trail_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[Status]:
    """The case's objections (filed, and how each was decided, with the reason), for
    whoever may see the case — its history shows them beside the transitions."""
    with uow.read():
        s = uow.session
        row, _actor = cases.case_for(s, users_repo.user_by_id(s, user_id), app_id, None)
        return [Status(o.confirmation_no, row.applicant_name or "", o.filed_at, o.status,
                       o.resolved_at, o.resolution_reason)
                for o in cases_repo.objections_of(s, app_id)]
