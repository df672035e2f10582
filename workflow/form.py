"""The application form as a programme defines it: sections, fields with their type and
unit, a table of rows, cross-field checks — and their validation.

A programme's file holds its form (`[form]`, see programmes/mofcom-2006-6.toml for the 申报书
of 002); `parse_form` compiles it once, and the web form, the API, the JSON Schema, the
stored document and the `submit` guard all read the compiled `FormDef`. A draft may be
incomplete but never wrong: types, ranges and cross-field checks run on every save, required
fields only when the case is submitted.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from workflow.errors import DefinitionError, Refusal, refuse

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ()]{5,24}[0-9]$")
PCT_MIN, PCT_MAX = Decimal(-100), Decimal(10000)
MAX_DECIMAL = Decimal("1e12")
MAX_INT = 2_147_483_647  # counts are stored in INTEGER columns


CHECKS = ("not_more_than", "same_scale")
TITLE = "applicant_name"  # every form has it: the case's name, kept beside the document
TYPES = ("text", "email", "phone", "date", "int", "money", "pct", "choice", "bool")


@dataclass(frozen=True)
class Field:
    name: str
    zh: str
    en: str
    kind: str  # one of TYPES
    unit_zh: str = ""
    unit_en: str = ""
    required: bool = True
    section: str = "basic"
    max_len: int = 200
    kinds: tuple[str, ...] = ()  # the application kinds that have it (empty: all)
    options: tuple[tuple[str, str, str], ...] = ()  # a choice's (value, zh, en)
    help_zh: str = ""
    help_en: str = ""

    def decode(self, raw: Any) -> Any:
        """Its value as stored in the form's document, typed."""
        return _decode(self, raw)

    def applies_to(self, kind: str | None) -> bool:
        return not self.kinds or kind in self.kinds

    @property
    def only_for(self) -> str:
        """The kinds that have it, space-separated ('' for all): the form hides it for others."""
        return " ".join(self.kinds)


@dataclass(frozen=True)
class KindDef:
    key: str
    zh: str
    en: str
    industry_field: bool = False  # asks for one of the round's fields (002 §五(二))
    names_base: bool = False  # names the existing base it re-certifies (002 §五(一))


@dataclass(frozen=True)
class Section:
    key: str
    zh: str
    en: str
    hint_zh: str = ""
    hint_en: str = ""


@dataclass(frozen=True)
class Rows:
    """A table of rows on the form (002: the main export products)."""

    name: str
    zh: str
    en: str
    fields: tuple[Field, ...]
    min_rows: int = 0
    section: str = ""  # the section of the form it is shown in (empty: the last)


@dataclass(frozen=True)
class Check:
    """A check across fields. `not_more_than`: `field` (or the sum of a row column times
    `factor`) must not be more than `limit`. `same_scale`: `limit` must not be more than
    `ratio` times that figure — a figure thousands of times its peer was most likely typed
    in the wrong unit (万美元 into an 亿美元 box)."""

    check: str
    limit: str
    zh: str
    en: str
    field: str | None = None
    rows_sum: str | None = None
    factor: Decimal = Decimal(1)
    ratio: Decimal = Decimal(1000)


