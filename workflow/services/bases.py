"""Use cases of the register of export bases (出口基地名录): reading it, importing the
national 高新技术产品 / 医药 / 软件 export bases from Excel or CSV, and the bases a
re-certification may name. Export innovation bases enter it on approval (`cases.fire`).

Who: ministry reviewers read the whole register and import it; provincial reviewers and
applicants read their own authority's entries; the three admin roles neither (they never
handle the programme's business, DOMAIN.md). The CLI reads as the operator at the console.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from workflow import permissions, register
from workflow.errors import Refusal, ValidationFailed, refuse
from workflow.permissions import Scope
from workflow.register import COLUMNS, BaseStatus, BaseType, ImportRow
from workflow.services import archives, audit, files, isolated, spreadsheets
from workflow.services.clock import local_date, utcnow
from workflow.storage import authorities_repo, cases_repo, register_repo, scope_repo, users_repo
from workflow.storage.models import (
    AuthorityRow,
    DesignationDecisionRow,
    ExportBaseEventRow,
    ExportBaseRow,
    RoundRow,
    UserRow,
)
from workflow.storage.uow import DbSession, UnitOfWork

PARSE_SECONDS = 10
PARSE_MEMORY = 1024 * archives.MB
MAX_COLUMNS = 30
SHEET = "出口基地名录"


@dataclass
class Entry:
    """A base in the register, with what the pages show beside it."""

    row: ExportBaseRow
    recertifies: ExportBaseRow | None = None  # the national base it re-certified
    recertified_by: ExportBaseRow | None = None  # the export innovation base it became
    events: list[ExportBaseEventRow] = field(default_factory=list)


@dataclass(frozen=True)
class Imported:
    """What an import did: bases added, bases whose entry changed, rows already so."""

    added: int
    updated: int
    unchanged: int

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged


# --- who may read and import -----------------------------------------------------------------

def _reader(s: DbSession, user_id: int | None) -> UserRow | None:
    """The user reading the register (None: the operator at the console reads it all)."""
    if user_id is None:
        return None
    return permissions.require(users_repo.user_by_id(s, user_id), "register.view")


def _scope(s: DbSession, user: UserRow | None) -> set[int] | None:
    """The authorities whose entries `user` may read; None: every authority. A province
    reads its own and its cities' (the tree of authorities); an applicant its own."""
    scope = Scope.NATIONAL if user is None else permissions.scope_of(user, "register.view")
    if scope is Scope.NATIONAL:
        return None
    if user is None or user.authority_id is None:
        return set()
    if scope is Scope.AUTHORITY_TREE:
        return set(s.scalars(scope_repo.tree_ids(user.authority_id)))
    return {user.authority_id}


def may_import(user: UserRow) -> bool:
    """Ministry reviewers keep the register of national bases (they import it)."""
    return permissions.allowed(user, "register.import")


# --- reading -------------------------------------------------------------------------------------

def _filters(authority: str | None, base_type: str | None, status: str | None) -> None:
    errors = []
    if authority and not re.fullmatch(r"[0-9]{6}", authority):
        errors.append(refuse("invalid_format", "省级商务主管部门代码应为 6 位数字",
                             "authority must be a 6-digit code", field="authority",
                             details={"value": authority[:20]}))
    if base_type and base_type not in {t.value for t in BaseType}:
        errors.append(refuse("invalid_choice", "基地类型不在允许范围内",
                             "type must be hightech, pharmaceutical, software or innovation",
                             field="type", details={"value": base_type[:30]}))
    if status and status not in {s.value for s in BaseStatus}:
        errors.append(refuse("invalid_choice", "状态应为已认定、限期整改或已撤销",
                             "status must be designated, rectifying or revoked",
                             field="status", details={"value": status[:30]}))
    if errors:
        raise ValidationFailed(*errors)


def listing(uow: UnitOfWork, user_id: int | None, *, authority: str | None = None,
            base_type: str | None = None, status: str | None = None) -> list[Entry]:
    """The register as `user_id` may read it, filtered by authority code, type and status."""
    _filters(authority, base_type, status)
    with uow.read():
        s = uow.session
        user = _reader(s, user_id)
        rows = register_repo.entries(s, authority_ids=_scope(s, user), authority_code=authority,
                                     base_type=base_type, status=status)
        return _entries(s, rows)


