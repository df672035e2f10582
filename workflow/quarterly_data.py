"""Quarterly data of a base and its key enterprises (002 §四(四) 每季度上报): the fields, their
units and checks, the Excel template and reading an uploaded workbook.

One definition shared by the web form, the Excel upload and the API. An upload is checked
in full before anything is stored; every error names its sheet, row and column.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workflow.assessment import quarter_end, quarter_has_ended
from workflow.errors import Refusal, refuse
from workflow.form import Field, parse_value

FIRST_YEAR = 2000
MAX_ROWS = 2000
BASE_SHEET = "基地季度数据"
ENTERPRISE_SHEET = "重点企业"
HELP_SHEET = "填表说明"

YEAR = Field("year", "年度", "Year", "int")
QUARTER = Field("quarter", "季度", "Quarter", "int")
EXPORTS = Field("exports_10k_usd", "出口额", "Exports", "money", "万美元", "USD 10k")
HIGHTECH = Field("hightech_exports_10k_usd", "高新技术产品出口额", "High-tech exports", "money",
                 "万美元", "USD 10k")
COUNT = Field("enterprise_count", "企业数", "Number of enterprises", "int", "个",
              "enterprises", required=False)
NAME = Field("name", "企业名称", "Enterprise", "text", max_len=200)
BASE_COLUMNS = (YEAR, QUARTER, EXPORTS, HIGHTECH, COUNT)
ENTERPRISE_COLUMNS = (YEAR, QUARTER, NAME, EXPORTS, HIGHTECH)


def header(f: Field) -> str:
    """The column heading in Chinese with its unit, e.g. 出口额（万美元）."""
    return f"{f.zh}（{f.unit_zh}）" if f.unit_zh else f.zh


@dataclass
class QuarterData:
    """One quarter of a base, checked: figures in 万美元 and its key enterprises."""

    year: int
    quarter: int
    exports_10k_usd: Decimal
    hightech_exports_10k_usd: Decimal
    enterprise_count: int | None = None
    enterprises: list[dict[str, Any]] = field(default_factory=list)


# --- checking one quarter (the form and every upload row) ----------------------------

def check_values(raw: dict[str, Any], columns: tuple[Field, ...], today: date,
                 where: Any = None) -> tuple[dict[str, Any], list[Refusal]]:
    """Parse one row / form; `where(field_name)` says where an error is (a cell or field)."""
    where = where or (lambda name: {"field": name})
    clean: dict[str, Any] = {}
    errors: list[Refusal] = []

    def bad(f: Field, code: str, zh: str, en: str, value: Any) -> None:
        loc = where(f.name)
        errors.append(refuse(code, f"{loc.get('label_zh', '')}{f.zh}：{zh}",
                             f"{loc.get('label_en', '')}{f.en}: {en}", field=loc["field"],
                             details={**loc.get("details", {}),
                                      "value": "" if value is None else str(value)[:100]}))

    for f in columns:
        value, err = parse_value(f, raw.get(f.name))
        if err is not None:
            bad(f, err.code, err.zh.split("：", 1)[-1], err.en.split(": ", 1)[-1],
                raw.get(f.name))
            continue
        if value is None and f.required:
            bad(f, "required", "必填", "is required", None)
            continue
        clean[f.name] = value
    year, quarter = clean.get("year"), clean.get("quarter")
    if quarter is not None and not 1 <= quarter <= 4:
        bad(QUARTER, "invalid_quarter", "应为 1–4", "must be 1 to 4", quarter)
        clean.pop("quarter")
        quarter = None
    if year is not None and not FIRST_YEAR <= year <= today.year:
        bad(YEAR, "invalid_year", f"应在 {FIRST_YEAR}–{today.year} 之间",
            f"must be between {FIRST_YEAR} and {today.year}", year)
        clean.pop("year")
    elif year is not None and quarter is not None and not quarter_has_ended(year, quarter, today):
        end = quarter_end(year, quarter)
        bad(QUARTER, "quarter_in_future", f"{year} 年第 {quarter} 季度尚未结束（{end}），不能报送",
            f"{year} Q{quarter} has not ended yet ({end}): it cannot be reported", quarter)
    hi, ex = clean.get(HIGHTECH.name), clean.get(EXPORTS.name)
    if hi is not None and ex is not None and hi > ex:
        bad(HIGHTECH, "exceeds_exports", "不能大于出口额", "cannot exceed exports", hi)
    return clean, errors


# --- the Excel template ----------------------------------------------------------------

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


def template(base_name: str = "", rows: list[QuarterData] | None = None) -> bytes:
    """The .xlsx template: one sheet for the base, one for its key enterprises, and notes.
    `rows` pre-fills it (e.g. with what is on file)."""
    wb = Workbook()
    ws = wb.active
    ws.title = BASE_SHEET
    _sheet(ws, BASE_COLUMNS)
    we = wb.create_sheet(ENTERPRISE_SHEET)
    _sheet(we, ENTERPRISE_COLUMNS)
    for q in rows or []:
        ws.append([q.year, q.quarter, q.exports_10k_usd, q.hightech_exports_10k_usd,
                   q.enterprise_count])
        for e in q.enterprises:
            we.append([q.year, q.quarter, e.get("name"), e.get("exports_10k_usd"),
                       e.get("hightech_exports_10k_usd")])
    wh = wb.create_sheet(HELP_SHEET)
    notes = [
        "科技兴贸出口创新基地季度数据报送模板（商技发[2006]6号 四(四)：每季度上报出口创新基地及其重点企业的数据）",
        f"基地：{base_name}" if base_name else "基地：",
        f"“{BASE_SHEET}”每个季度一行；“{ENTERPRISE_SHEET}”每个企业每个季度一行。",
        "金额单位为万美元（1 亿美元 = 10000 万美元），不得为负数；高新技术产品出口额不得大于出口额。",
        "只能报送已经结束的季度；同一季度重复上传时以最新一次为准，历史版本保留。",
        "上传时全部数据逐项检查，有任何错误均不导入，并列出工作表、行和列。",
    ]
    for line in notes:
        wh.append([line])
    wh.column_dimensions["A"].width = 110
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading an upload -------------------------------------------------------------------

def _cell_error(sheet: str, row: int, col: int, code: str, zh: str, en: str,
                value: Any = None) -> Refusal:
    ref = f"{get_column_letter(col)}{row}"
    return refuse(code, f"工作表“{sheet}”第 {row} 行第 {get_column_letter(col)} 列：{zh}",
                  f"sheet '{sheet}', row {row}, column {get_column_letter(col)}: {en}",
                  field=f"{sheet}!{ref}",
                  details={"sheet": sheet, "row": row, "column": get_column_letter(col),
                           "value": "" if value is None else str(value)[:100]})


def _not_a_spreadsheet() -> Refusal:
    return refuse("not_a_spreadsheet", "文件不是有效的 Excel 工作簿（.xlsx），请使用系统生成的模板",
                  "the file is not a valid Excel workbook (.xlsx); use the generated template",
                  field="file")


def _rows(ws: Any, columns: tuple[Field, ...], errors: list[Refusal]
          ) -> list[tuple[int, dict[str, Any]]]:
    """Data rows (row number, {field: raw value}) after checking the header row."""
    sheet = ws.title
    rows = ws.iter_rows(values_only=True)
    head = next(rows, None) or ()
    for i, f in enumerate(columns, start=1):
        got = head[i - 1] if len(head) >= i else None
        if str(got or "").strip() != header(f):
            errors.append(_cell_error(sheet, 1, i, "bad_header", f"表头应为“{header(f)}”",
                                      f"the heading must be '{header(f)}'", got))
    out: list[tuple[int, dict[str, Any]]] = []
    for n, values in enumerate(rows, start=2):
        values = tuple(values[:len(columns)]) + (None,) * (len(columns) - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if len(out) >= MAX_ROWS:
            errors.append(_cell_error(sheet, n, 1, "too_many_rows",
                                      f"行数超过 {MAX_ROWS} 行上限", f"more than {MAX_ROWS} rows"))
            break
        out.append((n, {f.name: v for f, v in zip(columns, values, strict=True)}))
    return out


def read_workbook(data: bytes, today: date) -> tuple[list[QuarterData], list[Refusal]]:
    """Every quarter in an uploaded workbook, or every error found (sheet, row, column)."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        return [], [_not_a_spreadsheet()]
    errors: list[Refusal] = []
    try:
        for name in (BASE_SHEET, ENTERPRISE_SHEET):
            if name not in wb.sheetnames:
                errors.append(refuse("missing_sheet", f"缺少工作表“{name}”，请使用系统生成的模板",
                                     f"the sheet '{name}' is missing; use the generated template",
                                     field=name, details={"sheet": name}))
        if errors:
            return [], errors
        base_rows = _rows(wb[BASE_SHEET], BASE_COLUMNS, errors)
        ent_rows = _rows(wb[ENTERPRISE_SHEET], ENTERPRISE_COLUMNS, errors)
    finally:
        wb.close()
    quarters: dict[tuple[int, int], QuarterData] = {}
    first_row: dict[tuple[Any, ...], int] = {}
    for sheet, columns, rows in ((BASE_SHEET, BASE_COLUMNS, base_rows),
                                 (ENTERPRISE_SHEET, ENTERPRISE_COLUMNS, ent_rows)):
        for n, raw in rows:
            def where(name: str, sheet: str = sheet, n: int = n,
                      columns: tuple[Field, ...] = columns) -> dict[str, Any]:
                col = [f.name for f in columns].index(name) + 1
                letter = get_column_letter(col)
                return {"field": f"{sheet}!{letter}{n}",
                        "label_zh": f"工作表“{sheet}”第 {n} 行第 {letter} 列 ",
                        "label_en": f"sheet '{sheet}', row {n}, column {letter}: ",
                        "details": {"sheet": sheet, "row": n, "column": letter}}

            clean, errs = check_values(raw, columns, today, where)
            errors += errs
            if errs:
                continue
            key: tuple[Any, ...] = (clean["year"], clean["quarter"])
            if sheet == ENTERPRISE_SHEET:
                key = (*key, clean["name"])
            dup_key = (sheet, *key)
            if dup_key in first_row:
                errors.append(_cell_error(
                    sheet, n, 1, "duplicate_row", f"与第 {first_row[dup_key]} 行重复",
                    f"duplicates row {first_row[dup_key]}", ", ".join(map(str, key))))
                continue
            first_row[dup_key] = n
            y, q = clean["year"], clean["quarter"]
            if sheet == BASE_SHEET:
                quarters[(y, q)] = QuarterData(y, q, clean["exports_10k_usd"],
                                               clean["hightech_exports_10k_usd"],
                                               clean.get("enterprise_count"))
            elif (y, q) not in quarters:
                errors.append(_cell_error(
                    sheet, n, 2, "quarter_not_in_base_sheet",
                    f"{y} 年第 {q} 季度在“{BASE_SHEET}”中没有对应行",
                    f"{y} Q{q} has no row in the sheet '{BASE_SHEET}'", q))
            else:
                quarters[(y, q)].enterprises.append(
                    {"name": clean["name"], "exports_10k_usd": str(clean["exports_10k_usd"]),
                     "hightech_exports_10k_usd": str(clean["hightech_exports_10k_usd"])})
    if not quarters and not errors:
        errors.append(refuse("empty_upload", f"工作表“{BASE_SHEET}”中没有数据行",
                             f"the sheet '{BASE_SHEET}' has no data rows", field=BASE_SHEET,
                             details={"sheet": BASE_SHEET}))
    if errors:
        return [], errors
    return [quarters[k] for k in sorted(quarters)], []