@dataclass(frozen=True)
class FormDef:
    kinds: tuple[KindDef, ...]
    sections: tuple[Section, ...]
    fields: tuple[Field, ...]
    rows: Rows | None = None
    checks: tuple[Check, ...] = ()
    by_name: dict[str, Field] = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})

    @property
    def kind_keys(self) -> tuple[str, ...]:
        return tuple(k.key for k in self.kinds)

    def kind(self, key: str) -> KindDef | None:
        return next((k for k in self.kinds if k.key == key), None)

    def kind_label(self, key: str, locale: str = "zh") -> str:
        k = self.kind(key)
        if k is None:
            return key
        return k.en if locale.startswith("en") else k.zh

    def in_section(self, section: str) -> list[Field]:
        return [f for f in self.fields if f.section == section]

    def clean(self, data: dict[str, Any]) -> tuple[dict[str, Any], list[Refusal]]:
        """Parse the fields present in `data`; return (clean values, refusals)."""
        clean: dict[str, Any] = {}
        errors: list[Refusal] = []
        for name, raw in data.items():
            f = self.by_name.get(name)
            if f is None:
                continue
            value, err = parse_value(f, raw)
            if err:
                errors.append(err)
            else:
                clean[name] = value
        return clean, errors

    def clean_rows(self, rows: Any) -> tuple[list[dict[str, Any]], list[Refusal]]:
        """Parse the table's rows [{column: value}, …]; empty rows are dropped."""
        if self.rows is None or rows is None:
            return [], []
        name = self.rows.name
        if not isinstance(rows, list):
            return [], [refuse(f"invalid_{name}", f"{self.rows.zh}应为列表",
                               f"{self.rows.en.lower()} must be a list", field=name)]
        out: list[dict[str, Any]] = []
        errors: list[Refusal] = []
        first = self.rows.fields[0]
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append(refuse(f"invalid_{name}", f"第 {i + 1} 行格式不正确",
                                     f"row {i + 1} is malformed", field=f"{name}[{i}]"))
                continue
            parsed, bad = {}, []
            for f in self.rows.fields:
                value, err = parse_value(f, row.get(f.name), f"{name}[{i}].")
                parsed[f.name] = value
                if err:
                    bad.append(err)
            errors += bad
            if bad or all(v is None for v in parsed.values()):
                continue
            if parsed[first.name] is None:
                errors.append(_bad(first, "required", "必填", "is required", "", f"{name}[{i}]."))
                continue
            out.append(parsed)
        return out, errors

    def missing(self, kind: str, values: dict[str, Any], rows: list[Any]) -> list[Refusal]:
        """What `submit` needs and the draft does not have yet."""
        out = []
        for f in self.fields:
            if f.applies_to(kind) and f.required and values.get(f.name) in (None, ""):
                out.append(refuse("required", f"{f.zh}：必填", f"{f.en}: is required",
                                  field=f.name))
        if self.rows is not None and len(rows) < self.rows.min_rows:
            out.append(refuse("required", f"{self.rows.zh}：至少填写 {self.rows.min_rows} 行",
                              f"{self.rows.en}: at least {self.rows.min_rows} row(s) required",
                              field=self.rows.name))
        return out

    def cross_checks(self, values: dict[str, Any], rows: list[dict[str, Any]]) -> list[Refusal]:
        """The checks across fields whose figures are all present."""
        out = []
        for c in self.checks:
            limit = values.get(c.limit)
            if c.field is not None:
                value = values.get(c.field)
            else:
                column = c.rows_sum or ""
                amounts = [Decimal(r[column]) for r in rows if r.get(column) is not None]
                value = sum(amounts, Decimal(0)) * c.factor if amounts else None
            if value is None or limit is None:
                continue
            if c.check == "same_scale":
                if Decimal(value) <= 0 or Decimal(limit) <= Decimal(value) * c.ratio:
                    continue
                out.append(refuse("unit_suspect", c.zh, c.en, field=c.limit,
                                  details={"value": str(limit), "compared_with": str(value),
                                           "ratio": str(c.ratio)}))
                continue
            if Decimal(value) <= Decimal(limit):
                continue
            where = c.field or (self.rows.name if self.rows else c.limit)
            out.append(refuse("inconsistent_figures", c.zh, c.en, field=where,
                              details={"value": str(value), "limit": str(limit),
                                       "limit_field": c.limit}))
        return out

    # the stored document: one JSON object per application, exact (decimals and dates as
    # strings), read back into the fields' types
    def merged(self, doc: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
        """The stored document with `values` written over it (None clears a field); the
        title is not in it (it is its own column)."""
        out = dict(doc or {})
        for k, v in values.items():
            if k not in self.by_name or k == TITLE:
                continue
            if v is None:
                out.pop(k, None)
            else:
                out[k] = _encode(v)
        return out

    def decode(self, doc: dict[str, Any] | None, title: str | None = None) -> dict[str, Any]:
        """Every field's value, typed, from the stored document and the title column."""
        doc = doc or {}
        out = {f.name: _decode(f, doc.get(f.name)) for f in self.fields}
        out[TITLE] = title
        return out

    def json_schema(self, title: str = "") -> dict[str, Any]:
        """The form as JSON Schema (draft 2020-12), for the API's documents."""
        props = {f.name: _schema(f) for f in self.fields}
        if self.rows is not None:
            props[self.rows.name] = {
                "type": "array", "title": self.rows.zh, "description": self.rows.en,
                "items": {"type": "object",
                          "properties": {f.name: _schema(f) for f in self.rows.fields}}}
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
                "type": "object", "properties": props,
                "x-required-on-submit": [f.name for f in self.fields if f.required],
                "x-kinds": {k.key: {"zh": k.zh, "en": k.en} for k in self.kinds}}


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def _decode(f: Field, raw: Any) -> Any:
    if raw is None:
        return None
    if f.kind in ("money", "pct"):
        return Decimal(str(raw))
    if f.kind == "date":
        return date.fromisoformat(str(raw))
    if f.kind == "int":
        return int(raw)
    if f.kind == "bool":
        return bool(raw)
    return raw


