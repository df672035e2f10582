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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from workflow.applicants import Drafter, prepares_cluster
from workflow.errors import DefinitionError, Refusal, refuse
from workflow.regions import Region
from workflow.roles import Role

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ()]{5,24}[0-9]$")
PCT_MIN, PCT_MAX = Decimal(-100), Decimal(10000)
MAX_DECIMAL = Decimal("1e12")
MAX_INT = 2_147_483_647  # counts are stored in INTEGER columns


CHECKS = ("not_more_than", "same_scale", "only_in_regions", "prepared_in_listed_city")
APPLICANT = "applicant"  # who fills a field unless its definition says another role
TITLE = "applicant_name"  # every form has it: the case's name, kept beside the document
TYPES = ("text", "email", "phone", "date", "int", "money", "pct", "choice", "bool", "city")
# the types kept as the text given: `city` is a prefecture-level city of the case's province,
# picked from the register's list on the web form (its GB/T 2260 code is stored) or named
# in words (the forms `applicants.names_city` reads); any text up to `max_len` is kept
TEXT_TYPES = ("text", "email", "phone", "city")
CITIES_OF_PROVINCE = "cities_of_province"  # the JSON Schema's x-choices of a `city`


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
    # the role that fills it in (a role's value): the applicant's form, or a field the
    # province states at its review (required at the steps that role takes)
    filled_by: str = APPLICANT
    default: str | None = None  # a choice's value while the document has none

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
    uses_quota: bool = False  # counts against its province's quota of a round (002 §六(三))


@dataclass(frozen=True)
class Section:
    key: str
    zh: str
    en: str
    hint_zh: str = ""
    hint_en: str = ""


@dataclass(frozen=True)
class Rows:
    """A table of rows on the form (002: the main export products; a cluster's leading
    enterprises)."""

    name: str
    zh: str
    en: str
    fields: tuple[Field, ...]
    min_rows: int = 0
    section: str = ""  # the section of the form it is shown in (empty: the last)
    kinds: tuple[str, ...] = ()  # the application kinds that have it (empty: all)
    # (field, value): the table is part of the form only while that field has that value
    only_when: tuple[str, str] | None = None

    def applies(self, kind: str | None, values: dict[str, Any]) -> bool:
        """Is it part of this application's form (its kind, and the value it depends on)?"""
        if self.kinds and kind not in self.kinds:
            return False
        return self.only_when is None or values.get(self.only_when[0]) == self.only_when[1]


