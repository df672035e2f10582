"""Excel exports (.xlsx, openpyxl): any filtered list of applications, and the dashboard.

Headers are Chinese with their units (高新技术产品出口额（亿美元）), dates are Excel dates,
figures are numbers; every cell goes through `spreadsheets.cell`, so text an applicant typed
is never run as a formula. The list is written page by page (keyset) into a write-only workbook,
so memory stays flat however many cases there are. File names are Chinese, sent per
RFC 5987 (filename*=UTF-8''…) with an ASCII fallback.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, request, send_file
from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from web import dashboard as dashboard_page
from web.auth import current_user, requires
from web.extensions import uow
from workflow import form
from workflow.programme import all_kinds, kind_def, known, programme, state_def
from workflow.regions import Region
from workflow.rules import EXISTING_BASE_ZH, FIELD_ZH
from workflow.services import cases, catalog, spreadsheets
from workflow.services.clock import local_date
from workflow.services.clock import today as china_today
from workflow.storage.models import ApplicationRow

bp = Blueprint("exports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 200
DATE_FORMAT = "yyyy-mm-dd"
BOLD = Font(bold=True)


def _header(f: form.Field) -> str:
    return f"{f.zh}（{f.unit_zh}）" if f.unit_zh else f.zh


def _reader(f: form.Field) -> Any:
    """How a column of the form is read from a row: the title, or the stored document."""
    if f.name == form.TITLE:
        return lambda r: r.applicant_name
    words = {value: zh for value, zh, _en in f.options}  # a choice's: as the case page says

    def read(r: Any) -> Any:
        value = f.decode((r.form or {}).get(f.name))
        return words.get(value, value) if words and isinstance(value, str) else value
    return read


def _kind_zh(key: str) -> str:
    found = kind_def(key)
    return found.zh if found else key


# (header, how to read it from a row, kind): the columns of notice 002's form
def _state_zh(state: str) -> str:
    defined = state_def(state)
    return defined.zh if defined else state


CASE_COLUMNS: list[tuple[str, Any, str]] = [
    ("编号", lambda r: r.id, "int"),
    ("申报年度", lambda r: r.round.year, "int"),
    ("省级商务主管部门", lambda r: r.authority.province.name_zh, "text"),
    ("地区", lambda r: Region(r.authority.region).zh, "text"),
    ("申报类型", lambda r: _kind_zh(r.kind), "text"),
    ("产业领域／原基地类型", lambda r: FIELD_ZH.get(r.industry_field or "")
     or EXISTING_BASE_ZH.get(r.existing_base_type or "") or None, "text"),
    ("状态", lambda r: _state_zh(r.state), "text"),
    ("当前环节截止日期", lambda r: r.due_on, "date"),
    ("提交日期", lambda r: local_date(r.submitted_at) if r.submitted_at else None, "date"),
    ("公示开始日期", lambda r: r.notice_published_on, "date"),
    ("公示截止日期", lambda r: r.notice_ends_on, "date"),
]
CITY_COLUMN = (  # a city's case: the city whose bureau drafted it (002 §六(三))
    "申报地市", lambda r: r.authority.name_zh if r.authority.is_city else None, "text")


def columns(code: str | None) -> list[tuple[str, Any, str]]:
    """The sheet's columns: the case's, then the form's fields of the programme filtered on
    (notice 002's when the list is not filtered by programme), then the city."""
    the_form = programme(code).form if code else programme().form
    return [*CASE_COLUMNS, *((_header(f), _reader(f), _kind_of(f)) for f in the_form.fields),
            CITY_COLUMN]


def _kind_of(f: form.Field) -> str:
    return {"date": "date", "int": "int", "money": "number", "pct": "number"}.get(f.kind, "text")


TABLE_CASE_COLUMNS: list[tuple[str, Any, str]] = [  # on each row of a table's sheet
    ("编号", lambda r: r.id, "int"),
    ("申请单位全称", lambda r: r.applicant_name, "text"),
]


def _main_rows(table: form.Rows) -> Any:
    """How the main table's rows (notice 002's products, kept in their own table) are read."""
    return lambda r: [{f.name: getattr(p, f.name, None) for f in table.fields}
                      for p in r.products]


def _document_rows(table: form.Rows) -> Any:
    """How a further table's rows are read from the form's stored document."""
    return lambda r: [{f.name: f.decode(row.get(f.name)) for f in table.fields}
                      for row in (r.form or {}).get(table.name) or []]


def tables(code: str | None) -> list[tuple[form.Rows, Any]]:
    """The form's tables (the main export products; a cluster's leading enterprises, 002
    §六(二)(4)), each with how its rows are read from a case: one sheet each."""
    the_form = programme(code).form if code else programme().form
    main = [(the_form.rows, _main_rows(the_form.rows))] if the_form.rows else []
    return [*main, *((t, _document_rows(t)) for t in the_form.tables)]


def _filters() -> dict[str, Any]:
    """The inbox's query string (tab, state, region, authority, round, kind, q) read the
    way the inbox reads it, as `cases.list_applications` arguments; unknown values are
    ignored, as there. No tab means the inbox's default: what waits on me."""
    a = request.args
    out: dict[str, Any] = {"waiting_on_me": a.get("tab") != "all"}
    if state_def(a.get("state") or "") is not None:
        out["state"] = a["state"]
    if a.get("region") in {r.value for r in Region}:
        out["region"] = a["region"]
    if a.get("authority", "").isdigit():
        out["authority"] = a["authority"]
    if a.get("round", "").isdigit():
        out["round_year"] = int(a["round"])
    if a.get("kind") in all_kinds():
        out["kind"] = a["kind"]
    if a.get("programme") in {p.code for p in known()}:
        out["programme"] = a["programme"]
    q = a.get("q", "").strip()[:100]
    if q:
        out["q"] = q
    if a.get("mine") == "1":  # assigned to me (issue 17)
        out["mine"] = True
    return out


def applications(user_id: int, filters: dict[str, Any]) -> Iterator[ApplicationRow]:
    """Every application the list would show, all pages, in its order."""
    cursor = None
    while True:
        page = cases.list_applications(uow(), user_id, limit=PAGE, cursor=cursor, count=False,
                                       **filters)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _cell(ws: WriteOnlyWorksheet, value: Any, kind: str) -> Any:
    if isinstance(value, datetime):
        value = local_date(value)
    cell = WriteOnlyCell(ws, value=spreadsheets.cell(value))
    if kind == "date" and isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif kind == "number" and isinstance(value, Decimal):
        cell.number_format = "#,##0.00##"
    return cell


def _head_row(ws: WriteOnlyWorksheet, headers: list[str]) -> list[Any]:
    out = []
    for h in headers:
        c = WriteOnlyCell(ws, value=spreadsheets.cell(h))
        c.font = BOLD
        c.alignment = Alignment(wrap_text=True, vertical="center")
        out.append(c)
    return out


def _send(wb: Workbook, filename: str) -> Any:
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - sent below
    wb.save(spool)
    spool.seek(0)
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.get("/exports/applications.xlsx")
@requires("case.export")
def applications_xlsx() -> Any:
    """The filtered list (same scope and filters as the inbox), every page of it; then a
    sheet per table of the form, each row with its case's number and applicant."""
    user = current_user()
    assert user is not None
    filters = _filters()
    rows = applications(user.id, filters)
    first = next(rows, None)  # scope errors (e.g. an admin) surface before any bytes
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("申报列表")
    ws.freeze_panes = "A2"
    cols = columns(filters.get("programme"))
    for i, width in enumerate([8, 10, 16, 8, 10, 14, 12] + [14] * (len(cols) - 7)):
        ws.column_dimensions[_letter(i)].width = width
    ws.append(_head_row(ws, [h for h, _, _ in cols]))
    sheets = []
    # a `city` column holds a city's code once picked from the form's list: its name here
    city_names = {a.code: a.name_zh for a in catalog.authorities(uow(), user.id)}
    for table, read_rows in tables(filters.get("programme")):
        sheet = wb.create_sheet(table.zh[:31])
        sheet.freeze_panes = "A2"
        for i, width in enumerate([8, 30] + [16] * len(table.fields)):
            sheet.column_dimensions[_letter(i)].width = width
        sheet.append(_head_row(sheet, [h for h, _, _ in TABLE_CASE_COLUMNS]
                               + [_header(f) for f in table.fields]))
        sheets.append((sheet, table, read_rows))
    if first is not None:
        for row in _chain(first, rows):
            ws.append([_cell(ws, read(row), kind) for _, read, kind in cols])
            for sheet, table, read_rows in sheets:
                case = [(read(row), kind) for _, read, kind in TABLE_CASE_COLUMNS]
                for values in read_rows(row):  # a cell is written once: new ones per row
                    sheet.append([_cell(sheet, v, kind) for v, kind in case]
                                 + [_cell(sheet, city_names.get(values.get(f.name), values.get(f.name))
                                          if f.kind == "city" else values.get(f.name), _kind_of(f))
                                    for f in table.fields])
    return _send(wb, f"申报列表_{china_today():%Y%m%d}.xlsx")


@bp.get("/dashboard.xlsx")
@requires("dashboard.view")
def dashboard_xlsx() -> Any:
    """The dashboard's tables, one sheet each, plus the goals."""
    user = current_user()
    assert user is not None
    d = dashboard_page.load(user.id)
    with force_locale("zh"):  # Chinese headers whatever the page language
        tables = dashboard_page.tables_of(d)
    wb = Workbook(write_only=True)
    goals = wb.create_sheet("工作目标")
    goals.column_dimensions["A"].width = 40
    goals.column_dimensions["B"].width = 18
    goals.append(_head_row(goals, ["指标", "数值"]))
    share = d.share
    named = d.programme.name_zh if d.programme else ""
    rows: list[tuple[str, Any, str]] = [
        ("专项", named, "text"), ("统计范围", d.scope_zh, "text"),
        ("已认定基地（家）", d.designated, "int"), ("目标基地数（家）", d.goal_bases, "int")]
    if d.goals is not None:
        rows.append(("目标年度", d.goals.bases_by, "int"))
    if d.goals is None or d.goal_share_pct is not None:  # a count alone has no share (003)
        rows += [
            ("数据年度", share.data_year, "int"),
            ("已认定基地高新技术产品出口额（亿美元）", share.bases_100m_usd, "number"),
            ("全国高新技术产品出口额（亿美元）", share.national_100m_usd
             if share.national_100m_usd is not None else "未录入", "number"),
            ("占全国比重（%）", share.pct if share.pct is not None else "无法计算", "number"),
            ("目标比重（%）", d.goal_share_pct, "number")]
    for label, value, kind in rows:
        goals.append([_cell(goals, label, "text"), _cell(goals, value, kind)])
    for t in tables:
        ws = wb.create_sheet(t.title[:31])
        for i in range(len(t.columns)):
            ws.column_dimensions[_letter(i)].width = 30 if i == 0 else 16
        ws.append(_head_row(ws, [c.header for c in t.columns]))
        for row in t.rows:
            ws.append([_cell(ws, v, {"decimal": "number", "pct": "number"}.get(c.kind, c.kind))
                       for v, c in zip(row, t.columns, strict=True)])
    return _send(wb, f"统计_{d.scope_zh}_{china_today():%Y%m%d}.xlsx")


def _chain(first: ApplicationRow, rest: Iterator[ApplicationRow]) -> Iterator[ApplicationRow]:
    yield first
    yield from rest


def _letter(i: int) -> str:
    return get_column_letter(i + 1)
