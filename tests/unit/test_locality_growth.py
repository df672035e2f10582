"""Criterion (3)'s 本地区外贸出口增幅 is the applicant's own locality's — its city's where
the applicant is a city with figures, else its province's — not a macro-region's; the
verdict says which figure it used and where it came from. 002 §六(二)(3)."""

from __future__ import annotations

from decimal import Decimal as D

from workflow.eligibility import FAIL, PASS, PENDING, evaluate, growth_verdict
from workflow.programme import programme
from workflow.rules import LocalityStat, ReferenceStats, RoundRules

YEARS = (2003, 2004, 2005)
ZHEJIANG, NINGBO = "330000", "330200"


def _refs(national: str | None = None, region: str | None = None,
          **local: str) -> dict[int, ReferenceStats]:
    """Three years with the same yearly growth: national, the old macro-region figure,
    and each authority's own (keyword: code with an underscore, e.g. a330000="20")."""
    return {y: ReferenceStats(
        y, national_hightech_growth_pct=D(national) if national else None,
        region_export_growth_pct={"east": D(region)} if region else {},
        localities={code[1:]: LocalityStat(code[1:], y, D(pct), f"统计局{code[1:]}-{y}",
                                           "local" if code[1:] == NINGBO else "national",
                                           name_zh=f"地区{code[1:]}")
                    for code, pct in local.items()})
        for y in YEARS}


def test_a_province_is_judged_against_its_own_export_growth_not_its_macro_region() -> None:
    # own 10 % a year: 33.10 %; Zhejiang 5 % a year: 15.76 %; the east's old figure 20 %
    refs = _refs(national="50", region="20", a330000="5")
    v = growth_verdict("east", 2005, [D(10)] * 3, refs, (ZHEJIANG,))
    assert v.outcome == PASS
    assert v.figures["locality_export_growth_pct"] == D("15.76")
    assert v.figures["locality"]["basis"] == "province"
    assert v.figures["locality"]["authority_code"] == ZHEJIANG
    assert v.figures["used"] == "locality"
    assert "统计局330000-2005" in v.zh and "地区330000" in v.zh


def test_a_city_with_figures_is_judged_against_the_city_not_its_province() -> None:
    # Ningbo 12 % a year (40.49 %) beats the applicant; Zhejiang's 5 % would not
    refs = _refs(national="50", a330000="5", a330200="12")
    v = growth_verdict("east", 2005, [D(10)] * 3, refs, (NINGBO, ZHEJIANG))
    assert v.outcome == FAIL
    assert v.figures["locality"]["basis"] == "city"
    assert v.figures["locality_export_growth_pct"] == D("40.49")
    assert v.figures["locality"]["catalogues"] == ["local"] * 3


def test_a_city_without_all_three_years_falls_back_to_its_province() -> None:
    refs = _refs(national="50", a330000="5", a330200="12")
    del refs[2004].localities[NINGBO]
    v = growth_verdict("east", 2005, [D(10)] * 3, refs, (NINGBO, ZHEJIANG))
    assert v.outcome == PASS
    assert v.figures["locality"]["basis"] == "province"
    assert v.figures["locality"]["sources"] == [f"统计局{ZHEJIANG}-{y}" for y in YEARS]


def test_the_national_figure_alone_decides_when_the_applicant_beats_it() -> None:
    refs = _refs(national="5", a330000="50")
    v = growth_verdict("east", 2005, [D(10)] * 3, refs, (ZHEJIANG,))
    assert (v.outcome, v.figures["used"]) == (PASS, "national")
    assert "全国高新技术产品出口增幅" in v.zh


def test_without_local_figures_the_old_macro_region_figure_is_a_labelled_fallback() -> None:
    v = growth_verdict("east", 2005, [D(10)] * 3, _refs(national="50", region="5"),
                       (ZHEJIANG,))
    assert v.outcome == PASS
    assert v.figures["locality"]["basis"] == "macro_region_fallback"
    assert "大区替代值" in v.zh and "macro-region fallback" in v.en


def test_no_local_figure_and_no_national_figure_is_pending() -> None:
    v = growth_verdict("east", 2005, [D(10)] * 3, _refs(), (ZHEJIANG,))
    assert v.outcome == PENDING and v.figures["locality"]["basis"] is None


def test_the_programme_criterion_passes_the_applicants_authorities_through() -> None:
    prog = programme()
    values = {f: "10" for c in prog.criteria if c.kind == "growth_vs_reference"
              for f in c.fields}
    verdicts = evaluate(prog.criteria, "new_base", "east", values, {}, RoundRules(),
                        _refs(national="50", region="50", a330200="5"),
                        authorities=(NINGBO, ZHEJIANG))
    growth = next(v for v in verdicts if v.figures.get("locality"))
    assert growth.outcome == PASS and growth.figures["locality"]["basis"] == "city"
