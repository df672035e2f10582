"""The application form (申报书, annex of 002): fields, units, and their validation.

One definition used by the web form, the API and the `submit` guard. A draft may be
incomplete but never wrong: types and ranges are checked on every save, required fields
only when the case is submitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from workflow.errors import Refusal, refuse

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ()]{5,24}[0-9]$")
PCT_MIN, PCT_MAX = Decimal(-100), Decimal(10000)
MAX_DECIMAL = Decimal("1e12")
MAX_INT = 2_147_483_647  # counts are stored in INTEGER columns


@dataclass(frozen=True)
class Field:
    name: str
    zh: str
    en: str
    kind: str  # text | email | phone | date | int | money | pct | choice
    unit_zh: str = ""
    unit_en: str = ""
    required: bool = True
    section: str = "basic"
    max_len: int = 200
    new_base_only: bool = False


FIELDS: tuple[Field, ...] = (
    Field("applicant_name", "申请单位全称", "Applicant (full name)", "text", section="contact"),
    Field("contact_person", "联系人", "Contact person", "text", section="contact", max_len=50),
    Field("contact_phone", "联系电话", "Phone", "phone", section="contact", max_len=30),
    Field("contact_email", "电子信箱", "E-mail", "email", section="contact", max_len=120),
    Field("filled_on", "填报日期", "Date filled", "date", section="contact"),
    Field("address", "地址", "Address", "text", max_len=300),
    Field("characteristic_industry", "产业特色", "Characteristic industry", "text", max_len=300),
    Field("enterprise_count", "企业数", "Number of enterprises", "int", "个", "enterprises"),
    Field("total_sales_100m_cny", "销售总额", "Total sales", "money", "亿元", "CNY 100M"),
    Field("total_assets_10k_cny", "资产总额", "Total assets", "money", "万元", "CNY 10k"),
    Field("exports_100m_usd", "出口额", "Exports", "money", "亿美元", "USD 100M"),
    Field("export_growth_pct", "出口增速", "Export growth", "pct", "%", "%"),
    Field("profit_tax_10k_cny", "利税总额", "Total profit and tax", "money", "万元", "CNY 10k"),
    Field("hightech_exports_100m_usd", "高新技术产品出口额", "High-tech product exports",
          "money", "亿美元", "USD 100M"),
    Field("hightech_export_growth_pct", "高新技术产品出口增速", "High-tech export growth",
          "pct", "%", "%"),
    Field("hightech_export_growth_pct_prev1", "上一年高新技术产品出口增速",
          "High-tech export growth, year before", "pct", "%", "%", new_base_only=True),
    Field("hightech_export_growth_pct_prev2", "前两年高新技术产品出口增速",
          "High-tech export growth, two years before", "pct", "%", "%", new_base_only=True),
    Field("employees", "从业人员", "Employees", "int", "人", "people"),
)
BY_NAME = {f.name: f for f in FIELDS}
PRODUCT_FIELDS = (
    Field("name", "主要出口产品", "Main export product", "text", section="products"),
    Field("exports_10k_usd", "主要出口产品出口额", "Exports of the product", "money",
          "万美元", "USD 10k", section="products"),
)
KINDS = ("new_base", "recertification")
KIND_ZH = {"new_base": "新基地", "recertification": "重新认定"}


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
    if isinstance(raw, bool):
        return None, _bad(f, "not_a_number", "应为数字", "must be a number", raw, prefix)
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


def clean_form(data: dict[str, Any]) -> tuple[dict[str, Any], list[Refusal]]:
    """Parse the fields present in `data`; return (clean values, refusals)."""
    clean: dict[str, Any] = {}
    errors: list[Refusal] = []
    for name, raw in data.items():
        f = BY_NAME.get(name)
        if f is None:
            continue
        value, err = parse_value(f, raw)
        if err:
            errors.append(err)
        else:
            clean[name] = value
    return clean, errors


def clean_products(rows: Any) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """Parse product rows [{name, exports_10k_usd}, …]; empty rows are dropped."""
    if rows is None:
        return [], []
    if not isinstance(rows, list):
        return [], [refuse("invalid_products", "主要出口产品应为列表",
                           "products must be a list", field="products")]
    out: list[dict[str, Any]] = []
    errors: list[Refusal] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append(refuse("invalid_products", f"第 {i + 1} 行格式不正确",
                                 f"row {i + 1} is malformed", field=f"products[{i}]"))
            continue
        name, e1 = parse_value(PRODUCT_FIELDS[0], row.get("name"), f"products[{i}].")
        amount, e2 = parse_value(PRODUCT_FIELDS[1], row.get("exports_10k_usd"), f"products[{i}].")
        errors += [e for e in (e1, e2) if e]
        if e1 or e2:
            continue
        if name is None and amount is None:
            continue
        if name is None:
            errors.append(_bad(PRODUCT_FIELDS[0], "required", "必填", "is required", "",
                               f"products[{i}]."))
            continue
        out.append({"name": name, "exports_10k_usd": amount})
    return out, errors


def missing_fields(kind: str, values: dict[str, Any], products: list[Any]) -> list[Refusal]:
    """What `submit` needs and the draft does not have yet."""
    out = []
    for f in FIELDS:
        if f.new_base_only and kind != "new_base":
            continue
        if f.required and values.get(f.name) in (None, ""):
            out.append(refuse("required", f"{f.zh}：必填", f"{f.en}: is required", field=f.name))
    if not products:
        out.append(refuse("required", "主要出口产品：至少填写一行",
                          "Main export products: at least one row is required", field="products"))
    return out
