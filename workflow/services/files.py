"""Attachments: checked by content, size-limited, stored outside the web root under
generated names, with a SHA-256 checksum kept."""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workflow.errors import GuardFailed, ValidationFailed, refuse
from workflow.programme import all_attachment_kinds
from workflow.roles import Role
from workflow.services import archives, audit, cases
from workflow.services.clock import local_date, utcnow
from workflow.storage import rounds_repo, users_repo
from workflow.storage.models import AttachmentRow
from workflow.storage.uow import UnitOfWork

# The kinds users add, who adds them and when, are each programme's ([[attachments]] in
# programmes/<code>.toml). Filed by the public with an objection (异议), linked to the case
# it objects to, is a system kind: `attach` never takes it; only
# `objections.file_objection` stores one.
OBJECTION_EVIDENCE = "objection_evidence"
# Kinds that may hold personal data of people outside the case (the objector's name,
# contacts, papers): seen and downloaded by the ministry only, who handles objections
# (issue 8 §5: personal data visible only to roles that need it).
MINISTRY_ONLY = frozenset({OBJECTION_EVIDENCE})


def may_see(role: Role, kind: str) -> bool:
    """Whether someone acting in `role` on a case may see its attachment of `kind`."""
    return kind not in MINISTRY_ONLY or role is Role.MINISTRY_REVIEWER
EXTENSIONS = {"pdf": "application/pdf", "doc": "application/msword",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "xls": "application/vnd.ms-excel",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}

# Shown in the page as well as downloaded (issue 17): a browser displays these itself; the
# Office formats are listed with their metadata and downloaded.
PREVIEWABLE = frozenset({"application/pdf", "image/png", "image/jpeg"})


def sniff(data: bytes) -> str | None:
    """The file type from its first bytes (not its name): pdf, doc/xls, docx, xlsx, png, jpg."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"  # legacy .doc / .xls
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "docx"
            if any(n.startswith("xl/") for n in names):
                return "xlsx"
    return None


def check_upload(filename: str, data: bytes, max_bytes: int,
                 archive_limits: archives.Limits | None = archives.OFFICE_ATTACHMENT
                 ) -> tuple[str, str]:
    """(clean file name, content type) or `ValidationFailed` naming what is wrong. A .docx
    or .xlsx (a zip of XML) must also unpack within `archive_limits` with no DTD in it
    (None: the caller inspects it itself, with its own limits)."""
    name = (filename or "").strip()
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name \
            or len(name) > 200:
        raise ValidationFailed(refuse("invalid_filename", "文件名无效（不能包含路径）",
                                      "invalid file name (no paths allowed)", field="file",
                                      details={"value": name[:200]}))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in EXTENSIONS:
        raise ValidationFailed(refuse("unsupported_type",
                                      "仅支持 PDF、DOC、DOCX、XLS、XLSX、PNG、JPG 文件",
                                      "only PDF, DOC, DOCX, XLS, XLSX, PNG and JPG files",
                                      field="file", details={"value": name}))
    if len(data) == 0:
        raise ValidationFailed(refuse("empty_file", "文件为空", "the file is empty", field="file"))
    if len(data) > max_bytes:
        raise ValidationFailed(refuse("file_too_large",
                                      f"文件超过 {max_bytes // (1024 * 1024)} MB 上限",
                                      f"the file exceeds the {max_bytes // (1024 * 1024)} MB limit",
                                      field="file"))
    if archive_limits is not None and ext in ("docx", "xlsx") and data.startswith(b"PK"):
        archives.inspect(data, archive_limits)
    kind = sniff(data)
    expected = {"pdf": "pdf", "doc": "ole", "xls": "ole", "docx": "docx", "xlsx": "xlsx",
                "png": "png", "jpg": "jpg", "jpeg": "jpg"}[ext]
    if kind != expected:
        raise ValidationFailed(refuse("content_mismatch", "文件内容与扩展名不符",
                                      "the file's content does not match its type",
                                      field="file", details={"value": name}))
    return name, EXTENSIONS[ext]


def _unknown_kind(kind: str) -> ValidationFailed:
    return ValidationFailed(refuse("invalid_choice", "附件类型无效", "unknown attachment kind",
                                   field="kind", details={"value": str(kind)[:40]}))


@dataclass
class Stored:
    id: int
    sha256: str
    size: int


def store_bytes(upload_dir: Path, data: bytes) -> str:
    """Write bytes under a generated name; return that name."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16)
    path = upload_dir / stored
    with open(path, "xb") as fh:
        fh.write(data)
    return stored


def attach(uow: UnitOfWork, user_id: int, app_id: int, kind: str, filename: str, data: bytes,
           upload_dir: Path, max_bytes: int, now: datetime | None = None) -> Stored:
    """Add a file to an application; a new file of the same kind supersedes the old one,
    which is kept as its earlier version (listed and downloadable, never deleted)."""
    now = now or utcnow()
    if kind not in all_attachment_kinds():
        raise _unknown_kind(kind)
    name, ctype = check_upload(filename, data, max_bytes)
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row, actor = cases.case_for(s, user, app_id, "case.attach", local_date(now))
        defined = rounds_repo.programme_of_round(row.round).attachment(kind)
        if defined is None:  # another programme's kind
            raise _unknown_kind(kind)
        if actor.role is not defined.role or row.state not in defined.states:
            raise GuardFailed(refuse("cannot_attach_now", f"当前不能上传“{defined.zh}”",
                                     f"“{defined.en}” cannot be uploaded now",
                                     guard="attach", field="kind"))
        digest = hashlib.sha256(data).hexdigest()
        stored = store_bytes(upload_dir, data)
        for old in s.query(AttachmentRow).filter_by(application_id=app_id, kind=kind,
                                                    superseded=False):
            old.superseded = True
        att = AttachmentRow(application_id=app_id, kind=kind, filename=name, stored_name=stored,
                            content_type=ctype, size_bytes=len(data), sha256=digest,
                            uploaded_by_id=user.id, uploaded_at=now)
        s.add(att)
        s.flush()
        audit.append(s, "attachment_uploaded",
                     who=audit.Who(user.id, user.username, actor.role.value,
                                   actor.on_behalf_of_id),
                     object_type="application", object_id=app_id,
                     details={"attachment_id": att.id, "kind": kind, "filename": name,
                              "size": len(data), "sha256": digest})
        uow.commit()
        return Stored(att.id, digest, len(data))
