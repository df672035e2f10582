"""The register of export bases (出口基地名录): every national 高新技术产品 / 医药 / 软件
export base, and every export innovation base this system designates, with its authority,
type, designation document and date, and its status over time.

Two rules of 002 read it, and nothing else: re-certification (重新认定) is for an existing
national 高新技术产品出口基地, 医药出口基地 or 软件出口基地 only (002 §五(一), §六(一)), so a
re-certification names its base here; and a province's quota of new bases depends on
whether it already has bases (002 §六(三)): it has them while the register holds one of
its bases that is not revoked.

This module also checks the rows of an imported register (Excel or CSV): every error names
its row and column, and nothing is imported while any row is wrong. Reading the file
itself is `workflow.services.bases`'s job; this module sees rows of plain values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from workflow.errors import Refusal, refuse


class BaseType(StrEnum):
    HIGHTECH = "hightech"  # 国家高新技术产品出口基地
    PHARMACEUTICAL = "pharmaceutical"  # 国家医药出口基地
    SOFTWARE = "software"  # 国家软件出口基地
    INNOVATION = "innovation"  # 科技兴贸出口创新基地, designated by this system

    @property
    def zh(self) -> str:
        return TYPE_ZH[self]

    @property
    def en(self) -> str:
        return TYPE_EN[self]


TYPE_ZH = {BaseType.HIGHTECH: "高新技术产品出口基地", BaseType.PHARMACEUTICAL: "医药出口基地",
           BaseType.SOFTWARE: "软件出口基地", BaseType.INNOVATION: "科技兴贸出口创新基地"}
TYPE_EN = {BaseType.HIGHTECH: "High-tech product export base",
           BaseType.PHARMACEUTICAL: "Pharmaceutical export base",
           BaseType.SOFTWARE: "Software export base",
           BaseType.INNOVATION: "Export innovation base"}
# 002 §五(一): the national bases a re-certification may start from; they enter the
# register by import, the export innovation bases by approval in this system
NATIONAL = (BaseType.HIGHTECH, BaseType.PHARMACEUTICAL, BaseType.SOFTWARE)


class BaseStatus(StrEnum):
    DESIGNATED = "designated"  # 已认定
    RECTIFYING = "rectifying"  # 限期整改
    REVOKED = "revoked"  # 已撤销

    @property
    def zh(self) -> str:
        return STATUS_ZH[self]

    @property
    def en(self) -> str:
        return self.value


STATUS_ZH = {BaseStatus.DESIGNATED: "已认定", BaseStatus.RECTIFYING: "限期整改",
             BaseStatus.REVOKED: "已撤销"}


# The designation decision (授牌) of approved bases: one per round and day of approval,
# covering every base approved in that round that day, numbered per year of issue. The
# form of the number follows the ministry's letters (商技函〔2006〕N号); 002 itself sets no
# form — an interpretation, the text a ministry reviewer types at approval prevails.
DECISION_DOCUMENT = "商技函〔{year}〕{number}号"


def decision_document(year: int, number: int) -> str:
    """The designation decision's document number (文号), e.g. 商技函〔2006〕1号."""
    return DECISION_DOCUMENT.format(year=year, number=number)


def counts_as_existing(status: str) -> bool:
    """A base in the register is an existing base (002 §六(三)) until it is revoked."""
    return status != BaseStatus.REVOKED


@dataclass(frozen=True)
class ExistingBase:
    """A register entry as the rules read it: the base a re-certification names."""

    id: int
    name: str
    base_type: str
    status: str
    authority_code: str


def named_base_refusal(base: ExistingBase, authority_code: str,
                       declared_type: str | None = None) -> Refusal | None:
    """Why `base` may not be the base of a re-certification drafted in `authority_code`
    (002 §五(一), §六(一)): another authority's, not a national base, revoked, or of
    another type than the form says; None if it may."""
    details = {"base_id": base.id, "base": base.name}
    if base.authority_code != authority_code:
        return refuse("base_of_another_authority",
                      f"“{base.name}”不是本省（区、市）的出口基地，只能重新认定本省（区、市）的现有基地",
                      f"'{base.name}' belongs to another authority: only your own authority's "
                      "existing bases can be re-certified", field="existing_base_id",
                      details=details)
    if base.base_type not in NATIONAL:
        return refuse("base_not_recertifiable",
                      f"“{base.name}”不是国家高新技术产品、医药或软件出口基地，不能重新认定（002 §五(一)）",
                      f"'{base.name}' is not a national high-tech product, pharmaceutical or "
                      "software export base: it cannot be re-certified (002 §五(一))",
                      field="existing_base_id", details=details)
    if base.status == BaseStatus.REVOKED:
        return refuse("base_revoked", f"“{base.name}”的基地资格已撤销，不能重新认定",
                      f"'{base.name}' has been revoked: it cannot be re-certified",
                      field="existing_base_id", details=details)
    if declared_type and declared_type != base.base_type:
        return refuse("base_type_mismatch",
                      f"原基地类型与出口基地名录不符：“{base.name}”是{TYPE_ZH[BaseType(base.base_type)]}",
                      f"the existing base's type does not match the register: '{base.name}' is "
                      f"a {TYPE_EN[BaseType(base.base_type)].lower()}", field="existing_base_type",
                      details={**details, "register_type": base.base_type,
                               "value": declared_type[:30]})
    return None


