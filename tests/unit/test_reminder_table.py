"""Each programme's reminder table is data in its definition file (`[[reminders]]`):
loaded with the rest, checked with errors naming the file and the key, and run with the
round's days unless a row fixes its own."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from workflow.calendar import WorkCalendar
from workflow.programme import PROGRAMMES_DIR, DefinitionError, frozen, parse, programme
from workflow.reminders import Audience, CaseFacts, Days, Deadline, plan, rules_of_round
from workflow.rules import RoundRules

RULES = RoundRules.for_year(2006)
GUANGDONG = "guangdong-2006-59"


def definition(code: str = "mofcom-2006-6") -> dict[str, Any]:
    return tomllib.loads((PROGRAMMES_DIR / f"{code}.toml").read_text(encoding="utf-8"))


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(DefinitionError) as err:
        parse(Path("broken.toml"), data)
    return str(err.value)


def test_notice_002s_reminders_are_read_from_its_file_with_their_wording() -> None:
    table = {r.kind: r for r in programme().reminder_table}
    assert list(table) == ["draft", "provincial_review", "notice_end", "approval",
                           "quarterly_report", "annual_report", "rectification"]
    review = table["provincial_review"]
    assert (review.states, review.audience, review.deadline, review.escalate_to) == (
        {"provincially_reviewed"}, Audience.PROVINCE, Deadline.SUBMISSION,
        Audience.MINISTRY_HEAD)
    assert review.zh == "申报待省级审核推荐" and "报送商务部" in review.action_zh
    assert review.en == "awaiting the province's review and recommendation"
    # the days are the round's: 10, 5, 2, 1 working days, escalation every 3
    rule = review.rule(RULES)
    assert (rule.days_before, rule.escalate_every) == ((10, 5, 2, 1), 3)
    # a public notice lasts a few working days: only the round's last days remind
    assert table["notice_end"].rule(RULES).days_before == (2, 1)
    fewer = RoundRules.from_json({**RULES.to_json(), "reminder_days_before": [10, 5]})
    assert table["notice_end"].rule(fewer).days_before == (1,)


def test_guangdongs_reminders_speak_of_the_province_and_never_of_the_ministry() -> None:
    table = programme(GUANGDONG).reminder_table
    assert [r.kind for r in table] == ["enterprise_draft", "enterprise_designation"]
    assert all(r.audience in (Audience.OWNER, Audience.PROVINCE) for r in table)
    assert all(r.escalate_to is Audience.PROVINCE_HEAD for r in table)
    words = " ".join(r.zh + r.action_zh for r in table)
    assert "省商务厅" in words and "商务部" not in words.replace("省商务厅", "")
    # a city's draft is reminded before the round's submission deadline, a case with the
    # province before its approval deadline (the province decides; no ministry step)
    rules, cal = rules_of_round(table, RULES), WorkCalendar()
    draft = plan(CaseFacts(id=1, state="drafted"), rules, RULES, Days(cal),
                 date(2006, 4, 18)).due  # 10 working days before 30 April
    assert [(d.rule.kind, d.item.deadline) for d in draft] == [
        ("enterprise_draft", RULES.submission_deadline)]
    day = cal.working_days_before(RULES.approval_deadline, 5)
    review = plan(CaseFacts(id=2, state="provincially_reviewed"), rules, RULES, Days(cal),
                  day).due
    assert [(d.rule.kind, d.item.deadline, d.rule.title("en")) for d in review] == [
        ("enterprise_designation", RULES.approval_deadline,
         "enterprise's application awaiting the province's decision")]


def test_a_programme_without_reminders_reminds_no_one() -> None:
    data = definition()
    del data["reminders"]
    loaded = parse(Path("quiet.toml"), data)
    assert loaded.reminders is None and loaded.reminder_table == ()
    assert rules_of_round(loaded.reminder_table, RULES) == ()


def test_a_round_frozen_before_the_table_moved_into_the_file_takes_the_files() -> None:
    text = (PROGRAMMES_DIR / f"{GUANGDONG}.toml").read_text(encoding="utf-8")
    old = text[:text.index("# --- reminders")]
    assert frozen("0" * 63 + "f", old).reminder_table == programme(GUANGDONG).reminder_table


def with_reminder(**changes: Any) -> dict[str, Any]:
    data = definition(GUANGDONG)
    data["reminders"][0].update(changes)
    return data


@pytest.mark.parametrize(("changes", "message"), [
    ({"states": ["submitted"]},
     "reminders[0] (enterprise_draft).states: state 'submitted' is not defined"),
    ({"audience": "mayor"},
     "reminders[0] (enterprise_draft).audience: unknown audience 'mayor' (one of owner, "
     "province, province_head, ministry, ministry_head)"),
    ({"deadline": "end_of_year"},
     "reminders[0] (enterprise_draft).deadline: unknown deadline 'end_of_year'"),
    ({"escalate_to": "governor"},
     "reminders[0] (enterprise_draft).escalate_to: unknown audience 'governor'"),
    ({"days_before": [5, 0]},
     "reminders[0] (enterprise_draft).days_before: must be a whole number of working days"),
    ({"escalate_every": "weekly"},
     "reminders[0] (enterprise_draft).escalate_every: must be a whole number"),
    ({"zh": ""}, "reminders[0] (enterprise_draft).zh: must be a non-empty text"),
    ({"action_en": ""},
     "reminders[0] (enterprise_draft).action_en: the action needs both its Chinese and its "
     "English"),
    ({"kind": "digest"}, "reminders[0] (digest).kind: 'digest' is the digest's own"),
    ({"when": "soon"}, "reminders[0] (enterprise_draft).when: is not a reminder setting"),
])
def test_each_wrong_reminder_setting_is_named_with_its_file_and_key(
        changes: dict[str, Any], message: str) -> None:
    assert refused(with_reminder(**changes)).startswith(f"broken.toml: {message}")


def test_a_kind_defined_twice_is_refused() -> None:
    data = definition(GUANGDONG)
    data["reminders"][1]["kind"] = "enterprise_draft"
    assert refused(data) == ("broken.toml: reminders[1] (enterprise_draft).kind: "
                             "'enterprise_draft' is defined twice")


def test_reminders_that_are_not_a_list_of_tables_are_refused() -> None:
    data = definition(GUANGDONG)
    data["reminders"] = {"kind": "enterprise_draft"}
    assert refused(data) == "broken.toml: reminders: must be a list of [[reminders]] tables"


def test_the_outbox_filter_names_every_programmes_reminders_in_the_readers_language() -> None:
    from workflow.services.reminders import kind_labels

    zh, en = kind_labels("zh"), kind_labels("en")
    assert zh["provincial_review"] == "申报待省级审核推荐"
    assert zh["enterprise_designation"] == "企业申请待省商务厅认定"
    assert en["enterprise_draft"] == ("enterprise's application not yet sent to the "
                                      "provincial department")
    assert (zh["digest"], en["digest"]) == ("每日提醒汇总", "daily digest")


def test_replanning_skips_the_final_states_of_every_programme() -> None:
    from workflow.storage.reminders_repo import final_states

    final = final_states()
    assert {"withdrawn", "declined", "revoked", "rejected", "objection_upheld",
            "designation_revoked"} <= set(final)  # Guangdong's own final state too
    assert not {"drafted", "provincially_reviewed", "approved", "enterprise_designated"} & \
        set(final)
