"""Quarterly data of a base and its key enterprises (002 §四(四) 每季度上报): the fields, their
units and checks, and the checks of the rows read from an uploaded template.

The columns a base reports (its totals, each key enterprise's figures) are its programme's,
`[[quarterly.columns]]` in its file (`parse_columns`); the year, the quarter and an
enterprise's name key the rows and are the system's. One definition shared by the web form,
the Excel upload and the API. An upload is checked
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

from workflow.errors import DefinitionError, Refusal, refuse
from workflow.form import Field, parse_value
from workflow.reporting import quarter_end, quarter_has_ended

FIRST_YEAR = 2000
MAX_ROWS = 2000
BASE_SHEET = "基地季度数据"
ENTERPRISE_SHEET = "重点企业"
HELP_SHEET = "填表说明"

# the rows' keys: the system's, never a programme's column
YEAR = Field("year", "年度", "Year", "int")
QUARTER = Field("quarter", "季度", "Quarter", "int")
NAME = Field("name", "企业名称", "Enterprise", "text", max_len=200)
ROW_KEYS = (YEAR.name, QUARTER.name, NAME.name)
# a base's figures are kept in its quarterly report's document and an enterprise's in its
# row of the report's list, each under its column's key: any key a programme defines. The
# re-evaluation reads these two by key (002 §六(二)); a programme without them reports none.
EXPORTS = "exports_10k_usd"
HIGHTECH_EXPORTS = "hightech_exports_10k_usd"
ENTERPRISES = "enterprises"  # a quarter's list of key enterprises: not a base's figure
SHEET_KINDS = ("base", "enterprise")
COLUMN_TYPES = ("int", "money", "pct", "text")
COLUMN_KEYS = {"key", "sheet", "zh", "en", "type", "unit_zh", "unit_en", "required",
               "not_more_than"}


@dataclass(frozen=True)
class Limit:
    """A figure that may not be more than another of the same row (high-tech exports are
    part of exports)."""

    sheet: str  # base | enterprise
    key: str
    limit: str


@dataclass(frozen=True)
class Columns:
    """What a base reports each quarter, as its programme's file says: its own figures and
    each key enterprise's (002 §四(四)), with their labels, units and types."""

    base: tuple[Field, ...]
    enterprise: tuple[Field, ...]
    limits: tuple[Limit, ...] = ()

    @property
    def base_sheet(self) -> tuple[Field, ...]:
        """The base sheet's columns: the year and quarter, then the base's figures."""
        return (YEAR, QUARTER, *self.base)

    @property
    def enterprise_sheet(self) -> tuple[Field, ...]:
        """The enterprise sheet's columns: year, quarter and name, then its figures."""
        return (YEAR, QUARTER, NAME, *self.enterprise)

    def limits_of(self, sheet: str) -> tuple[Limit, ...]:
        return tuple(x for x in self.limits if x.sheet == sheet)


