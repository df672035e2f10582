"""Quarterly data of a base and its key enterprises (002 §四(四) 每季度上报): the fields, their
units and checks, and the checks of the rows read from an uploaded template.

One definition shared by the web form, the Excel upload and the API. An upload is checked
in full before anything is stored; every error names its sheet, row and column. Writing
and reading the .xlsx itself (openpyxl) is `workflow.services.quarterly_excel`'s job: this
module sees rows of plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from workflow.errors import Refusal, refuse
from workflow.form import Field, parse_value
from workflow.reporting import quarter_end, quarter_has_ended

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


def column_letter(n: int) -> str:
    """The spreadsheet column of 1-based index `n`: 1 -> A, 27 -> AA."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


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


# --- the rows of an upload -----------------------------------------------------------------

def _cell_error(sheet: str, row: int, col: int, code: str, zh: str, en: str,
                value: Any = None) -> Refusal:
    letter = column_letter(col)
    return refuse(code, f"工作表“{sheet}”第 {row} 行第 {letter} 列：{zh}",
                  f"sheet '{sheet}', row {row}, column {letter}: {en}",
                  field=f"{sheet}!{letter}{row}",
                  details={"sheet": sheet, "row": row, "column": letter,
                           "value": "" if value is None else str(value)[:100]})


def not_a_spreadsheet() -> Refusal:
    return refuse("not_a_spreadsheet", "文件不是有效的 Excel 工作簿（.xlsx），请使用系统生成的模板",
                  "the file is not a valid Excel workbook (.xlsx); use the generated template",
                  field="file")


def _rows(sheet: str, cells: Iterable[Sequence[Any]], columns: tuple[Field, ...],
          errors: list[Refusal]) -> list[tuple[int, dict[str, Any]]]:
    """Data rows (row number, {field: raw value}) after checking the header row; reads no
    further than the row after the last one allowed."""
    rows = iter(cells)
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


def read_sheets(sheets: Mapping[str, Iterable[Sequence[Any]]], today: date
                ) -> tuple[list[QuarterData], list[Refusal]]:
    """Every quarter in the template's two sheets (each the rows' values, the heading row
    first, read lazily), or every error found (sheet, row, column)."""
    errors: list[Refusal] = []
    for name in (BASE_SHEET, ENTERPRISE_SHEET):
        if name not in sheets:
            errors.append(refuse("missing_sheet", f"缺少工作表“{name}”，请使用系统生成的模板",
                                 f"the sheet '{name}' is missing; use the generated template",
                                 field=name, details={"sheet": name}))
    if errors:
        return [], errors
    base_rows = _rows(BASE_SHEET, sheets[BASE_SHEET], BASE_COLUMNS, errors)
    ent_rows = _rows(ENTERPRISE_SHEET, sheets[ENTERPRISE_SHEET], ENTERPRISE_COLUMNS, errors)
    quarters: dict[tuple[int, int], QuarterData] = {}
    first_row: dict[tuple[Any, ...], int] = {}
    for sheet, columns, rows in ((BASE_SHEET, BASE_COLUMNS, base_rows),
                                 (ENTERPRISE_SHEET, ENTERPRISE_COLUMNS, ent_rows)):
        for n, raw in rows:
            def where(name: str, sheet: str = sheet, n: int = n,
                      columns: tuple[Field, ...] = columns) -> dict[str, Any]:
                letter = column_letter([f.name for f in columns].index(name) + 1)
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
