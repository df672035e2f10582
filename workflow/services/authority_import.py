"""Reading a list of cities (code, name, parent) from an uploaded Excel workbook (.xlsx, its
first sheet) or a CSV file (UTF-8, or GB 18030 as Chinese Excel saves it): rows of plain
values for `workflow.authorities.check_rows`.

A workbook is read only after `archives.inspect` has passed it (no zip bomb, no DTD), in a
child process under a time and memory limit (`isolated.call`), with openpyxl parsing its XML
through defusedxml (the quarterly template's way, `quarterly_excel`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from defusedxml import DefusedXmlException
from openpyxl import load_workbook

from workflow.authorities import MAX_ROWS
from workflow.errors import Refusal, ValidationFailed, refuse
from workflow.services import archives, files, isolated, spreadsheets

PARSE_SECONDS = 10  # a list of a few hundred cities reads in well under a second
PARSE_MEMORY = 1024 * archives.MB  # the child's address space, openpyxl included

Rows = list[list[Any]]


def _refusal(code: str, zh: str, en: str, filename: str) -> ValidationFailed:
    return ValidationFailed(refuse(code, zh, en, field="file",
                                   details={"value": (filename or "")[:200]}))


def read_rows(filename: str, data: bytes, max_bytes: int) -> Rows:
    """The rows of an uploaded list, the heading row first; `ValidationFailed` naming the
    file for one that is empty, too big, of another type or unreadable."""
    name = (filename or "").strip()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not data:
        raise _refusal("empty_file", "文件为空", "the file is empty", name)
    if len(data) > max_bytes:
        raise ValidationFailed(refuse("file_too_large",
                                      f"文件超过 {max_bytes // (1024 * 1024)} MB 上限",
                                      f"the file exceeds the {max_bytes // (1024 * 1024)} MB limit",
                                      field="file", details={"max_bytes": max_bytes}))
    if ext == "xlsx" and files.sniff(data) == "xlsx":
        return _workbook(data)
    if ext in ("csv", "txt") and files.sniff(data) is None and b"\x00" not in data:
        return _csv(data)
    raise _refusal("unsupported_type", "请上传 Excel 工作簿（.xlsx）或 CSV 文件（.csv）",
                   "upload an Excel workbook (.xlsx) or a CSV file (.csv)", name)


def _csv(data: bytes) -> Rows:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        text = ""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    rows: Rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            rows.append([spreadsheets.plain(v) for v in row])
            if len(rows) > MAX_ROWS + 100:  # the checks stop at MAX_ROWS data rows
                break
    except csv.Error as exc:  # e.g. a field beyond the csv module's size limit
        raise ValidationFailed(refuse(
            "not_a_csv", f"第 {len(rows) + 1} 行无法按 CSV 读取", f"row {len(rows) + 1} cannot "
            "be read as CSV", field="file", details={"row": len(rows) + 1,
                                                      "reason": str(exc)[:100]})) from None
    return rows


def _workbook(data: bytes) -> Rows:
    archives.inspect(data, archives.SPREADSHEET)
    try:
        rows, problem = isolated.call(_read, data, seconds=PARSE_SECONDS,
                                      memory_bytes=PARSE_MEMORY)
    except isolated.TimeLimitExceeded:
        raise ValidationFailed(refuse(
            "parse_time_limit", f"文件在 {PARSE_SECONDS} 秒内未能读完（内容过多或结构异常）",
            f"the file could not be read within {PARSE_SECONDS} seconds (too much content or "
            "an odd structure)", field="file", details={"limit_seconds": PARSE_SECONDS})
        ) from None
    except isolated.MemoryLimitExceeded:
        raise ValidationFailed(refuse(
            "parse_memory_limit", "读取文件所需内存超过上限（内容过多或结构异常）",
            "reading the file needs more memory than allowed (too much content or an odd "
            "structure)", field="file")) from None
    if problem is not None:
        raise ValidationFailed(problem)
    return rows


def _read(data: bytes) -> tuple[Rows, Refusal | None]:
    """In the child: the first sheet's rows (values, not formulas), or why it is unreadable."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl makes of it: not a workbook
        return [], _unreadable(exc)
    try:
        rows: Rows = []
        for values in wb.worksheets[0].iter_rows(values_only=True):
            rows.append([spreadsheets.plain(v) for v in values])
            if len(rows) > MAX_ROWS + 100:
                break
        return rows, None
    except Exception as exc:  # noqa: BLE001 - a part openpyxl cannot make sense of
        return [], _unreadable(exc)
    finally:
        wb.close()


def _unreadable(exc: BaseException) -> Refusal:
    """defusedxml's refusal (openpyxl wraps it), or not a workbook at all."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return archives.dtd_refusal("xml")
        seen = seen.__cause__ or seen.__context__
    return refuse("not_a_spreadsheet", "文件不是有效的 Excel 工作簿（.xlsx）",
                  "the file is not a valid Excel workbook (.xlsx)", field="file")
