"""A programme's re-evaluation rules are its file's `[assessment]`: each finding picked by
name from the library (workflow/assessment.py FINDINGS) with its parameters, labels and
citation, and the proposal rule as data — checked at load with errors naming the file and
the key, and changed by editing the file alone (no code change)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.definitions import definition, refused
from tests.unit.test_assessment_golden import REFS, RULES, TODAY, base, finding
from workflow.assessment import (
    FINDINGS,
    KEEP,
    RECTIFY,
    REVOKE,
    AssessmentRules,
    assess,
)
from workflow.eligibility import FAIL, PASS
from workflow.programme import (
    PROGRAMMES_DIR,
    digest,
    frozen,
    load,
    programme,
)

SOURCE = PROGRAMMES_DIR / "mofcom-2006-6.toml"




def entry(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in data["assessment"]["findings"] if f["key"] == key)


# --- notice 002's file ---------------------------------------------------------------------

def test_notice_002_cites_its_sections_for_every_finding_and_the_proposal() -> None:
    rules = programme().assessment
    assert rules is not None
    assert {f.key: f.source for f in rules.findings} == {
        "quarterly_report": "002 §四(四)", "annual_report": "002 §四(四)",
        "hightech_exports_threshold": "002 §六(二)(2)", "three_year_growth": "002 §六(二)(3)",
        "characteristic_industry": "002 §六(一)(3)", "export_trend": "002 §六(一)(3)",
        "supporting_policies": "002 §六(一)(1)", "project_funding": "002 §六(一)(2)",
        "local_policy": "002 §六(二)(1)"}
    assert rules.proposal.source == "002 §一 动态调整"
    assert rules.proposal.rectify_on == {"fail", "missing"}
    assert (rules.proposal.rectifying, rules.proposal.still_failing) == ({"rectifying"}, REVOKE)


def test_notice_002_parameters_are_read_from_its_file() -> None:
    rules = AssessmentRules()
    assert rules.recert_min_hightech_share_pct == D(30)
    assert rules.recert_min_growth_pct == D(-10)
    assert rules.programme_share_goal_pct == D(70)  # its [goals] share_pct (002 §一)


def test_a_round_still_overrides_a_parameter_of_the_file_by_name() -> None:
    rules = AssessmentRules.from_params({"assessment": {"recert_min_growth_pct": "-5",
                                                        "not_a_parameter": "1"}})
    assert rules.recert_min_growth_pct == D(-5)
    assert rules.recert_min_hightech_share_pct == D(30)
    assert "not_a_parameter" not in rules.overrides


def test_every_function_of_the_library_is_used_by_notice_002() -> None:
    rules = programme().assessment
    assert rules is not None
    assert {f.finding for f in rules.findings} == set(FINDINGS)


def test_a_programme_without_assessment_has_no_re_evaluation() -> None:
    assert programme("guangdong-2006-59").assessment is None


def test_a_round_frozen_before_the_rules_were_in_the_file_takes_the_file_s() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    start = text.index("# --- re-evaluation")
    older = text[:start] + text[text.index("# --- reminders", start):]  # as rounds froze it
    assert "[assessment" not in older
    assert frozen(digest(older), older).assessment == programme().assessment


# --- checked at load -----------------------------------------------------------------------

def test_an_unknown_finding_is_refused_naming_the_file_and_the_key() -> None:
    data = definition()
    entry(data, "export_trend")["finding"] = "export_trend_v2"
    msg = refused(data)
    assert msg.startswith("broken.toml: assessment.findings[5] (export_trend).finding: "
                          "unknown finding 'export_trend_v2'")
    assert "hightech_share" in msg  # it lists the library's names


def test_a_missing_parameter_is_refused() -> None:
    data = definition()
    del entry(data, "characteristic_industry")["params"]
    assert refused(data) == (
        "broken.toml: assessment.findings[4] (characteristic_industry).params."
        "recert_min_hightech_share_pct: missing (this finding needs it)")


def test_an_unknown_parameter_is_refused() -> None:
    data = definition()
    entry(data, "export_trend")["params"]["recert_max_growth_pct"] = 50
    assert refused(data) == (
        "broken.toml: assessment.findings[5] (export_trend).params.recert_max_growth_pct: "
        "unknown parameter (this finding takes recert_min_growth_pct)")


def test_a_parameter_that_is_not_a_number_is_refused() -> None:
    data = definition()
    entry(data, "export_trend")["params"]["recert_min_growth_pct"] = "-10 %"
    assert "params.recert_min_growth_pct: must be a number" in refused(data)


def test_a_parameter_to_a_finding_that_takes_none_is_refused() -> None:
    data = definition()
    entry(data, "annual_report")["params"] = {"due_working_days": 15}
    assert "(annual_report).params.due_working_days: unknown parameter (this finding " \
           "takes none)" in refused(data)


def test_a_proposal_rule_naming_an_unknown_outcome_is_refused() -> None:
    data = definition()
    data["assessment"]["proposal"]["rectify_on"] = ["fail", "overdue"]
    msg = refused(data)
    assert msg.startswith("broken.toml: assessment.proposal.rectify_on: unknown outcome "
                          "'overdue'")
    assert "missing" in msg and "not_due" in msg


def test_a_proposal_for_a_base_still_failing_must_be_a_proposal() -> None:
    data = definition()
    data["assessment"]["proposal"]["still_failing"] = "suspend"
    assert refused(data) == ("broken.toml: assessment.proposal.still_failing: unknown "
                             "outcome 'suspend' (one of keep, rectify, revoke)")


def test_a_rectifying_state_the_file_does_not_define_is_refused() -> None:
    data = definition()
    data["assessment"]["proposal"]["rectifying"] = ["under_rectification"]
    assert refused(data) == ("broken.toml: assessment.proposal.rectifying: state "
                             "'under_rectification' is not defined")


def test_a_finding_for_an_undefined_kind_of_application_is_refused() -> None:
    data = definition()
    entry(data, "export_trend")["kinds"] = ["recertified"]
    assert "(export_trend).kinds: kind 'recertified' is not defined" in refused(data)


def test_the_same_finding_key_twice_is_refused() -> None:
    data = definition()
    data["assessment"]["findings"].append(copy.deepcopy(entry(data, "export_trend")))
    assert "(export_trend): the finding is defined twice" in refused(data)


def test_a_proposal_rule_is_required() -> None:
    data = definition()
    del data["assessment"]["proposal"]
    assert refused(data).startswith("broken.toml: assessment.proposal: the "
                                    "[assessment.proposal] table is missing")


def test_an_assessment_without_findings_is_refused() -> None:
    data = definition()
    data["assessment"]["findings"] = []
    assert refused(data).startswith("broken.toml: assessment.findings: no "
                                    "[[assessment.findings]]")


# --- the file decides: a copy with one parameter changed and a finding removed ---------------

def copy_of_002(tmp_path: Path, edit: dict[str, str]) -> AssessmentRules:
    """notice 002's file with its text edited (old → new), loaded as a file of its own."""
    text = SOURCE.read_text(encoding="utf-8")
    for old, new in edit.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "mofcom-2006-6-copy.toml"
    path.write_text(text, encoding="utf-8")
    found = load(path).assessment
    assert found is not None
    return AssessmentRules(found)