def _entries(s: DbSession, rows: list[ExportBaseRow]) -> list[Entry]:
    later = register_repo.recertified(s, [r.id for r in rows])
    by_id = {r.id: r for r in rows}
    return [Entry(r, recertifies=by_id.get(r.recertifies_id) if r.recertifies_id else None,
                  recertified_by=later.get(r.id)) for r in rows]


def entry(uow: UnitOfWork, user_id: int | None, base_id: int) -> Entry:
    """One base with its status over time (404 outside the reader's authority)."""
    with uow.read():
        s = uow.session
        user = _reader(s, user_id)
        row = register_repo.entry(s, base_id)
        scope = _scope(s, user)
        if row is None or (scope is not None and row.authority_id not in scope):
            raise scope_repo.not_found("base")
        recertifies = register_repo.entry(s, row.recertifies_id) if row.recertifies_id else None
        return Entry(row, recertifies, register_repo.recertified(s, [row.id]).get(row.id),
                     register_repo.events_of(s, row.id))


# --- the public register and designation decisions (授牌) ---------------------------------

@dataclass(frozen=True)
class PublicBase:
    """A base as the public register shows it: its name, authority, type (and field),
    designation date and document, and its status now with the decision behind it —
    never an applicant's figures (002 §六(三) publishes names)."""

    id: int
    name: str
    authority_zh: str
    authority_en: str
    region: str
    base_type: str
    industry_field: str | None
    designated_on: date
    designation_document: str | None
    status: str
    status_since: date
    status_decision: str | None  # the decision behind the status (approve, revoke, …)
    status_document: str | None


def public_register(uow: UnitOfWork, *, base_type: str | None = None,
                    status: str | None = None) -> list[PublicBase]:
    """Every base in the register (anyone, no login), filtered by type and status."""
    _filters(None, base_type, status)
    with uow.read():
        s = uow.session
        rows = register_repo.entries(s, base_type=base_type, status=status)
        latest = register_repo.latest_events(s, [r.id for r in rows])
        out = []
        for r in rows:
            event = latest.get(r.id)
            out.append(PublicBase(
                r.id, r.name, r.authority.name_zh, r.authority.name_en or r.authority.name_zh,
                r.authority.region, r.base_type, r.industry_field, r.designated_on,
                r.designation_document, r.status, r.status_since,
                event.decision if event is not None else None,
                event.document if event is not None else None))
        return out


@dataclass
class Decision:
    """A designation decision (授牌) and the bases it designated."""

    row: DesignationDecisionRow
    round_year: int
    bases: list[ExportBaseRow]


def designation_decision(uow: UnitOfWork, user_id: int, decision_id: int) -> Decision:
    """One designation decision with its bases, for its printed form (reviewers and
    applicants: the names it lists are public in the register)."""
    with uow.read():
        s = uow.session
        _reader(s, user_id)
        row = register_repo.decision(s, decision_id)
        if row is None:
            raise scope_repo.not_found("decision")
        rnd = s.get(RoundRow, row.round_id)
        return Decision(row, rnd.year if rnd is not None else row.year,
                        register_repo.designated_by(s, row.id))


def entry_id_of_case(uow: UnitOfWork, app_id: int) -> int | None:
    """The register entry a case's approval entered (for a link from its page, which
    checked the reader may see the case)."""
    with uow.read():
        row = register_repo.entry_of_case(uow.session, app_id)
        return row.id if row is not None else None


def choices(uow: UnitOfWork, user_id: int) -> list[ExportBaseRow]:
    """The bases an applicant's re-certification may name: its authority's national bases
    that are not revoked (002 §五(一))."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        if user.authority_id is None:
            return []
        return register_repo.recertifiable(s, user.authority_id)


# --- importing -------------------------------------------------------------------------------

def import_file(uow: UnitOfWork, user_id: int, filename: str, data: bytes, max_bytes: int,
                now: datetime | None = None) -> Imported:
    """Import the national bases from an Excel (.xlsx) or CSV file: every row or none;
    every error names its row and column. Bases already in the register are matched by
    authority, type and name: their document, date, status and note are brought up to
    the file's, a change of status recorded with its date."""
    now = now or utcnow()
    with uow.read():  # who may import, before the file is looked at
        permissions.require(users_repo.user_by_id(uow.session, user_id), "register.import")
    raw = _read_file(filename, data, max_bytes)  # no transaction held while parsing
    return import_rows(uow, user_id, raw, now, filename=filename)