def _schema(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"title": f.zh, "description": f.en + (f" ({f.unit_en})" if f.unit_en
                                                                 else "")}
    if f.kind == "int":
        out.update(type="integer", minimum=0, maximum=MAX_INT)
    elif f.kind == "money":
        out.update(type="string", pattern=r"^\d+(\.\d{1,4})?$", format="decimal")
    elif f.kind == "pct":
        out.update(type="string", pattern=r"^-?\d+(\.\d{1,2})?$", format="decimal")
    elif f.kind == "date":
        out.update(type="string", format="date")
    elif f.kind == "bool":
        out.update(type="boolean")
    elif f.kind == "choice":
        out.update(type="string", enum=[o[0] for o in f.options])
    else:
        out.update(type="string", maxLength=f.max_len)
        if f.kind == "email":
            out["format"] = "email"
    if f.unit_zh:
        out["x-unit"] = {"zh": f.unit_zh, "en": f.unit_en}
    if f.kinds:
        out["x-kinds"] = list(f.kinds)
    return out


def _bad(f: Field, code: str, zh: str, en: str, value: Any, prefix: str = "") -> Refusal:
    return refuse(code, f"{f.zh}：{zh}", f"{f.en}: {en}", field=prefix + f.name,
                  details={"value": "" if value is None else str(value)[:200]})