def parse_columns(file: str, raw: Any) -> Columns | None:
    """The `[[quarterly.columns]]` tables, checked (errors name the file and the key); None
    when there are none."""
    if raw is None:
        return None

    def fail(key: str, what: str) -> DefinitionError:
        return DefinitionError(f"{file}: {key}: {what}")

    if not isinstance(raw, list) or not raw:
        raise fail("quarterly.columns", "must be a list of [[quarterly.columns]] tables")
    out: dict[str, list[Field]] = {"base": [], "enterprise": []}
    wanted: list[tuple[str, str, str, str]] = []
    for i, entry in enumerate(raw):
        key = entry.get("key") if isinstance(entry, dict) else None
        where = f"quarterly.columns[{i}]" + (f" ({key})" if isinstance(key, str) else "")
        if not isinstance(entry, dict):
            raise fail(where, "must be a table")
        unknown = sorted(set(entry) - COLUMN_KEYS)
        if unknown:
            raise fail(f"{where}.{unknown[0]}", "is not a column setting (one of "
                       f"{', '.join(sorted(COLUMN_KEYS))})")
        texts = {}
        for name in ("key", "sheet", "zh", "en"):
            value = entry.get(name)
            if not isinstance(value, str) or not value.strip():
                raise fail(f"{where}.{name}", "must be a non-empty text")
            texts[name] = value
        key, sheet = texts["key"], texts["sheet"]
        if not key.isidentifier() or not key.isascii():
            raise fail(f"{where}.key", f"{key!r} is not a name (letters, digits, _)")
        if sheet not in SHEET_KINDS:
            raise fail(f"{where}.sheet", f"unknown sheet {sheet!r} (one of "
                       f"{', '.join(SHEET_KINDS)})")
        if key in ROW_KEYS:
            raise fail(f"{where}.key", f"{key!r} keys the rows: the system's own column")
        if any(f.name == key for f in out[sheet]):
            raise fail(f"{where}.key", f"{key!r} is defined twice for the {sheet} sheet")
        if sheet == "base" and key == ENTERPRISES:
            raise fail(f"{where}.key", f"{key!r} is the quarter's list of key enterprises")
        kind = entry.get("type")
        if kind not in COLUMN_TYPES:
            raise fail(f"{where}.type", f"unknown type {kind!r} (one of "
                       f"{', '.join(COLUMN_TYPES)})")
        units = [entry.get("unit_zh"), entry.get("unit_en")]
        if any(u is not None for u in units) and not all(
                isinstance(u, str) and u.strip() for u in units):
            raise fail(f"{where}.unit_zh", "unit_zh and unit_en go together, both texts")
        required = entry.get("required", True)
        if not isinstance(required, bool):
            raise fail(f"{where}.required", "must be true or false")
        limit = entry.get("not_more_than")
        if limit is not None:
            if not isinstance(limit, str):
                raise fail(f"{where}.not_more_than", "must be the key of a column")
            wanted.append((where, sheet, key, limit))
        out[sheet].append(Field(key, texts["zh"], texts["en"], str(kind),
                                str(units[0] or ""), str(units[1] or ""), required=required))
    if not out["base"]:
        raise fail("quarterly.columns", "no column is on the base sheet")
    limits = []
    for where, sheet, key, limit in wanted:
        if not any(f.name == limit and f.kind in ("money", "int", "pct") for f in out[sheet]):
            raise fail(f"{where}.not_more_than", f"{limit!r} is not a figure of the {sheet} "
                       "sheet")
        limits.append(Limit(sheet, key, limit))
    return Columns(tuple(out["base"]), tuple(out["enterprise"]), tuple(limits))


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
    """One quarter of a base, checked: its figures (by its programme's base column keys,
    typed) and its key enterprises (each a row of its programme's enterprise columns,
    figures as text)."""

    year: int
    quarter: int
    figures: dict[str, Any] = field(default_factory=dict)
    enterprises: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, clean: dict[str, Any], enterprises: list[dict[str, Any]] | None = None
           ) -> QuarterData:
        """A quarter from the checked values of its base row."""
        return cls(clean["year"], clean["quarter"],
                   {k: v for k, v in clean.items() if k not in ROW_KEYS},
                   enterprises or [])

    def figure(self, key: str) -> Any:
        return self.figures.get(key)


def stored_row(clean: dict[str, Any]) -> dict[str, Any]:
    """An enterprise's checked row as kept in the report's list: decimals as their text."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in clean.items()
            if k not in (YEAR.name, QUARTER.name)}


def stored_figures(figures: Mapping[str, Any]) -> dict[str, Any]:
    """A base's checked figures as kept in its report's document: decimals as their exact
    text, counts as numbers, nothing for an empty one."""
    return {k: format(v, "f") if isinstance(v, Decimal) else v for k, v in figures.items()
            if v is not None}


def read_figures(doc: Mapping[str, Any] | None, columns: tuple[Field, ...]
                 ) -> dict[str, Any]:
    """A report's document typed by the programme's base columns (money and pct as
    decimals, int as whole numbers); a key no column defines now, or a value filed before
    its column's type changed, is kept as stored."""
    kinds = {f.name: f.kind for f in columns}
    out: dict[str, Any] = {}
    for key, value in (doc or {}).items():
        kind, out[key] = kinds.get(key), value
        if value is None or kind in (None, "text"):
            continue
        try:
            out[key] = int(value) if kind == "int" else Decimal(str(value))
        except (ValueError, ArithmeticError):
            pass
    return out


# --- checking one quarter (the form and every upload row) ----------------------------

def check_values(raw: dict[str, Any], columns: tuple[Field, ...], today: date,
                 where: Any = None, limits: tuple[Limit, ...] = ()
                 ) -> tuple[dict[str, Any], list[Refusal]]:
    """Parse one row / form; `where(field_name)` says where an error is (a cell or field);
    `limits`: the figures that may not be more than another."""
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
    by_name = {f.name: f for f in columns}
    for x in limits:
        value, cap = clean.get(x.key), clean.get(x.limit)
        if x.key in by_name and value is not None and cap is not None and value > cap:
            other = by_name[x.limit]
            code = "exceeds_exports" if x.limit == EXPORTS else "exceeds_limit"
            bad(by_name[x.key], code, f"不能大于{other.zh}", f"cannot exceed {other.en.lower()}",
                value)
    return clean, errors


def _unknown_keys(keys: Iterable[Any], known: set[str], field_of: Any, label_zh: str,
                  label_en: str) -> list[Refusal]:
    """A refusal for each key the programme defines no column for, naming it."""
    return [refuse("unknown_field", f"{label_zh}未知字段 {key[:40]}",
                   f"{label_en}unknown field {key[:40]}", field=field_of(key[:40]))
            for key in sorted(k for k in map(str, keys) if k not in known)]