def recertification_refusal(base: ExistingBase | None, authority_code: str,
                            declared_type: str | None = None,
                            claimed_by: int | None = None) -> Refusal | None:
    """002 §五(一), §六(一): a re-certification names an existing national base of its own
    authority from the register, and no other case of that base is recommended or
    designated already (so a new base labelled a re-certification cannot get round the
    quota of §六(三)). Asked of the kinds whose definition says `names_base`."""
    if base is None:
        return refuse("existing_base_required",
                      "重新认定须从出口基地名录中选定本省（区、市）的现有国家高新技术产品、医药或软件出口基地"
                      "（002 §五(一)、§六(一)）",
                      "a re-certification must name its existing national high-tech product, "
                      "pharmaceutical or software export base from the register of bases "
                      "(002 §五(一), §六(一))", field="existing_base_id")
    refusal = named_base_refusal(base, authority_code, declared_type)
    if refusal is not None:
        return refusal
    if claimed_by is not None:
        return refuse("base_already_claimed",
                      f"“{base.name}”已有另一件重新认定申报（编号 {claimed_by}）被推荐或核准",
                      f"another re-certification of '{base.name}' (case {claimed_by}) is "
                      "already recommended or approved", field="existing_base_id",
                      details={"base_id": base.id, "case": claimed_by})
    return None


# --- the rows of an imported register --------------------------------------------------------

MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    en: str
    required: bool = True
    max_len: int = 200


AUTHORITY = Column("authority", "省级商务主管部门", "Authority")
NAME = Column("name", "基地名称", "Base")
TYPE = Column("base_type", "基地类型", "Type")
DOCUMENT = Column("designation_document", "认定文号", "Designation document", max_len=100)
DESIGNATED_ON = Column("designated_on", "认定日期", "Designated on")
STATUS = Column("status", "状态", "Status", required=False)
STATUS_ON = Column("status_since", "状态日期", "Status since", required=False)
NOTE = Column("note", "备注", "Note", required=False, max_len=300)
COLUMNS = (AUTHORITY, NAME, TYPE, DOCUMENT, DESIGNATED_ON, STATUS, STATUS_ON, NOTE)


@dataclass(frozen=True)
class ImportRow:
    """One checked row of an imported register: a national base and its status."""

    row: int  # the row number in the file (the heading is row 1)
    authority_code: str
    name: str
    base_type: str
    designation_document: str
    designated_on: date
    status: str
    status_since: date
    note: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a national base in the register: its authority, type and name."""
        return (self.authority_code, self.base_type, self.name)


def _headers(col: Column) -> set[str]:
    return {col.zh, col.en.lower(), col.name}


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def parse_date(raw: Any) -> date | None:
    """A date cell: a date, or text 2001-09-20, 2001/9/20, 2001.9.20 or 2001年9月20日."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    m = _DATE.match(str(raw))
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _choice(raw: str, labels: Mapping[str, str]) -> str | None:
    """The code for `raw`: the code itself or its Chinese label (国家 prefix optional)."""
    text = raw.strip()
    for code, zh in labels.items():
        if text in (code, zh, f"国家{zh}"):
            return code
    return None


def row_error(row: int, col: Column, code: str, zh: str, en: str, value: Any = None) -> Refusal:
    """An error of one cell: its row and column, in words and in `field` (rows[3].name)."""
    return refuse(code, f"第 {row} 行“{col.zh}”：{zh}", f"row {row}, {col.en}: {en}",
                  field=f"rows[{row}].{col.name}",
                  details={"row": row, "column": col.zh,
                           "value": "" if value is None else str(value)[:100]})