def parse_value(f: Field, raw: Any, prefix: str = "") -> tuple[Any, Refusal | None]:
    """Turn raw input into the field's type; (value, None) or (None, refusal)."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None, None
    if f.kind in ("text", "email", "phone"):
        if not isinstance(raw, str):
            return None, _bad(f, "not_text", "应为文字", "must be text", raw, prefix)
        s = raw.strip()
        if len(s) > f.max_len:
            return None, _bad(f, "too_long", f"不得超过 {f.max_len} 个字符",
                              f"at most {f.max_len} characters", raw, prefix)
        if f.kind == "email" and not EMAIL_RE.match(s):
            return None, _bad(f, "invalid_email", "电子信箱格式不正确",
                              "is not a valid e-mail address", raw, prefix)
        if f.kind == "phone" and not PHONE_RE.match(s):
            return None, _bad(f, "invalid_phone", "电话号码格式不正确（例：010-65197376）",
                              "is not a valid phone number (e.g. 010-65197376)", raw, prefix)
        return s, None
    if f.kind == "date":
        if isinstance(raw, date):
            return raw, None
        try:
            return date.fromisoformat(str(raw).strip()), None
        except ValueError:
            return None, _bad(f, "invalid_date", "日期格式应为 YYYY-MM-DD",
                              "must be a date YYYY-MM-DD", raw, prefix)
    if f.kind == "bool":
        if isinstance(raw, bool):
            return raw, None
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on", "是"):
            return True, None
        if text in ("false", "0", "no", "off", "否"):
            return False, None
        return None, _bad(f, "not_yes_no", "应为“是”或“否”", "must be yes or no", raw, prefix)
    if f.kind == "choice":
        values = [o[0] for o in f.options]
        if str(raw).strip() in values:
            return str(raw).strip(), None
        return None, _bad(f, "not_a_choice", "请从列表中选择", "must be one of the listed values",
                          raw, prefix)
    if isinstance(raw, bool):
        return None, _bad(f, "not_a_number", "应为数字", "must be a number", raw, prefix)
    if f.kind == "pct" and isinstance(raw, str) and raw.strip().endswith("%"):
        raw = raw.strip()[:-1]  # "35%" is 35 (percent): the unit is unambiguous
    try:
        num = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None, _bad(f, "not_a_number", "应为数字", "must be a number", raw, prefix)
    if not num.is_finite():
        return None, _bad(f, "not_a_number", "应为数字", "must be a number", raw, prefix)
    if f.kind == "int":
        if num != num.to_integral_value():
            return None, _bad(f, "not_an_integer", "应为整数", "must be a whole number", raw,
                              prefix)
        if num < 0:
            return None, _bad(f, "negative", "不能为负数", "must not be negative", raw, prefix)
        if num > MAX_INT:
            return None, _bad(f, "too_large", "数值过大", "is too large", raw, prefix)
        return int(num), None
    if f.kind == "pct":
        if not PCT_MIN <= num <= PCT_MAX:
            return None, _bad(f, "pct_out_of_range", "应在 −100 至 10000 之间",
                              "must be between -100 and 10,000", raw, prefix)
        return num.quantize(Decimal("0.01")), None
    if num < 0:
        return None, _bad(f, "negative", "不能为负数", "must not be negative", raw, prefix)
    if num > MAX_DECIMAL:
        return None, _bad(f, "too_large", "数值过大", "is too large", raw, prefix)
    return num.quantize(Decimal("0.0001")), None


# --- compiling a programme's [form] -----------------------------------------------------------

def _need(where: str, raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{where}.{key}: must be non-empty text")
    return value


def _field(where: str, raw: Any, sections: set[str], kinds: set[str]) -> Field:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: must be a table")
    name = _need(where, raw, "name")
    where = f"{where} ({name})"
    kind = _need(where, raw, "type")
    if kind not in TYPES:
        raise DefinitionError(f"{where}.type: unknown type {kind!r} (one of {', '.join(TYPES)})")
    section = raw.get("section", "basic")
    if sections and section not in sections:
        raise DefinitionError(f"{where}.section: section {section!r} is not defined")
    only = tuple(raw.get("kinds", ()))
    for k in only:
        if k not in kinds:
            raise DefinitionError(f"{where}.kinds: kind {k!r} is not defined")
    options = tuple((str(o["value"]), str(o["zh"]), str(o["en"])) for o in raw.get("options", ()))
    if kind == "choice" and not options:
        raise DefinitionError(f"{where}.options: a choice needs its options")
    return Field(name=name, zh=_need(where, raw, "zh"), en=_need(where, raw, "en"), kind=kind,
                 unit_zh=str(raw.get("unit_zh", "")), unit_en=str(raw.get("unit_en", "")),
                 required=bool(raw.get("required", True)), section=section,
                 max_len=int(raw.get("max_len", 200)), kinds=only, options=options,
                 help_zh=str(raw.get("help_zh", "")), help_en=str(raw.get("help_en", "")))


def parse_form(file: str, raw: Any) -> FormDef:
    """The `[form]` table of a programme file, checked: every field's type, section and kinds
    known, no name twice, every check naming defined fields."""
    where = f"{file}: form"
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: the [form] table is missing")
    kinds = tuple(KindDef(key=_need(f"{where}.kinds", k, "key"),
                          zh=_need(f"{where}.kinds", k, "zh"), en=_need(f"{where}.kinds", k, "en"),
                          industry_field=bool(k.get("industry_field", False)),
                          names_base=bool(k.get("names_base", False)))
                  for k in raw.get("kinds", ()))
    if not kinds:
        raise DefinitionError(f"{where}.kinds: at least one kind of application is needed")
    sections = tuple(Section(_need(f"{where}.sections", x, "key"),
                             _need(f"{where}.sections", x, "zh"),
                             _need(f"{where}.sections", x, "en"),
                             str(x.get("hint_zh", "")), str(x.get("hint_en", "")))
                     for x in raw.get("sections", ()))
    if not sections:
        raise DefinitionError(f"{where}.sections: the form needs at least one section")
    section_keys, kind_keys = {x.key for x in sections}, {k.key for k in kinds}
    fields = tuple(_field(f"{where}.fields[{i}]", f, section_keys, kind_keys)
                   for i, f in enumerate(raw.get("fields", ())))
    names = [f.name for f in fields]
    if TITLE not in names:
        raise DefinitionError(f"{where}.fields: a field {TITLE!r} names the applicant (lists, "
                              "search and the register show it)")
    for n in names:
        if names.count(n) > 1:
            raise DefinitionError(f"{where}.fields ({n}): the field is defined twice")
    rows = None
    if "rows" in raw:
        r = raw["rows"]
        rows = Rows(name=_need(f"{where}.rows", r, "name"), zh=_need(f"{where}.rows", r, "zh"),
                    en=_need(f"{where}.rows", r, "en"),
                    fields=tuple(_field(f"{where}.rows.fields[{i}]", f, set(), kind_keys)
                                 for i, f in enumerate(r.get("fields", ()))),
                    min_rows=int(r.get("min_rows", 0)),
                    section=str(r.get("section", sections[-1].key)))
        if rows.section not in section_keys:
            raise DefinitionError(f"{where}.rows.section: section {rows.section!r} is not "
                                  "defined")
        if not rows.fields:
            raise DefinitionError(f"{where}.rows.fields: a table needs its columns")
    checks = []
    for i, c in enumerate(raw.get("checks", ())):
        at = f"{where}.checks[{i}]"
        if c.get("check") not in CHECKS:
            raise DefinitionError(f"{at}.check: unknown check {c.get('check')!r} "
                                  f"(one of {', '.join(CHECKS)})")
        for key in ("field", "limit"):
            if c.get(key) is not None and c[key] not in names:
                raise DefinitionError(f"{at}.{key}: field {c[key]!r} is not defined")
        if c.get("limit") is None or (c.get("field") is None) == (c.get("rows_sum") is None):
            raise DefinitionError(f"{at}: needs `limit` and one of `field` or `rows_sum`")
        if c.get("rows_sum") is not None and (rows is None or c["rows_sum"] not in
                                              {f.name for f in rows.fields}):
            raise DefinitionError(f"{at}.rows_sum: column {c['rows_sum']!r} is not defined")
        checks.append(Check(check=c["check"], limit=c["limit"], zh=_need(at, c, "zh"),
                            en=_need(at, c, "en"), field=c.get("field"),
                            rows_sum=c.get("rows_sum"), factor=Decimal(str(c.get("factor", 1))),
                            ratio=Decimal(str(c.get("ratio", 1000)))))
    return FormDef(kinds=kinds, sections=sections, fields=fields, rows=rows,
                   checks=tuple(checks))
