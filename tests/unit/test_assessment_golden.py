"""Golden re-evaluation cases, computed by hand (docs/re-evaluation.md), no database.

Every base is assessed for 2007 on 2008-02-01 (all four quarters and the annual report are
due by then). Reference statistics: national high-tech growth 2005–2007 of 31.8 %, 30 %,
20 % (three years: 1.318 × 1.30 × 1.20 − 1 = 105.61 %); every region's export growth
28.1 %, 25 %, 20 % (1.281 × 1.25 × 1.20 − 1 = 92.15 %).
Figures are 万美元 a quarter, as the quarterly form asks; US$1M = 100 万美元.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from workflow.assessment import (
    KEEP,
    LATE,
    MISSING,
    NOT_DUE,
    RECTIFY,
    REVOKE,
    AnnualFigures,
    Assessment,
    AssessmentRules,
    BaseFigures,
    QuarterFigures,
    assess,
)
from workflow.calendar import WorkCalendar
from workflow.eligibility import FAIL, PASS, PENDING
from workflow.reporting import quarterly_due
from workflow.rules import ReferenceStats, RoundRules

TODAY = date(2008, 2, 1)
RULES = RoundRules.for_year(2006)
CAL = WorkCalendar()
REFS = {
    2005: ReferenceStats(2005, national_hightech_exports_100m_usd=D("2182"),
                         national_hightech_growth_pct=D("31.8"),
                         region_export_growth_pct={r: D("28.1") for r in
                                                   ("east", "central", "west", "northeast")}),
    2006: ReferenceStats(2006, national_hightech_growth_pct=D("30"),
                         region_export_growth_pct={r: D("25") for r in
                                                   ("east", "central", "west", "northeast")}),
    2007: ReferenceStats(2007, national_hightech_exports_100m_usd=D("3478"),
                         national_hightech_growth_pct=D("20"),
                         region_export_growth_pct={r: D("20") for r in
                                                   ("east", "central", "west", "northeast")}),
}
GOOD_ANNUAL = {2007: AnnualFigures(2007, date(2007, 12, 20), True, D("500"))}


def quarters(year: int, hightech: list[int | None], exports: list[int] | None = None,
             submitted: dict[int, date] | None = None) -> dict[tuple[int, int], QuarterFigures]:
    """Quarterly reports of one year (None: that quarter was not filed), filed on time."""
    out = {}
    for i, h in enumerate(hightech, start=1):
        if h is None:
            continue
        on = (submitted or {}).get(i, quarterly_due(year, i, RULES, CAL) - timedelta(days=10))
        out[(year, i)] = QuarterFigures(year, i, D((exports or [h * 2] * 4)[i - 1]), D(h), on)
    return out


def base(kind: str = "new_base", region: str = "east", *, form_100m: str | None = None,
         form_growth: str | None = None, y2006: list[int | None] | None = None,
         y2007: list[int | None] | None = None, exports2006: list[int] | None = None,
         exports2007: list[int] | None = None, annual: dict | None = None,
         state: str = "approved", deadline: date | None = None,
         submitted2007: dict[int, date] | None = None) -> BaseFigures:
    qs = {}
    if y2006:
        qs.update(quarters(2006, y2006, exports2006))
    if y2007:
        qs.update(quarters(2007, y2007, exports2007, submitted2007))
    return BaseFigures(
        application_id=1, kind=kind, region=region, state=state, data_year=2005,
        form_hightech_exports_100m_usd=D(form_100m) if form_100m else None,
        form_growth_pcts=(None, None, D(form_growth) if form_growth else None),
        quarters=qs, annual=GOOD_ANNUAL if annual is None else annual,
        rectification_deadline=deadline)


def run(b: BaseFigures, today: date = TODAY) -> Assessment:
    return assess(b, 2007, today, RULES, REFS)


def finding(a: Assessment, criterion: str) -> dict:
    matches = [f for f in a.findings if f.criterion == criterion]
    assert matches, f"no finding {criterion}: {[f.criterion for f in a.findings]}"
    return matches[0].__dict__


def test_east_base_well_above_threshold_and_national_growth_is_kept() -> None:
    # 2005 form: 1.0 亿 = US$100M, +50 %; 2006: 4 × 4000 = US$160M (+60 %);
    # 2007: 4 × 5000 = US$200M (+25 %); three years 1.5 × 1.6 × 1.25 − 1 = 200 %
    a = run(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4))
    assert a.proposal == KEEP
    t = finding(a, "hightech_exports_threshold")
    assert (t["outcome"], t["figures"]["hightech_exports_musd"]) == (PASS, D("200.00"))
    g = finding(a, "three_year_growth")
    assert (g["outcome"], g["figures"]["own_growth_pct"]) == (PASS, D("200.00"))
    assert g["figures"]["national_hightech_growth_pct"] == D("105.61")
    assert a.indicators["growth_pct"] == D("25.00")
    # 002 §一: 2 亿美元 of the national 3478 亿美元 = 0.0575 %
    assert a.indicators["share_of_national_pct"] == D("0.0575")


def test_east_base_exactly_on_the_hundred_million_threshold_passes() -> None:
    # 4 × 2500 万美元 = 10000 万美元 = US$100.00M: "1亿美元以上" includes the figure itself
    a = run(base(form_100m="0.2", form_growth="100", y2006=[1250] * 4, y2007=[2500] * 4))
    t = finding(a, "hightech_exports_threshold")
    assert t["outcome"] == PASS
    assert t["figures"]["hightech_exports_musd"] == D("100.00")
    assert t["figures"]["threshold_musd"] == D("100")
    assert t["source"] == "002 §六(二)(2)"
    assert a.proposal == KEEP


def test_east_base_one_ten_thousand_dollars_below_threshold_must_rectify() -> None:
    # 2500 + 2500 + 2500 + 2499 = 9999 万美元 = US$99.99M < US$100M
    a = run(base(form_100m="0.2", form_growth="100", y2006=[1250] * 4,
                 y2007=[2500, 2500, 2500, 2499]))
    t = finding(a, "hightech_exports_threshold")
    assert (t["outcome"], t["figures"]["hightech_exports_musd"]) == (FAIL, D("99.99"))
    assert a.proposal == RECTIFY
    assert [p.criterion for p in a.problems] == ["hightech_exports_threshold"]
    assert "99.99" in a.explanation() and "002 §六(二)(2)" in a.explanation()


def test_growth_beating_the_region_but_not_the_nation_passes() -> None:
    # central: 2005 US$50M (+25 %), 2006 US$64M (+28 %), 2007 US$80M (+25 %):
    # 1.25 × 1.28 × 1.25 − 1 = 100 %: above the region's 92.15 %, below the nation's 105.61 %
    a = run(base(region="central", form_100m="0.5", form_growth="25", y2006=[1600] * 4,
                 y2007=[2000] * 4))
    g = finding(a, "three_year_growth")
    assert g["outcome"] == PASS
    assert g["figures"]["own_growth_pct"] == D("100.00")
    assert (g["figures"]["beats_national"], g["figures"]["beats_locality"]) == (False, True)
    assert "本地区外贸出口增幅 92.15%" in g["zh"]
    assert a.proposal == KEEP


def test_growth_exactly_equal_to_the_region_is_not_above_it() -> None:
    # central: 2005 US$100M (+28.1 %), 2006 US$125M (+25 %), 2007 US$150M (+20 %):
    # 92.15 % = the region's 92.15 %; "高于" means strictly above
    a = run(base(region="central", form_100m="1.0", form_growth="28.1", y2006=[3125] * 4,
                 y2007=[3750] * 4))
    g = finding(a, "three_year_growth")
    assert (g["outcome"], g["figures"]["own_growth_pct"]) == (FAIL, D("92.15"))
    assert finding(a, "hightech_exports_threshold")["outcome"] == PASS
    assert a.proposal == RECTIFY


def test_west_base_with_a_missing_quarter_is_asked_to_rectify() -> None:
    # Q3 not filed; Q1+Q2+Q4 = 3000 万美元 = US$30M already ≥ the West's US$10M
    a = run(base(region="west", form_100m="0.1", form_growth="40", y2006=[500] * 4,
                 y2007=[1000, 1000, None, 1000]))
    missing = [f for f in a.findings if f.outcome == MISSING]
    assert [(f.criterion, f.figures["quarter"]) for f in missing] == [("quarterly_report", 3)]
    assert missing[0].figures["due_on"] == "2007-10-26"  # 15 working days after 30 September
    t = finding(a, "hightech_exports_threshold")
    assert (t["outcome"], t["figures"]["quarters_counted"]) == (PASS, 3)
    assert finding(a, "three_year_growth")["outcome"] == PENDING  # 2007 total unknown
    assert a.proposal == RECTIFY


def test_northeast_partial_year_below_threshold_is_undecided_not_failed() -> None:
    # Q4 missing; Q1–Q3 = 3 × 1000 = US$30M < US$50M, but Q4 could still bring it over
    a = run(base(region="northeast", form_100m="0.3", form_growth="40", y2006=[900] * 4,
                 y2007=[1000, 1000, 1000, None]))
    assert finding(a, "hightech_exports_threshold")["outcome"] == PENDING
    assert [p.criterion for p in a.problems] == ["quarterly_report"]
    assert a.proposal == RECTIFY


def test_late_reports_are_findings_but_do_not_change_a_keep() -> None:
    late_q2 = {2: date(2007, 7, 25)}  # due 2007-07-20 (15 working days on): five days late
    annual = {2007: AnnualFigures(2007, date(2008, 1, 5), True, D("300"))}  # due 12-31
    a = run(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4,
                 submitted2007=late_q2, annual=annual))
    late = {(f.criterion, f.figures.get("quarter")): f.figures["days_late"]
            for f in a.findings if f.outcome == LATE}
    assert late == {("quarterly_report", 2): 5, ("annual_report", None): 5}
    assert a.proposal == KEEP


def test_missing_annual_report_is_a_finding_and_asks_for_rectification() -> None:
    a = run(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4,
                 annual={}))
    assert finding(a, "annual_report")["outcome"] == MISSING
    assert finding(a, "local_policy")["outcome"] == PENDING
    assert a.proposal == RECTIFY


def test_annual_report_without_special_funds_fails_the_local_policy_criterion() -> None:
    annual = {2007: AnnualFigures(2007, date(2007, 12, 1), True, D("0"))}
    a = run(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4,
                 annual=annual))
    lp = finding(a, "local_policy")
    assert (lp["outcome"], lp["source"]) == (FAIL, "002 §六(二)(1)")
    assert a.proposal == RECTIFY


def test_base_that_stopped_reporting_has_every_report_listed_as_missing() -> None:
    a = run(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, annual={}))
    missing = sorted((f.criterion, f.figures.get("quarter") or 0) for f in a.findings
                     if f.outcome == MISSING)
    assert missing == [("annual_report", 0)] + [("quarterly_report", q) for q in (1, 2, 3, 4)]
    assert a.proposal == RECTIFY


def test_base_still_failing_after_its_rectification_deadline_is_revoked() -> None:
    a = run(base(form_100m="0.2", form_growth="100", y2006=[1250] * 4, y2007=[2000] * 4,
                 state="rectifying", deadline=date(2007, 9, 3)))
    assert a.proposal == REVOKE
    assert finding(a, "rectification")["outcome"] == FAIL
    assert "2007-09-03" in a.explanation()


def test_rectifying_base_that_now_meets_every_criterion_is_kept() -> None:
    a = run(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4,
                 state="rectifying", deadline=date(2007, 9, 3)))
    assert a.proposal == KEEP


def test_rectifying_base_whose_deadline_is_still_running_is_not_revoked_yet() -> None:
    a = run(base(form_100m="0.2", form_growth="100", y2006=[1250] * 4, y2007=[2000] * 4,
                 state="rectifying", deadline=date(2008, 3, 3)))
    assert a.proposal == RECTIFY
    assert finding(a, "rectification")["outcome"] == PENDING


def test_recertified_base_with_half_high_tech_exports_and_flat_growth_is_kept() -> None:
    # share 4 × 5000 / 4 × 10000 = 50 % ≥ 30 %; 2007 vs 2006: 20000 / 20000 − 1 = 0 % ≥ −10 %
    a = run(base("recertification", y2006=[5000] * 4, y2007=[5000] * 4,
                 exports2007=[10000] * 4))
    assert finding(a, "characteristic_industry")["figures"]["share_pct"] == D("50.00")
    assert finding(a, "export_trend")["figures"]["growth_pct"] == D("0.00")
    assert {f.criterion for f in a.findings} >= {"supporting_policies", "project_funding"}
    assert "hightech_exports_threshold" not in {f.criterion for f in a.findings}
    assert a.proposal == KEEP


def test_recertified_base_exactly_on_both_of_its_floors_is_kept() -> None:
    # share 4 × 900 / 4 × 3000 = 30.00 %; growth 3600 / 4000 − 1 = −10.00 %
    a = run(base("recertification", y2006=[1000] * 4, y2007=[900] * 4,
                 exports2007=[3000] * 4))
    ci, et = finding(a, "characteristic_industry"), finding(a, "export_trend")
    assert (ci["outcome"], ci["figures"]["share_pct"]) == (PASS, D("30.00"))
    assert (et["outcome"], et["figures"]["growth_pct"]) == (PASS, D("-10.00"))
    assert a.proposal == KEEP


def test_recertified_base_whose_exports_fell_more_than_ten_percent_must_rectify() -> None:
    # 3580 / 4000 − 1 = −10.50 %
    a = run(base("recertification", y2006=[1000] * 4, y2007=[895] * 4,
                 exports2007=[2000] * 4))
    et = finding(a, "export_trend")
    assert (et["outcome"], et["figures"]["growth_pct"]) == (FAIL, D("-10.50"))
    assert et["source"] == "002 §六(一)(3)"
    assert a.proposal == RECTIFY


def test_recertified_base_that_funded_no_projects_must_rectify() -> None:
    annual = {2007: AnnualFigures(2007, date(2007, 12, 1), True, None)}
    a = run(base("recertification", y2006=[1000] * 4, y2007=[1000] * 4, annual=annual))
    assert finding(a, "project_funding")["outcome"] == FAIL
    assert finding(a, "supporting_policies")["outcome"] == PASS
    assert a.proposal == RECTIFY


def test_dry_run_in_august_counts_only_quarters_already_due() -> None:
    # on 2007-08-01 only Q1 (due 04-15) and Q2 (due 07-15) are due; 2 × 3000 = US$60M
    b = base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[3000, 3000, None, None],
             annual={})
    a = run(b, today=date(2007, 8, 1))
    outcomes = {(f.criterion, f.figures.get("quarter")): f.outcome for f in a.findings
                if f.criterion in ("quarterly_report", "annual_report")}
    assert outcomes == {("quarterly_report", 3): NOT_DUE, ("quarterly_report", 4): NOT_DUE,
                        ("annual_report", None): NOT_DUE}
    assert finding(a, "hightech_exports_threshold")["outcome"] == PENDING
    assert a.proposal == KEEP


def test_missing_reference_statistics_leave_growth_undecided_not_failed() -> None:
    a = assess(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4),
               2007, TODAY, RULES, {})
    assert finding(a, "three_year_growth")["outcome"] == PENDING
    assert a.proposal == KEEP


# National Day 2007: 1–7 October off; New Year 2008: 1 January off
@pytest.mark.parametrize(("q", "due"), [(1, date(2007, 4, 20)), (2, date(2007, 7, 20)),
                                        (3, date(2007, 10, 26)), (4, date(2008, 1, 22))])
def test_quarterly_data_is_due_fifteen_working_days_after_the_quarter(q: int, due: date) -> None:
    assert quarterly_due(2007, q, RULES, CAL) == due


def test_data_filed_when_the_reminder_says_there_is_time_is_not_late() -> None:
    # the reminder's deadline for Q3 2006 is 26 October (after the National Day week);
    # filed on 25 October the quarter is on time in the assessment too (issue: it was late)
    on_time = base(y2006=[4000] * 4, y2007=[5000] * 4)
    on_time.quarters[(2007, 3)] = QuarterFigures(2007, 3, D(10000), D(5000), date(2007, 10, 25))
    a = assess(on_time, 2007, TODAY, RULES, REFS)
    assert [f for f in a.findings if f.outcome == LATE] == []


def test_a_round_can_change_the_recertification_floors() -> None:
    rules = AssessmentRules.from_params({"assessment": {"recert_min_hightech_share_pct": "60"}})
    assert rules.recert_min_hightech_share_pct == D("60")
    later = RoundRules(quarterly_report_working_days=20)  # and when quarterly data are due
    assert quarterly_due(2007, 1, later, CAL) == date(2007, 4, 27)
    a = assess(base("recertification", y2006=[5000] * 4, y2007=[5000] * 4,
                    exports2007=[10000] * 4), 2007, TODAY, RULES, REFS, rules)
    assert finding(a, "characteristic_industry")["outcome"] == FAIL


def test_findings_and_indicators_serialise_to_plain_json() -> None:
    import json

    a = run(base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4))
    text = json.dumps({"f": a.findings_json(), "i": a.indicators_json()}, ensure_ascii=False)
    assert '"hightech_exports_musd": "200.00"' in text


def test_findings_are_stored_exactly_as_each_verdict_describes_itself() -> None:
    import json

    for b in (base(form_100m="1.0", form_growth="50", y2006=[4000] * 4, y2007=[5000] * 4),
              base(region="west", y2007=[300, None, 300, 300], annual={}),
              base("recertification", y2006=[5000] * 4, y2007=[5000] * 4,
                   state="rectifying", deadline=date(2007, 12, 1))):
        a = run(b)
        stored = json.loads(json.dumps([f.as_dict() for f in a.findings], default=str))
        assert a.findings_json() == stored


def test_earlier_years_summed_in_bulk_give_the_same_assessment_as_their_quarters() -> None:
    from dataclasses import replace

    for y2006 in ([4000] * 4, [4000, 4000, None, 4000]):
        by_quarter = base(form_100m="1.0", form_growth="50", y2006=y2006, y2007=[5000] * 4)
        complete = None not in y2006
        summed = replace(by_quarter,
                         quarters={k: q for k, q in by_quarter.quarters.items() if k[0] == 2007},
                         yearly_hightech_10k_usd={2006: D(16000)} if complete else {})
        a, b = run(by_quarter), run(summed)
        assert (a.proposal, a.findings_json(), a.indicators_json()) == (
            b.proposal, b.findings_json(), b.indicators_json())
    assert a.indicators["yearly_hightech_musd"]["2006"] is None  # an incomplete year