def read_rows(rows: Iterable[Sequence[Any]], authorities: Mapping[str, str], today: date
              ) -> tuple[list[ImportRow], list[Refusal]]:
    """The bases in an imported register (the heading row first, columns in any order), or
    every error found. `authorities` maps each accepted spelling of an authority (its code,
    its Chinese name) to its code."""
    it = iter(rows)
    head = [str(h or "").strip() for h in next(it, None) or ()]
    where: dict[str, int] = {}
    errors: list[Refusal] = []
    for col in COLUMNS:
        found = [i for i, h in enumerate(head) if h in _headers(col) or h.lower() in _headers(col)]
        if found:
            where[col.name] = found[0]
        elif col.required:
            errors.append(refuse("missing_column", f"缺少“{col.zh}”列（第 1 行为表头）",
                                 f"the column '{col.zh}' ({col.en}) is missing (row 1 is "
                                 "the heading)", field=f"columns.{col.name}",
                                 details={"row": 1, "column": col.zh}))
    if errors:
        return [], errors
    out: list[ImportRow] = []
    first_row: dict[tuple[str, str, str], int] = {}
    for n, values in enumerate(it, start=2):
        cells = {name: (values[i] if i < len(values) else None) for name, i in where.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue
        if len(out) + len(errors) >= MAX_ROWS:
            errors.append(row_error(n, NAME, "too_many_rows", f"行数超过 {MAX_ROWS} 行上限",
                                    f"more than {MAX_ROWS} rows"))
            break
        parsed, row_errors = _read_row(n, cells, authorities, today)
        errors += row_errors
        if parsed is None:
            continue
        if parsed.key in first_row:
            errors.append(row_error(n, NAME, "duplicate_row", f"与第 {first_row[parsed.key]} 行重复",
                                    f"duplicates row {first_row[parsed.key]}", parsed.name))
            continue
        first_row[parsed.key] = n
        out.append(parsed)
    if not out and not errors:
        errors.append(refuse("empty_upload", "文件中没有数据行", "the file has no data rows",
                             field="file"))
    return ([], errors) if errors else (out, [])


def _read_row(n: int, cells: dict[str, Any], authorities: Mapping[str, str], today: date
              ) -> tuple[ImportRow | None, list[Refusal]]:
    errors: list[Refusal] = []
    text: dict[str, str | None] = {}
    for col in COLUMNS:
        raw = cells.get(col.name)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # a code typed as a number: 420000.0
        value = None if raw is None or isinstance(raw, date) else str(raw).strip() or None
        if value is not None and len(value) > col.max_len:
            errors.append(row_error(n, col, "too_long", f"不得超过 {col.max_len} 个字符",
                                    f"at most {col.max_len} characters", value))
            value = None
        text[col.name] = value
        if col.required and value is None and not isinstance(raw, date):
            errors.append(row_error(n, col, "required", "必填", "is required"))
    authority = base_type = None
    if text["authority"] is not None:
        authority = authorities.get(text["authority"])
        if authority is None:
            errors.append(row_error(n, AUTHORITY, "unknown_authority",
                                    "不是系统中的省级商务主管部门（填写代码如 420000 或名称如 湖北省）",
                                    "is not an authority of this system (a code such as 420000 "
                                    "or a name such as 湖北省)", text["authority"]))
    if text["base_type"] is not None:
        base_type = _choice(text["base_type"], {t.value: TYPE_ZH[t] for t in NATIONAL})
        if base_type is None:
            errors.append(row_error(n, TYPE, "invalid_base_type",
                                    "应为高新技术产品出口基地、医药出口基地或软件出口基地"
                                    "（出口创新基地由系统核准时登记，不能导入）",
                                    "must be a high-tech product, pharmaceutical or software "
                                    "export base (export innovation bases enter the register "
                                    "on approval, not by import)", text["base_type"]))
    designated_on = _date_cell(n, DESIGNATED_ON, cells.get("designated_on"), today, errors)
    status = BaseStatus.DESIGNATED.value
    if text["status"] is not None:
        found = _choice(text["status"], {s.value: STATUS_ZH[s] for s in BaseStatus})
        if found is None:
            errors.append(row_error(n, STATUS, "invalid_status", "应为已认定、限期整改或已撤销",
                                    "must be designated, rectifying or revoked", text["status"]))
        else:
            status = found
    since = _date_cell(n, STATUS_ON, cells.get("status_since"), today, errors)
    if since is not None and designated_on is not None and since < designated_on:
        errors.append(row_error(n, STATUS_ON, "before_designation", "不能早于认定日期",
                                "cannot be before the designation date", since))
    if errors or authority is None or base_type is None or designated_on is None:
        return None, errors
    return ImportRow(n, authority, str(text["name"]), base_type,
                     str(text["designation_document"]), designated_on, status,
                     since or designated_on, text["note"]), []


def _date_cell(n: int, col: Column, raw: Any, today: date, errors: list[Refusal]) -> date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    day = parse_date(raw)
    if day is None:
        errors.append(row_error(n, col, "invalid_date", "日期格式应为 YYYY-MM-DD",
                                "must be a date YYYY-MM-DD", raw))
    elif day > today:
        errors.append(row_error(n, col, "date_in_future", "不能晚于今天",
                                "cannot be later than today", day))
        return None
    return day