def _check_enterprises(raw_rows: Any, cols: Columns, today: date
                       ) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """A quarter's key enterprises sent as a list (the form, the API): each row checked
    against the programme's enterprise columns, a repeated name refused."""
    raw_rows = raw_rows or []
    if not isinstance(raw_rows, list):
        return [], [refuse("invalid_enterprises", "重点企业应为列表", "enterprises must be a list",
                           field=ENTERPRISES)]
    rows: list[dict[str, Any]] = []
    errors: list[Refusal] = []
    seen: set[str] = set()
    known = {NAME.name, *(c.name for c in cols.enterprise)}
    for i, ent in enumerate(raw_rows):
        ent = ent if isinstance(ent, dict) else {}
        if all(v in (None, "") for v in ent.values()):
            continue
        errors += _unknown_keys(ent, known, lambda key, i=i: f"enterprises[{i}].{key}",
                                f"重点企业第 {i + 1} 行：", f"enterprise row {i + 1}: ")
        clean, errs = check_values(
            ent, (NAME, *cols.enterprise), today,
            lambda name, i=i: {"field": f"enterprises[{i}].{name}",
                               "label_zh": f"重点企业第 {i + 1} 行 ",
                               "label_en": f"enterprise row {i + 1}: "},
            cols.limits_of("enterprise"))
        errors += errs
        if not errs and clean["name"] in seen:
            errors.append(refuse("duplicate_row", f"重点企业第 {i + 1} 行：企业重复",
                                 f"enterprise row {i + 1} is a duplicate",
                                 field=f"enterprises[{i}].name"))
        elif not errs:
            seen.add(clean["name"])
            rows.append(stored_row(clean))
    return rows, errors


def check_quarter(data: Mapping[str, Any], cols: Columns, today: date
                  ) -> tuple[QuarterData | None, list[Refusal]]:
    """One quarter sent whole (the web form, the API): the year, the quarter, the base's
    figures under its programme's column keys and its key enterprises; every error, each
    naming its field (a key the programme does not define is refused by name)."""
    clean, errors = check_values(dict(data), cols.base_sheet, today,
                                 limits=cols.limits_of("base"))
    errors = _unknown_keys(data, {*(f.name for f in cols.base_sheet), ENTERPRISES},
                           lambda key: key, "", "") + errors
    enterprises, ent_errors = _check_enterprises(data.get(ENTERPRISES), cols, today)
    errors += ent_errors
    if errors:
        return None, errors
    return QuarterData.of(clean, enterprises), []


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


def read_sheets(sheets: Mapping[str, Iterable[Sequence[Any]]], today: date, cols: Columns
                ) -> tuple[list[QuarterData], list[Refusal]]:
    """Every quarter in the template's two sheets (each the rows' values, the heading row
    first, read lazily) with the programme's columns `cols`, or every error found (sheet,
    row, column)."""
    errors: list[Refusal] = []
    for name in (BASE_SHEET, ENTERPRISE_SHEET):
        if name not in sheets:
            errors.append(refuse("missing_sheet", f"缺少工作表“{name}”，请使用系统生成的模板",
                                 f"the sheet '{name}' is missing; use the generated template",
                                 field=name, details={"sheet": name}))
    if errors:
        return [], errors
    base_rows = _rows(BASE_SHEET, sheets[BASE_SHEET], cols.base_sheet, errors)
    ent_rows = _rows(ENTERPRISE_SHEET, sheets[ENTERPRISE_SHEET], cols.enterprise_sheet, errors)
    quarters: dict[tuple[int, int], QuarterData] = {}
    first_row: dict[tuple[Any, ...], int] = {}
    for sheet, columns, rows in ((BASE_SHEET, cols.base_sheet, base_rows),
                                 (ENTERPRISE_SHEET, cols.enterprise_sheet, ent_rows)):
        limits = cols.limits_of("base" if sheet == BASE_SHEET else "enterprise")
        for n, raw in rows:
            def where(name: str, sheet: str = sheet, n: int = n,
                      columns: tuple[Field, ...] = columns) -> dict[str, Any]:
                letter = column_letter([f.name for f in columns].index(name) + 1)
                return {"field": f"{sheet}!{letter}{n}",
                        "label_zh": f"工作表“{sheet}”第 {n} 行第 {letter} 列 ",
                        "label_en": f"sheet '{sheet}', row {n}, column {letter}: ",
                        "details": {"sheet": sheet, "row": n, "column": letter}}

            clean, errs = check_values(raw, columns, today, where, limits)
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
                quarters[(y, q)] = QuarterData.of(clean)
            elif (y, q) not in quarters:
                errors.append(_cell_error(
                    sheet, n, 2, "quarter_not_in_base_sheet",
                    f"{y} 年第 {q} 季度在“{BASE_SHEET}”中没有对应行",
                    f"{y} Q{q} has no row in the sheet '{BASE_SHEET}'", q))
            else:
                quarters[(y, q)].enterprises.append(stored_row(clean))
    if not quarters and not errors:
        errors.append(refuse("empty_upload", f"工作表“{BASE_SHEET}”中没有数据行",
                             f"the sheet '{BASE_SHEET}' has no data rows", field=BASE_SHEET,
                             details={"sheet": BASE_SHEET}))
    if errors:
        return [], errors
    return [quarters[k] for k in sorted(quarters)], []