@dataclass(frozen=True)
class Check:
    """A check across fields. `not_more_than`: `field` (or the sum of a row column times
    `factor`) must not be more than `limit`. `same_scale`: `limit` must not be more than
    `ratio` times that figure — a figure thousands of times its peer was most likely typed
    in the wrong unit (万美元 into an 亿美元 box). `only_in_regions`: `field` may be `value`
    only where the applicant's province is in one of `regions` (002 §六: clusters only in
    the central and western regions). `prepared_in_listed_city`: while `field` is `value`,
    a city's bureau drafts it only if the `column` of a row of `table` names that city; a
    province-level authority may (002 §六(三): a cluster's materials are organised by its
    leading enterprise's city, a provincial leading enterprise's by the province)."""

    check: str
    limit: str
    zh: str
    en: str
    field: str | None = None
    rows_sum: str | None = None
    factor: Decimal = Decimal(1)
    ratio: Decimal = Decimal(1000)
    # only_in_regions: `field` may have `value` only in these regions (the province's)
    value: str | None = None
    regions: tuple[str, ...] = ()
    # prepared_in_listed_city: the table and its column that name the cities
    table: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class FormDef:
    kinds: tuple[KindDef, ...]
    sections: tuple[Section, ...]
    fields: tuple[Field, ...]
    rows: Rows | None = None  # the main table (its own storage: the products)
    checks: tuple[Check, ...] = ()
    # further tables, kept in the form's document under their name ([[form.tables]])
    tables: tuple[Rows, ...] = ()
    by_name: dict[str, Field] = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})

    @property
    def kind_keys(self) -> tuple[str, ...]:
        return tuple(k.key for k in self.kinds)

    def kind(self, key: str) -> KindDef | None:
        return next((k for k in self.kinds if k.key == key), None)

    def kind_is(self, key: str, flag: str) -> bool:
        """Does the kind `key` say `flag` (`names_base`, `uses_quota`…)? False for a kind
        the form does not define."""
        found = self.kind(key)
        return found is not None and bool(getattr(found, flag))

    def kinds_where(self, flag: str) -> tuple[str, ...]:
        """The kinds that say `flag`, in the file's order."""
        return tuple(k.key for k in self.kinds if getattr(k, flag))

    def kind_label(self, key: str, locale: str = "zh") -> str:
        k = self.kind(key)
        if k is None:
            return key
        return k.en if locale.startswith("en") else k.zh

    def in_section(self, section: str) -> list[Field]:
        return [f for f in self.fields if f.section == section]

    def filled_by(self, role: str) -> list[Field]:
        """The fields someone in `role` fills in."""
        return [f for f in self.fields if f.filled_by == role]

    def table(self, name: str) -> Rows | None:
        """A table kept in the form's document, by its name."""
        return next((t for t in self.tables if t.name == name), None)

    def clean(self, data: dict[str, Any], role: str = APPLICANT
              ) -> tuple[dict[str, Any], list[Refusal]]:
        """Parse the fields present in `data` that `role` fills in, and the document's
        tables (the applicant's); return (clean values, refusals). A field another role
        fills is refused when given a value, and left alone when blank."""
        clean: dict[str, Any] = {}
        errors: list[Refusal] = []
        for name, raw in data.items():
            table = self.table(name)
            if table is not None and role == APPLICANT:
                if raw is not None:
                    clean[name], bad = self.clean_rows(raw, table)
                    errors += bad
                continue
            f = self.by_name.get(name)
            if f is None:
                continue
            if f.filled_by != role:
                if raw is not None and str(raw).strip() != "":
                    errors.append(_bad(f, "filled_by_another_role",
                                       f"由{Role(f.filled_by).zh}填写",
                                       f"is filled in by the {f.filled_by.replace('_', ' ')}",
                                       raw))
                continue
            value, err = parse_value(f, raw)
            if err:
                errors.append(err)
            else:
                clean[name] = value
        return clean, errors

    def clean_rows(self, rows: Any, table: Rows | None = None
                   ) -> tuple[list[dict[str, Any]], list[Refusal]]:
        """Parse a table's rows [{column: value}, …] (the main table unless another is
        named); empty rows are dropped."""
        table = table or self.rows
        if table is None or rows is None:
            return [], []
        name = table.name
        if not isinstance(rows, list):
            return [], [refuse(f"invalid_{name}", f"{table.zh}应为列表",
                               f"{table.en.lower()} must be a list", field=name)]
        out: list[dict[str, Any]] = []
        errors: list[Refusal] = []
        first = table.fields[0]
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append(refuse(f"invalid_{name}", f"第 {i + 1} 行格式不正确",
                                     f"row {i + 1} is malformed", field=f"{name}[{i}]"))
                continue
            parsed, bad = {}, []
            for f in table.fields:
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

    def missing(self, kind: str, values: dict[str, Any], rows: list[Any],
                roles: tuple[str, ...] = (APPLICANT,)) -> list[Refusal]:
        """What a step needs and the case does not have yet: the applicant's required
        fields and tables, and those of the roles taking the step (`roles`: the province
        states its figures by `recommend`)."""
        out = []
        for f in self.fields:
            if f.filled_by != APPLICANT and f.filled_by not in roles:
                continue
            if f.applies_to(kind) and f.required and f.default is None \
                    and values.get(f.name) in (None, ""):
                out.append(refuse("required", f"{f.zh}：必填", f"{f.en}: is required",
                                  field=f.name))
        values = self.with_defaults(values)
        if self.rows is not None and len(rows) < self.rows.min_rows:
            out.append(refuse("required", f"{self.rows.zh}：至少填写 {self.rows.min_rows} 行",
                              f"{self.rows.en}: at least {self.rows.min_rows} row(s) required",
                              field=self.rows.name))
        for t in self.tables:
            if not t.applies(kind, values):
                continue
            have = values.get(t.name) or []
            if len(have) < t.min_rows:
                out.append(refuse("required", f"{t.zh}：至少填写 {t.min_rows} 行",
                                  f"{t.en}: at least {t.min_rows} row(s) required",
                                  field=t.name))
            for i, row in enumerate(have):
                for f in t.fields:
                    if f.required and row.get(f.name) in (None, ""):
                        out.append(refuse("required", f"{t.zh}第 {i + 1} 行{f.zh}：必填",
                                          f"{t.en}, row {i + 1}, {f.en}: is required",
                                          field=f"{t.name}[{i}].{f.name}"))
        return out

    def with_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values` with each blank choice that has a default set to it."""
        return {**values, **{f.name: f.default for f in self.fields
                             if f.default is not None and values.get(f.name) in (None, "")}}

    def region_checks(self, kind: str, values: dict[str, Any], region: str) -> list[Refusal]:
        """The checks that depend on the applicant's province's region (`only_in_regions`)."""
        values = self.with_defaults(values)
        out = []
        for c in self.checks:
            if c.check != "only_in_regions" or c.field is None:
                continue
            f = self.by_name[c.field]
            if not f.applies_to(kind) or values.get(c.field) != c.value or region in c.regions:
                continue
            out.append(refuse("not_in_this_region", c.zh, c.en, field=c.field,
                              details={"value": c.value, "region": region,
                                       "regions": list(c.regions)}))
        return out

    def cities_named(self, values: dict[str, Any]) -> set[str]:
        """What the form's `city` fields and columns hold in `values`: the codes of the
        cities picked, or the names typed (the pages show a code by its city's name)."""
        named = {values.get(f.name) for f in self.fields if f.kind == "city"}
        for t in self.tables:
            columns = [c.name for c in t.fields if c.kind == "city"]
            named |= {row.get(c) for row in values.get(t.name) or [] for c in columns}
        return {str(v) for v in named if v not in (None, "")}

    def drafter_checks(self, kind: str, values: dict[str, Any], drafter: Drafter,
                       places: Mapping[str, tuple[str, str]] | None = None) -> list[Refusal]:
        """The checks that depend on the authority drafting the application
        (`prepared_in_listed_city`, 002 §六(三)): refused naming the first row's city. The
        cities are said as stored, a code among `places` by its (zh, en) name."""
        values = self.with_defaults(values)
        out = []
        for c in self.checks:
            if c.check != "prepared_in_listed_city" or c.field is None or c.table is None:
                continue
            table = self.table(c.table)
            if not self.by_name[c.field].applies_to(kind) or values.get(c.field) != c.value \
                    or table is None or not table.applies(kind, values):
                continue
            cities = [row.get(c.column or "") for row in values.get(c.table) or []]
            if prepares_cluster(drafter, cities):
                continue
            typed = [str(x) for x in cities]
            named = [(places or {}).get(x, (x, x)) for x in typed]
            out.append(refuse(
                "not_a_leading_enterprise_city",
                c.zh.format(authority=drafter.name_zh or drafter.code,
                            cities="、".join(zh for zh, _ in named)),
                c.en.format(authority=drafter.name_en or drafter.name_zh or drafter.code,
                            cities=", ".join(en or zh for zh, en in named)),
                field=f"{c.table}[0].{c.column}",
                details={"authority": drafter.code, "authority_name": drafter.name_zh,
                         "cities": typed}))
        return out

    def cross_checks(self, values: dict[str, Any], rows: list[dict[str, Any]]) -> list[Refusal]:
        """The checks across fields whose figures are all present."""
        out = []
        for c in self.checks:
            if c.check in ("only_in_regions", "prepared_in_listed_city"):
                continue  # `region_checks`, `drafter_checks`: they need who applies
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
            if self.table(k) is not None:
                if v:
                    out[k] = [{c: _encode(x) for c, x in row.items() if x is not None}
                              for row in v]
                else:
                    out.pop(k, None)
                continue
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
        for t in self.tables:
            out[t.name] = [{f.name: _decode(f, row.get(f.name)) for f in t.fields}
                           for row in doc.get(t.name) or []]
        out[TITLE] = title
        return out

    def json_schema(self, title: str = "") -> dict[str, Any]:
        """The form as JSON Schema (draft 2020-12), for the API's documents."""
        props = {f.name: _schema(f) for f in self.fields}
        for t in (self.rows, *self.tables):
            if t is None:
                continue
            props[t.name] = {
                "type": "array", "title": t.zh, "description": t.en,
                "items": {"type": "object",
                          "properties": {f.name: _schema(f) for f in t.fields}}}
            if t.min_rows:
                props[t.name]["x-min-rows-on-submit"] = t.min_rows
            if t.only_when is not None:
                props[t.name]["x-only-when"] = {t.only_when[0]: t.only_when[1]}
            if t.kinds:
                props[t.name]["x-kinds"] = list(t.kinds)
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
                "type": "object", "properties": props,
                "x-required-on-submit": [f.name for f in self.fields
                                         if f.required and f.filled_by == APPLICANT],
                "x-kinds": {k.key: {"zh": k.zh, "en": k.en} for k in self.kinds}}


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def _decode(f: Field, raw: Any) -> Any:
    if raw is None:
        return f.default
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
        if f.kind == "city":  # the code of one of GET /api/v1/authorities' cities, or a name
            out["x-choices"] = CITIES_OF_PROVINCE
    if f.unit_zh:
        out["x-unit"] = {"zh": f.unit_zh, "en": f.unit_en}
    if f.kinds:
        out["x-kinds"] = list(f.kinds)
    if f.filled_by != APPLICANT:
        out["x-filled-by"] = f.filled_by
        out["readOnly"] = True  # the applicant's document does not set it
    return out


def _bad(f: Field, code: str, zh: str, en: str, value: Any, prefix: str = "") -> Refusal:
    return refuse(code, f"{f.zh}：{zh}", f"{f.en}: {en}", field=prefix + f.name,
                  details={"value": "" if value is None else str(value)[:200]})


def parse_value(f: Field, raw: Any, prefix: str = "") -> tuple[Any, Refusal | None]:
    """Turn raw input into the field's type; (value, None) or (None, refusal)."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None, None
    if f.kind in TEXT_TYPES:
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


# the settings each table of `[form]` takes: any other key is refused (a typo would be lost)
FORM_KEYS = ("sections", "kinds", "fields", "rows", "tables", "checks")
SECTION_KEYS = ("key", "zh", "en", "hint_zh", "hint_en")
KIND_KEYS = ("key", "zh", "en", "industry_field", "names_base", "uses_quota")
FIELD_KEYS = ("name", "zh", "en", "type", "section", "required", "kinds", "unit_zh", "unit_en",
              "max_len", "options", "default", "help_zh", "help_en", "filled_by")
TABLE_KEYS = ("name", "zh", "en", "fields", "section", "kinds", "only_when", "min_rows")
CHECK_KEYS = ("check", "field", "rows_sum", "factor", "limit", "ratio", "value", "regions",
              "table", "column", "zh", "en")


def known_settings(where: str, raw: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """`raw` as a table whose every key is one of `keys` (a misspelt setting is refused,
    naming it and the settings there are)."""
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: must be a table")
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise DefinitionError(f"{where}.{unknown[0]}: is not {what} setting (one of "
                              f"{', '.join(sorted(keys))})")
    return raw


def _flag(where: str, raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise DefinitionError(f"{where}.{key}: must be true or false")
    return value


def _options(where: str, raw: Any) -> tuple[tuple[str, str, str], ...]:
    """A choice's options: `{ value = …, zh = …, en = … }` each."""
    if not isinstance(raw, list):
        raise DefinitionError(f"{where}.options: must be a list of {{ value = …, zh = …, en = … }}")
    out = []
    for i, o in enumerate(raw):
        at = f"{where}.options[{i}]"
        if not isinstance(o, dict):
            raise DefinitionError(f"{at}: must be {{ value = …, zh = …, en = … }}")
        known_settings(at, o, ("value", "zh", "en"), "an option")
        if o.get("value") in (None, ""):
            raise DefinitionError(f"{at}.value: missing (what is stored when it is chosen)")
        out.append((str(o["value"]), _need(at, o, "zh"), _need(at, o, "en")))
    return tuple(out)


def _field(where: str, raw: Any, sections: set[str], kinds: set[str]) -> Field:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: must be a table")
    name = _need(where, raw, "name")
    where = f"{where} ({name})"
    known_settings(where, raw, FIELD_KEYS, "a field")
    kind = _need(where, raw, "type")
    if kind not in TYPES:
        raise DefinitionError(f"{where}.type: unknown type {kind!r} (one of {', '.join(TYPES)})")
    section = raw.get("section", "basic")
    if sections and section not in sections:
        raise DefinitionError(f"{where}.section: " + (
            f"section {section!r} is not defined" if "section" in raw
            else "missing: each field names its section") + f" (one of {', '.join(sorted(sections))})")
    only = raw.get("kinds", [])
    if not isinstance(only, list) or not all(isinstance(k, str) for k in only):
        raise DefinitionError(f"{where}.kinds: must be a list of kinds, e.g. [\"{min(kinds)}\"]")
    only = tuple(only)
    for k in only:
        if k not in kinds:
            raise DefinitionError(f"{where}.kinds: kind {k!r} is not defined")
    options = _options(where, raw.get("options", []))
    if kind == "choice" and not options:
        raise DefinitionError(f"{where}.options: a choice needs its options")
    default = raw.get("default")
    if default is not None and (kind != "choice" or default not in [o[0] for o in options]):
        raise DefinitionError(f"{where}.default: one of a choice's options")
    filled_by = str(raw.get("filled_by", APPLICANT))
    if filled_by not in {r.value for r in Role}:
        raise DefinitionError(f"{where}.filled_by: unknown role {filled_by!r}")
    max_len = raw.get("max_len", 200)
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise DefinitionError(f"{where}.max_len: must be a whole number of characters ≥ 1")
    return Field(name=name, zh=_need(where, raw, "zh"), en=_need(where, raw, "en"), kind=kind,
                 unit_zh=str(raw.get("unit_zh", "")), unit_en=str(raw.get("unit_en", "")),
                 required=_flag(where, raw, "required", True), section=section,
                 max_len=max_len, kinds=only, options=options,
                 help_zh=str(raw.get("help_zh", "")), help_en=str(raw.get("help_en", "")),
                 filled_by=filled_by, default=default)


def _table(where: str, r: Any, sections: tuple[Section, ...], kinds: set[str],
           fields: dict[str, Field]) -> Rows:
    """A `[form.rows]` or `[[form.tables]]` table, checked."""
    known_settings(where, r, TABLE_KEYS, "a table")
    only_when = r.get("only_when")
    if only_when is not None:
        if not isinstance(only_when, dict) or set(only_when) != {"field", "value"}:
            raise DefinitionError(f"{where}.only_when: {{ field = …, value = … }}")
        if only_when["field"] not in fields:
            raise DefinitionError(f"{where}.only_when.field: field {only_when['field']!r} is "
                                  "not defined")
        only_when = (str(only_when["field"]), str(only_when["value"]))
    for k in r.get("kinds", ()):
        if k not in kinds:
            raise DefinitionError(f"{where}.kinds: kind {k!r} is not defined")
    rows = Rows(name=_need(where, r, "name"), zh=_need(where, r, "zh"), en=_need(where, r, "en"),
                fields=tuple(_field(f"{where}.fields[{i}]", f, set(), kinds)
                             for i, f in enumerate(r.get("fields", ()))),
                min_rows=int(r.get("min_rows", 0)),
                section=str(r.get("section", sections[-1].key)),
                kinds=tuple(r.get("kinds", ())), only_when=only_when)
    if rows.section not in {x.key for x in sections}:
        raise DefinitionError(f"{where}.section: section {rows.section!r} is not defined")
    if not rows.fields:
        raise DefinitionError(f"{where}.fields: a table needs its columns")
    if rows.name in fields:
        raise DefinitionError(f"{where}.name: {rows.name!r} is a field's name already")
    return rows


def _kind(where: str, raw: Any) -> KindDef:
    known_settings(where, raw, KIND_KEYS, "a kind")
    return KindDef(key=_need(where, raw, "key"), zh=_need(where, raw, "zh"),
                   en=_need(where, raw, "en"),
                   industry_field=_flag(where, raw, "industry_field", False),
                   names_base=_flag(where, raw, "names_base", False),
                   uses_quota=_flag(where, raw, "uses_quota", False))


def _section(where: str, raw: Any) -> Section:
    known_settings(where, raw, SECTION_KEYS, "a section")
    return Section(_need(where, raw, "key"), _need(where, raw, "zh"), _need(where, raw, "en"),
                   str(raw.get("hint_zh", "")), str(raw.get("hint_en", "")))


def parse_form(file: str, raw: Any) -> FormDef:
    """The `[form]` table of a programme file, checked: every field's type, section and kinds
    known, no name twice, every check naming defined fields."""
    where = f"{file}: form"
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: the [form] table is missing")
    known_settings(where, raw, FORM_KEYS, "a form")
    kinds = tuple(_kind(f"{where}.kinds[{i}]", k) for i, k in enumerate(raw.get("kinds", ())))
    if not kinds:
        raise DefinitionError(f"{where}.kinds: at least one kind of application is needed")
    sections = tuple(_section(f"{where}.sections[{i}]", x)
                     for i, x in enumerate(raw.get("sections", ())))
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
    by_name = {f.name: f for f in fields}
    rows = _table(f"{where}.rows", raw["rows"], sections, kind_keys, by_name) \
        if "rows" in raw else None
    tables = tuple(_table(f"{where}.tables[{i}]", t, sections, kind_keys, by_name)
                   for i, t in enumerate(raw.get("tables", ())))
    table_names = [t.name for t in (rows, *tables) if t is not None]
    for n in table_names:
        if table_names.count(n) > 1:
            raise DefinitionError(f"{where}.tables ({n}): the table is defined twice")
    checks = []
    for i, c in enumerate(raw.get("checks", ())):
        at = f"{where}.checks[{i}]"
        known_settings(at, c, CHECK_KEYS, "a check")
        if c.get("check") not in CHECKS:
            raise DefinitionError(f"{at}.check: unknown check {c.get('check')!r} "
                                  f"(one of {', '.join(CHECKS)})")
        if c["check"] == "only_in_regions":
            checks.append(_region_check(at, c, by_name))
            continue
        if c["check"] == "prepared_in_listed_city":
            checks.append(_listed_city_check(at, c, by_name, tables))
            continue
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
                   checks=tuple(checks), tables=tables)


REGIONS = tuple(r.value for r in Region)


def _choice_of(at: str, c: dict[str, Any], fields: dict[str, Field]) -> Field:
    """The choice field a check names (`field`), with `value` one of its options."""
    f = fields.get(c.get("field") or "")
    if f is None or f.kind != "choice":
        raise DefinitionError(f"{at}.field: names a choice field of the form")
    if c.get("value") not in [o[0] for o in f.options]:
        raise DefinitionError(f"{at}.value: {c.get('value')!r} is not an option of "
                              f"{f.name!r}")
    return f


def _region_check(at: str, c: dict[str, Any], fields: dict[str, Field]) -> Check:
    """An `only_in_regions` check: a choice field's value allowed only in some regions."""
    f = _choice_of(at, c, fields)
    regions = tuple(c.get("regions") or ())
    if not regions or any(r not in REGIONS for r in regions):
        raise DefinitionError(f"{at}.regions: a list of {', '.join(REGIONS)}")
    return Check(check="only_in_regions", limit="", zh=_need(at, c, "zh"), en=_need(at, c, "en"),
                 field=f.name, value=str(c["value"]), regions=regions)


def _listed_city_check(at: str, c: dict[str, Any], fields: dict[str, Field],
                       tables: tuple[Rows, ...]) -> Check:
    """A `prepared_in_listed_city` check: while a choice field has a value, the drafting
    city must be named in a text or city column of one of the form's tables (002 §六(三)). Its
    words may say `{authority}` (the drafting authority) and `{cities}` (those typed)."""
    f = _choice_of(at, c, fields)
    table = next((t for t in tables if t.name == c.get("table")), None)
    if table is None:
        raise DefinitionError(f"{at}.table: names a table of the form ([[form.tables]])")
    column = next((x for x in table.fields if x.name == c.get("column")), None)
    if column is None or column.kind not in ("text", "city"):
        raise DefinitionError(f"{at}.column: names a text or city column of {table.name!r}")
    zh, en = _need(at, c, "zh"), _need(at, c, "en")
    for key, words in (("zh", zh), ("en", en)):
        try:
            words.format(authority="", cities="")
        except (KeyError, IndexError, ValueError) as exc:
            raise DefinitionError(f"{at}.{key}: may name only {{authority}} and {{cities}} "
                                  f"({exc!r})") from None
    return Check(check="prepared_in_listed_city", limit="", zh=zh, en=en, field=f.name,
                 value=str(c["value"]), table=table.name, column=column.name)