def import_rows(uow: UnitOfWork, user_id: int, raw: list[list[Any]], now: datetime,
                filename: str | None = None) -> Imported:
    """Import rows of plain values (the heading first), as a file's are."""
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "register.import")
        authorities = authorities_repo.authorities_by_code(s)
        rows, errors = register.read_rows(raw, _spellings(authorities), local_date(now))
        if errors:
            raise ValidationFailed(*errors[:200])
        done = _store(s, rows, authorities, user, now)
        audit.append(s, "bases_imported", who=audit.Who.of(user), object_type="export_bases",
                     details={"file": (filename or "")[:200], "added": done.added,
                              "updated": done.updated, "unchanged": done.unchanged})
        uow.commit()
        return done


def _spellings(authorities: dict[str, AuthorityRow]) -> dict[str, str]:
    """Each way a file may name an authority (its code, its Chinese name) -> its code."""
    out = {code: code for code in authorities}
    out.update({a.name_zh: code for code, a in authorities.items()})
    return out


def _store(s: DbSession, rows: list[ImportRow], authorities: dict[str, AuthorityRow],
           user: UserRow, now: datetime) -> Imported:
    # one authority's entries are written by one import at a time (and not while its
    # quota is being counted: the same lock)
    for authority_id in sorted({authorities[r.authority_code].id for r in rows}):
        cases_repo.lock_authority(s, authority_id)
    added = updated = unchanged = 0
    for r in rows:
        authority = authorities[r.authority_code]
        row = register_repo.imported_entry(s, r, authority.id)
        if row is None:
            row = ExportBaseRow(authority_id=authority.id, name=r.name, base_type=r.base_type,
                                designation_document=r.designation_document,
                                designated_on=r.designated_on, status=r.status,
                                status_since=r.status_since, note=r.note, created_at=now,
                                updated_at=now)
            s.add(row)
            s.flush()
            _event(s, row, BaseStatus.DESIGNATED.value, r.designated_on, r.designation_document,
                   user, now)
            if r.status != BaseStatus.DESIGNATED:
                _event(s, row, r.status, r.status_since, None, user, now)
            added += 1
            continue
        before = (row.designation_document, row.designated_on, row.status, row.status_since,
                  row.note)
        status_changed = row.status != r.status
        row.designation_document, row.designated_on = r.designation_document, r.designated_on
        row.status, row.status_since, row.note = r.status, r.status_since, r.note
        if before == (row.designation_document, row.designated_on, row.status,
                      row.status_since, row.note):
            unchanged += 1
            continue
        row.updated_at = now
        if status_changed:
            _event(s, row, r.status, r.status_since, None, user, now)
        updated += 1
    return Imported(added, updated, unchanged)


def _event(s: DbSession, row: ExportBaseRow, status: str, on: date, document: str | None,
           user: UserRow, now: datetime) -> None:
    s.add(ExportBaseEventRow(base_id=row.id, status=status, effective_on=on, decision="import",
                             document=document, recorded_by_id=user.id, recorded_at=now))


# --- the file ------------------------------------------------------------------------------------

