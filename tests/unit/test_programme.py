"""A programme is a definition file: loaded, checked with errors that name the file, the
key and what is wrong, and the one place a state's meaning lives."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.definitions import definition, refused
from workflow.effects import EFFECTS
from workflow.guards import GUARDS
from workflow.programme import check_names, parse, programme
from workflow.roles import Role


def test_notice_002_is_a_definition_file_the_engine_accepts() -> None:
    p = programme()
    check_names(p, GUARDS, EFFECTS)
    assert p.citation_zh.endswith("（商技发〔2006〕6号）") and p.owner is Role.MINISTRY_REVIEWER
    assert p.initial == "drafted"
    # what the states mean, as 002 says (§六(三): quota; §四(四): bases report)
    assert p.designated == {"approved", "re_evaluated", "rectifying"}
    assert p.uses_quota == {"recommended", "publicly_shown", "approved", "re_evaluated",
                            "rectifying"}
    assert p.waiting_for([Role.PROVINCIAL_REVIEWER]) == {"provincially_reviewed"}
    assert p.by_trigger["recommend"].locks == "province"
    assert p.by_trigger["publish_notice"].effects == ("start_notice", "record_override")


def test_a_transition_to_a_state_that_does_not_exist_names_it() -> None:
    data = definition()
    data["transitions"][0]["to"] = "submitted"
    assert refused(data) == ("broken.toml: transitions[0] (submit).to: state 'submitted' "
                             "is not defined")


def test_a_state_no_transition_leaves_is_refused_unless_terminal() -> None:
    data = definition()
    data["states"]["parked"] = {"zh": "搁置", "en": "Parked"}
    data["transitions"].append({"trigger": "park", "from": ["drafted"], "to": "parked",
                                "roles": ["applicant"], "zh": "搁置", "en": "Park"})
    assert "states.parked: no transition leaves it and it is not terminal" in refused(data)


def test_an_unknown_guard_or_effect_is_named_with_its_transition() -> None:
    data = definition()
    data["transitions"][0]["guards"] = ["scope", "required_attachments", "has_a_nice_logo"]
    assert "transitions (submit).guards: unknown guard 'has_a_nice_logo'" in refused(data, True)
    data = definition()
    data["transitions"][0]["effects"] = ["record_submission", "send_flowers"]
    assert "transitions (submit).effects: unknown effect 'send_flowers'" in refused(data, True)


@pytest.mark.parametrize(("where", "value", "message"), [
    (("states", "drafted", "tone"), "loud", "states.drafted.tone: unknown tone 'loud'"),
    (("states", "drafted", "waiting"), ["governor"], "states.drafted.waiting: unknown role"),
    (("states", "drafted", "deadline"), ["round.someday"],
     "states.drafted.deadline: unknown deadline source 'round.someday'"),
    (("states", "drafted", "colour"), "blue", "states.drafted.colour: is not a state setting"),
    (("programme", "initial"), "nowhere", "programme.initial: state 'nowhere' is not defined"),
])
def test_each_wrong_setting_is_named(where: tuple[str, ...], value: Any, message: str) -> None:
    data = definition()
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert message in refused(data)


def test_a_trigger_defined_twice_is_refused() -> None:
    data = definition()
    data["transitions"].append(dict(data["transitions"][0]))
    assert "transitions (submit): the trigger is defined twice" in refused(data)


def test_when_a_base_was_designated_is_found_from_its_states_not_a_trigger_name() -> None:
    # 002 §六(三) 核准: the step into a designated state from one that is not
    assert programme().designating == {"approve"}
    data = definition()
    for t in data["transitions"]:
        if t["trigger"] == "approve":
            t["trigger"] = "grant_designation"
    renamed = parse(Path("renamed.toml"), data)
    assert renamed.designating == {"grant_designation"}
    # re-evaluation keeps a base a base: it does not designate it again
    assert "keep_designation" not in renamed.designating
    # Guangdong's list designates through its own step, with no register of bases
    guangdong = programme("guangdong-2006-59")
    assert guangdong.designating == {"designate_enterprise"}
    assert guangdong.designated == {"enterprise_designated"}
    assert not any(s.register for s in guangdong.states.values())
    # a programme with no designated state designates nothing
    data = tomllib.loads(guangdong.source or "")
    del data["states"]["enterprise_designated"]["designated"]
    assert parse(Path("plain.toml"), data).designating == frozenset()


def test_a_new_round_starts_from_its_programme_file() -> None:
    # notice 002's round of any year: 002 §六(三)'s 30 April and end of May, §六(二)(2)'s
    # thresholds, §六(三)'s quotas — written once, in programmes/mofcom-2006-6.toml
    r = programme().round_rules(2008)
    assert (r.provincial_internal_deadline, r.submission_deadline, r.approval_deadline) == (
        date(2008, 4, 14), date(2008, 4, 30), date(2008, 5, 31))
    assert r.threshold_for("west") == 10 and r.quota_for("420000", "central", True) == 1
    assert r.quota_for("310000", "east", True) == 0 and r.national_new_target == 15
    # Guangdong's own calendar, no province-internal date, no industry fields of 002
    g = programme("guangdong-2006-59").round_rules(2008)
    assert (g.provincial_internal_deadline, g.submission_deadline, g.approval_deadline) == (
        None, date(2008, 6, 30), date(2008, 7, 31))
    assert g.new_base_fields == ()
    # a changed file changes the next round, nothing else
    data = definition()
    data["rounds"]["notice_working_days"] = 7
    data["rounds"]["submission_deadline"] = "04-20"
    changed = parse(Path("changed.toml"), data).round_rules(2009)
    assert changed.notice_working_days == 7 and changed.submission_deadline == date(2009, 4, 20)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("submission_deadline", "02-29", "rounds.submission_deadline: '02-29' is not a month and day"),
    ("approval_deadline", "2006-05-31", "rounds.approval_deadline: '2006-05-31' is not a month"),
    ("quota_of_everyone", 3, "rounds.quota_of_everyone: is not a round setting"),
    ("year", 2006, "rounds.year: is not a round setting"),
    ("thresholds_musd", {"east": 100, "west": 10}, "rounds.thresholds_musd: must give each region"),
    ("notice_working_days", 0, "rounds.notice_working_days: must be a whole number ≥ 1"),
    ("new_base_fields", ["robots"], "rounds.new_base_fields: 'robots' is not one of"),
    ("blocking_criteria", ["beauty"], "rounds.blocking_criteria: 'beauty' is not a criterion"),
    ("reminder_days_before", 5, "rounds.reminder_days_before: must be a list of days"),
])
def test_each_wrong_round_setting_is_named(key: str, value: Any, message: str) -> None:
    data = definition()
    data["rounds"][key] = value
    assert message in refused(data)


def test_a_round_needs_its_dates() -> None:
    data = definition()
    del data["rounds"]["approval_deadline"]
    assert "rounds.approval_deadline: missing (a new round needs it)" in refused(data)
