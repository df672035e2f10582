"""Eligibility per criterion at its boundaries (002 §六(一), §六(二))."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflow.eligibility import FAIL, PASS, PENDING, compound_growth, evaluate, growth_verdict
from workflow.eligibility import threshold_verdict as threshold
from workflow.programme import programme
from workflow.rules import ReferenceStats, RoundRules

CRITERIA = programme().criteria  # notice 002's, as programmes/mofcom-2006-6.toml names them

RULES = RoundRules()
D = Decimal


@pytest.mark.parametrize(("region", "exports", "outcome"), [
    ("west", "0.1", PASS),        # exactly US$10M
    ("west", "0.0999", FAIL),     # US$9.99M
    ("central", "0.5", PASS),     # 0.5 亿美元 = US$50M
    ("central", "0.4999", FAIL),
    ("northeast", "0.5", PASS),   # the northeast uses the central threshold
    ("northeast", "0.4999", FAIL),
    ("east", "1", PASS),          # US$100M
    ("east", "0.9999", FAIL),
])
def test_region_thresholds(region: str, exports: str, outcome: str) -> None:
    v = threshold(region, D(exports), RULES)
    assert v.outcome == outcome
    assert v.source == "002 §六(二)(2)"
    assert v.figures["conversion"] == "1 亿美元 = US$100M"


def test_west_threshold_is_ten_million_dollars() -> None:
    v = threshold("west", D("0.1"), RULES)
    assert v.figures["threshold_musd"] == D(10)
    assert v.figures["hightech_exports_musd"] == D("10.00")
    assert "US$10.00M" in v.en


def test_thresholds_are_data_of_the_round() -> None:
    rules = RoundRules(thresholds_musd={"east": D(200), "central": D(50), "northeast": D(50),
                                        "west": D(5)})
    assert threshold("west", D("0.06"), rules).outcome == PASS
    assert threshold("east", D("1.5"), rules).outcome == FAIL


def test_missing_exports_is_pending_not_a_silent_rejection() -> None:
    assert threshold("east", None, RULES).outcome == PENDING


REFS = {
    2003: ReferenceStats(2003, national_hightech_growth_pct=D("62.7"),
                         region_export_growth_pct={"central": D("30.2")}),
    2004: ReferenceStats(2004, national_hightech_growth_pct=D("50.2"),
                         region_export_growth_pct={"central": D("40.1")}),
    2005: ReferenceStats(2005, national_hightech_growth_pct=D("31.8"),
                         region_export_growth_pct={"central": D("25.3")}),
}


def test_three_year_growth_compounds_the_yearly_rates() -> None:
    assert compound_growth([D(10), D(10), D(10)]) == D("33.10")


def test_growth_beating_the_old_macro_region_figure_passes_labelled_as_a_fallback() -> None:
    # own: 1.4 * 1.45 * 1.3 - 1 = 163.9%; national 222.09%; central 128.56%; no authority
    # has figures of its own, so the old per-region figure stands in and says so
    v = growth_verdict("central", 2005, [D(40), D(45), D(30)], REFS)
    assert v.outcome == PASS
    assert v.figures["beats_locality"] and not v.figures["beats_national"]
    assert v.figures["locality"]["basis"] == "macro_region_fallback"
    assert "大区替代值" in v.zh
    assert v.source == "002 §六(二)(3)"


def test_growth_beating_neither_fails_with_both_figures() -> None:
    v = growth_verdict("central", 2005, [D(20), D(20), D(20)], REFS)
    assert v.outcome == FAIL
    assert v.figures["national_hightech_growth_pct"] == D("222.09")
    assert v.figures["locality_export_growth_pct"] == D("128.56")


def test_growth_equal_to_the_benchmark_is_not_higher() -> None:
    v = growth_verdict("central", 2005, [D("30.2"), D("40.1"), D("25.3")], REFS)
    assert v.figures["own_growth_pct"] == v.figures["locality_export_growth_pct"]
    assert v.outcome == FAIL  # 高于 means strictly higher


def test_growth_without_reference_statistics_is_pending() -> None:
    v = growth_verdict("central", 2010, [D(40), D(45), D(30)], REFS)
    assert v.outcome == PENDING and "2008" in v.zh


def test_new_base_has_four_criteria_and_recertification_three() -> None:
    values = {"hightech_exports_100m_usd": D("0.5"), "hightech_export_growth_pct": D(30),
              "hightech_export_growth_pct_prev1": D(45), "hightech_export_growth_pct_prev2": D(40),
              "locality_rank": 1}  # 002 §六(二)(2): the rank the province states
    new = evaluate(CRITERIA, "new_base", "central", values, {"local_policy": True}, RULES, REFS)
    assert [v.criterion for v in new] == ["local_policy", "hightech_exports_threshold",
                                         "three_year_growth", "leading_enterprises"]
    assert [v.outcome for v in new] == [PASS, PASS, PASS, PENDING]
    recert = evaluate(CRITERIA, "recertification", "east", values,
                      {"supporting_policies": True, "project_funding": False}, RULES, REFS)
    assert [v.source for v in recert] == ["002 §六(一)(1)", "002 §六(一)(2)", "002 §六(一)(3)"]
    assert [v.outcome for v in recert] == [PASS, FAIL, PENDING]


def test_a_minimum_is_shown_with_the_figure_as_typed_not_the_stored_scale() -> None:
    # Guangdong's enterprise criteria (004 (七)) read money and shares back from the
    # database with its scale: the verdict says 8200, not 8200.0000
    values = {"me_exports_10k_usd": D("8200.0000"), "own_brand_share_pct": D("79.30")}
    verdicts = {v.criterion: v for v in evaluate(programme("guangdong-2006-59").criteria,
                                           "enterprise", "east", values, {}, RULES, {})}
    texts = [v.zh for v in verdicts.values()]
    assert "机电产品年出口额不低于3000万美元：8200 ≥ 3000" in texts
    assert "自主品牌出口占比不低于20%：79.3 ≥ 20" in texts
    assert all(v.outcome == PASS for v in verdicts.values() if "≥" in v.zh)
