"""The quarterly data Excel template (.xlsx, openpyxl): writing it, and reading an upload.

An upload is read only after `archives.inspect` has passed it (no zip bomb, no DTD), in a
child process under a time and memory limit (`isolated.call`), with openpyxl parsing its
XML through defusedxml. What the rows mean is checked by the domain
(`workflow.quarterly_data.read_sheets`).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workflow.errors import Refusal, refuse
from workflow.form import Field
from workflow.quarterly_data import (
    BASE_COLUMNS,
    BASE_SHEET,
    ENTERPRISE_COLUMNS,
    ENTERPRISE_SHEET,
    HELP_SHEET,
    MAX_ROWS,
    QUARTER,
    QuarterData,
    header,
    not_a_spreadsheet,
    read_sheets,
)
from workflow.services import archives, isolated, spreadsheets

PARSE_SECONDS = 10  # a filled-in template of 2 x 2,000 rows reads in well under a second
PARSE_MEMORY = 1024 * archives.MB  # the child's address space, openpyxl included

# --- the template ------------------------------------------------------------------------

_BOLD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDEBF7")


def _sheet(ws: Any, columns: tuple[Field, ...]) -> None:
    for i, f in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i, value=header(f))
        cell.font, cell.fill = _BOLD, _FILL
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = 30 if f.kind == "text" else 22
    ws.freeze_panes = "A2"
    col = get_column_letter(columns.index(QUARTER) + 1)
    dv = DataValidation(type="whole", operator="between", formula1="1", formula2="4",
                        showErrorMessage=True, error="季度应为 1–4", errorTitle="季度")
    dv.add(f"{col}2:{col}{MAX_ROWS}")
    ws.add_data_validation(dv)


def template(heading: str, base_name: str = "", rows: list[QuarterData] | None = None
             ) -> bytes:
    """The .xlsx template: one sheet for the base, one for its key enterprises, and notes
    opening with `heading` (the programme's `[quarterly]`, citing its rule). `rows`
    pre-fills it (e.g. with what is on file)."""
    wb = Workbook()
    ws = wb.active
    ws.title = BASE_SHEET
    _sheet(ws, BASE_COLUMNS)
    we = wb.create_sheet(ENTERPRISE_SHEET)
    _sheet(we, ENTERPRISE_COLUMNS)
    for q in rows or []:  # what is on file, typed by the base: never run as a formula
        ws.append(spreadsheets.row([q.year, q.quarter, q.exports_10k_usd,
                                    q.hightech_exports_10k_usd, q.enterprise_count]))
        for e in q.enterprises:
            we.append(spreadsheets.row([q.year, q.quarter, e.get("name"),
                                        e.get("exports_10k_usd"),
                                        e.get("hightech_exports_10k_usd")]))
    wh = wb.create_sheet(HELP_SHEET)
    notes = [
        heading,
        f"基地：{base_name}" if base_name else "基地：",
        f"“{BASE_SHEET}”每个季度一行；“{ENTERPRISE_SHEET}”每个企业每个季度一行。",
        "金额单位为万美元（1 亿美元 = 10000 万美元），不得为负数；高新技术产品出口额不得大于出口额。",
        "只能报送已经结束的季度；同一季度重复上传时以最新一次为准，历史版本保留。",
        "上传时全部数据逐项检查，有任何错误均不导入，并列出工作表、行和列。",
    ]
    for line in notes:
        wh.append(spreadsheets.row([line]))
    wh.column_dimensions["A"].width = 110
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading an upload --------------------------------------------------------------------

def _time_limit() -> Refusal:
    return refuse("parse_time_limit",
                  f"文件在 {PARSE_SECONDS} 秒内未能读完（内容过多或结构异常），请使用系统生成的模板",
                  f"the file could not be read within {PARSE_SECONDS} seconds (too much content "
                  "or an odd structure); use the generated template", field="file",
                  details={"limit_seconds": PARSE_SECONDS})


def _memory_limit() -> Refusal:
    return refuse("parse_memory_limit", "读取文件所需内存超过上限（内容过多或结构异常），请使用系统生成的模板",
                  "reading the file needs more memory than allowed (too much content or an "
                  "odd structure); use the generated template", field="file")


def read_workbook(data: bytes, today: date) -> tuple[list[QuarterData], list[Refusal]]:
    """Every quarter in an uploaded workbook, or every error found (sheet, row, column);
    `ValidationFailed` for a file that may not be parsed at all (zip bomb, DTD)."""
    archives.inspect(data, archives.SPREADSHEET)
    try:
        return isolated.call(_read, data, today, seconds=PARSE_SECONDS,
                             memory_bytes=PARSE_MEMORY)
    except isolated.TimeLimitExceeded:
        return [], [_time_limit()]
    except isolated.MemoryLimitExceeded:
        return [], [_memory_limit()]


_UNREADABLE = (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, ParseError)


def _read(data: bytes, today: date) -> tuple[list[QuarterData], list[Refusal]]:
    """In the child: open the workbook and hand its two sheets' rows to the domain."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl makes of it: not a workbook
        return [], [_unreadable(exc)]
    try:
        sheets = {name: ([spreadsheets.plain(v) for v in r]
                         for r in wb[name].iter_rows(values_only=True))
                  for name in (BASE_SHEET, ENTERPRISE_SHEET) if name in wb.sheetnames}
        return read_sheets(sheets, today)
    except _UNREADABLE as exc:
        return [], [_unreadable(exc)]
    finally:
        wb.close()


def _unreadable(exc: BaseException) -> Refusal:
    """Why openpyxl could not read the file: defusedxml's refusal (it wraps it), or not a
    workbook at all."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return archives.dtd_refusal("xml")
        seen = seen.__cause__ or seen.__context__
    return not_a_spreadsheet()