EXPORT_TREND = '''[[assessment.findings]]
key = "export_trend"  # … and not falling by more than this a year (an interpretation)
finding = "export_trend"
kinds = ["recertification"]
zh = "高新技术产品出口同比降幅不超过下限"
en = "high-tech exports not falling by more than the floor a year"
source = "002 §六(一)(3)"
params = { recert_min_growth_pct = -10 }
'''


def test_the_file_alone_changes_a_base_s_proposal(tmp_path: Path) -> None:
    # a re-certified base: 35 % high-tech share, exports down 20 % on 2006 (5000 → 4000 a
    # quarter), every report on time, policies and funding in the annual report
    b = base("recertification", y2006=[5000] * 4, y2007=[4000] * 4,
             exports2007=[11428] * 4)
    as_002 = assess(b, 2007, TODAY, RULES, REFS)
    assert finding(as_002, "characteristic_industry")["outcome"] == PASS  # 35 % ≥ 30 %
    assert finding(as_002, "export_trend")["outcome"] == FAIL  # −20 % < −10 %
    assert as_002.proposal == RECTIFY

    # the copy asks for 40 % and no longer looks at the trend
    edited = copy_of_002(tmp_path, {
        "params = { recert_min_hightech_share_pct = 30 }":
            "params = { recert_min_hightech_share_pct = 40 }",
        EXPORT_TREND: ""})
    as_copy = assess(b, 2007, TODAY, RULES, REFS, edited)
    assert finding(as_copy, "characteristic_industry")["outcome"] == FAIL
    assert finding(as_copy, "characteristic_industry")["figures"]["threshold_pct"] == D(40)
    assert "export_trend" not in {f.criterion for f in as_copy.findings}
    assert "35.00% < 40%" in as_copy.explanation("zh")

    # the trend alone made 002 propose rectification: without it and at 30 %, keep
    kept = copy_of_002(tmp_path, {EXPORT_TREND: ""})
    assert assess(b, 2007, TODAY, RULES, REFS, kept).proposal == KEEP


def test_the_file_alone_says_what_a_base_still_failing_after_its_deadline_gets(
        tmp_path: Path) -> None:
    failing = base("recertification", y2006=[5000] * 4, y2007=[1000] * 4,
                   state="rectifying", deadline=date(2007, 12, 1))
    assert assess(failing, 2007, TODAY, RULES, REFS).proposal == REVOKE
    lenient = copy_of_002(tmp_path, {'still_failing = "revoke"': 'still_failing = "rectify"'})
    assert assess(failing, 2007, TODAY, RULES, REFS, lenient).proposal == RECTIFY