def _refused(code: str, zh: str, en: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(refuse(code, zh, en, field="file", details=details))


def _read_file(filename: str, data: bytes, max_bytes: int) -> list[list[Any]]:
    """The rows of an uploaded .xlsx (checked for zip bombs and DTDs first, parsed in a
    child process under a time and memory limit) or .csv (UTF-8 or GB 18030)."""
    if not data:
        raise _refused("empty_file", "文件为空", "the file is empty")
    if len(data) > max_bytes:
        raise _refused("file_too_large", f"文件超过 {max_bytes // (1024 * 1024)} MB 上限",
                       f"the file exceeds the {max_bytes // (1024 * 1024)} MB limit",
                       max_bytes=max_bytes)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext == "csv":
        return _read_csv(data)
    if ext != "xlsx" or files.sniff(data) != "xlsx":
        raise _refused("unsupported_type", "请上传 Excel 工作簿（.xlsx）或 CSV 文件（.csv）",
                       "upload an Excel workbook (.xlsx) or a CSV file (.csv)",
                       value=(filename or "")[:200])
    archives.inspect(data, archives.SPREADSHEET)
    try:
        rows, refusal = isolated.call(_read_xlsx, data, seconds=PARSE_SECONDS,
                                      memory_bytes=PARSE_MEMORY)
    except isolated.TimeLimitExceeded:
        raise _refused("parse_time_limit", f"文件在 {PARSE_SECONDS} 秒内未能读完（内容过多或结构异常）",
                       f"the file could not be read within {PARSE_SECONDS} seconds (too much "
                       "content or an odd structure)", limit_seconds=PARSE_SECONDS) from None
    except isolated.MemoryLimitExceeded:
        raise _refused("parse_memory_limit", "读取文件所需内存超过上限（内容过多或结构异常）",
                       "reading the file needs more memory than allowed (too much content "
                       "or an odd structure)") from None
    if refusal is not None:
        raise ValidationFailed(refusal)
    return rows


_UNREADABLE = (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, ParseError)


def _read_xlsx(data: bytes) -> tuple[list[list[Any]], Refusal | None]:
    """In the child: the first sheet's rows as plain values (openpyxl through defusedxml)."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl makes of it: not a workbook
        return [], _unreadable(exc)
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows = []
        for values in ws.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            rows.append([spreadsheets.plain(v) for v in values])
            if len(rows) > register.MAX_ROWS + 1:
                break
        return rows, None
    except _UNREADABLE as exc:
        return [], _unreadable(exc)
    finally:
        wb.close()


def _unreadable(exc: BaseException) -> Refusal:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return archives.dtd_refusal("xml")
        seen = seen.__cause__ or seen.__context__
    return refuse("not_a_spreadsheet", "文件不是有效的 Excel 工作簿（.xlsx）",
                  "the file is not a valid Excel workbook (.xlsx)", field="file")


def _read_csv(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel saves Chinese CSV as GB 18030
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _refused("invalid_encoding", "CSV 文件应为 UTF-8 或 GB18030 编码",
                       "a CSV file must be UTF-8 or GB 18030 encoded")
    try:
        rows = []
        for values in csv.reader(io.StringIO(text)):
            rows.append([spreadsheets.plain(v) for v in values[:MAX_COLUMNS]])
            if len(rows) > register.MAX_ROWS + 1:
                break
        return rows
    except csv.Error as exc:
        raise _refused("not_a_csv", "文件不是有效的 CSV 文件", "the file is not a valid CSV file",
                       hint=str(exc)[:200]) from None


def template_for(uow: UnitOfWork, user_id: int) -> bytes:
    """The template, for whoever may read the register."""
    with uow.read():
        _reader(uow.session, user_id)
    return template()


def template() -> bytes:
    """The .xlsx template of the register: its columns, one example row, and notes."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i, value=col.zh)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[get_column_letter(i)].width = 30 if col.name == "name" else 18
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填表说明")
    for line in (
        "出口基地名录导入模板：国家高新技术产品出口基地、国家医药出口基地、国家软件出口基地（商技发[2006]6号 五(一)）。",
        "省级商务主管部门：填写代码（如 420000）或名称（如 湖北省）。",
        "基地类型：高新技术产品出口基地、医药出口基地或软件出口基地。出口创新基地在系统中核准时自动登记，不需导入。",
        "认定日期、状态日期：YYYY-MM-DD。状态：已认定（默认）、限期整改或已撤销；状态日期默认为认定日期。",
        "同一省份、同一类型、同一名称的基地再次导入时更新原记录，状态变化记入历史。",
        "上传时全部数据逐项检查，有任何错误均不导入，并列出行号和列名。",
    ):
        notes.append(spreadsheets.row([line]))
    notes.column_dimensions["A"].width = 110
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
