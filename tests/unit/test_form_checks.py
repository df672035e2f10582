"""Checks across the form's fields, as notice 002's programme file states them: high-tech
exports within total exports, the products within total exports, and a figure thousands of
times its peer flagged as typed in the wrong unit (万美元 into an 亿美元 box)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from workflow.errors import DefinitionError
from workflow.form import parse_form
from workflow.programme import programme

FORM = programme().form
PRODUCTS = [{"name": "光通信设备", "exports_10k_usd": D("3000")}]  # 0.3 亿美元


def codes(values: dict[str, D], rows: list[dict[str, object]]) -> set[tuple[str, str | None]]:
    return {(r.code, r.field) for r in FORM.cross_checks(values, rows)}  # type: ignore[arg-type]


def test_consistent_figures_pass() -> None:
    assert codes({"exports_100m_usd": D("12.3"), "hightech_exports_100m_usd": D("8.6")},
                 PRODUCTS) == set()


def test_high_tech_exports_above_all_exports_are_refused_by_the_field() -> None:
    assert codes({"exports_100m_usd": D("12.3"), "hightech_exports_100m_usd": D("12.31")},
                 []) == {("inconsistent_figures", "hightech_exports_100m_usd")}


def test_products_adding_up_to_more_than_the_exports_are_refused() -> None:
    rows = [{"name": "a", "exports_10k_usd": D("100000")}, {"name": "b", "exports_10k_usd": D("30000")}]
    assert codes({"exports_100m_usd": D("12.3")}, rows) == {("inconsistent_figures", "products")}


def test_exports_typed_in_ten_thousands_are_flagged_as_the_wrong_unit() -> None:
    # 123000 (万美元) typed into the 亿美元 box: 410,000 times the products' 0.3 亿美元
    assert codes({"exports_100m_usd": D("123000")}, PRODUCTS) == {
        ("unit_suspect", "exports_100m_usd")}
    assert codes({"exports_100m_usd": D("1499")}, PRODUCTS) == set()  # under 5000×


def test_a_missing_figure_checks_nothing() -> None:
    assert codes({"hightech_exports_100m_usd": D("99")}, []) == set()


def test_an_unknown_check_or_field_names_the_file_and_key() -> None:
    raw = {"kinds": [{"key": "k", "zh": "k", "en": "k"}],
           "sections": [{"key": "s", "zh": "s", "en": "s"}],
           "fields": [{"name": "applicant_name", "zh": "n", "en": "n", "type": "text",
                       "section": "s"}],
           "checks": [{"check": "roughly", "field": "applicant_name", "limit": "applicant_name",
                       "zh": "x", "en": "x"}]}
    with pytest.raises(DefinitionError, match=r"p\.toml: form\.checks\[0\]\.check: unknown check"):
        parse_form("p.toml", raw)
    raw["checks"] = [{"check": "same_scale", "field": "nope", "limit": "applicant_name",
                      "zh": "x", "en": "x"}]
    with pytest.raises(DefinitionError, match=r"field 'nope' is not defined"):
        parse_form("p.toml", raw)
