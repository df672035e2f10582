"""The kinds of attachment are each programme's: labels, who adds them in which states and
the steps that need them, checked when the file loads (002 §六(三) for notice 002's)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.definitions import definition, refused
from tests.unit.test_guards import case, ctx
from workflow import guards
from workflow.programme import (
    PROGRAMMES_DIR,
    digest,
    frozen,
    programme,
)
from workflow.roles import Actor, Role

SOURCE = PROGRAMMES_DIR / "mofcom-2006-6.toml"




def test_notice_002_needs_the_form_and_plan_to_submit_and_the_letter_to_recommend() -> None:
    p = programme()
    assert [a.kind for a in p.required_attachments("submit")] == [
        "application_form", "development_plan"]
    assert [a.zh for a in p.required_attachments("recommend")] == ["推荐文件"]
    assert [a.kind for a in p.attachable(Role.APPLICANT, "drafted")] == [
        "application_form", "development_plan", "other"]
    assert [a.kind for a in p.attachable(Role.PROVINCIAL_REVIEWER, "provincially_reviewed")] \
        == ["recommendation_letter"]
    assert p.attachable(Role.APPLICANT, "provincially_reviewed") == ()


def test_guangdong_asks_for_its_own_papers() -> None:
    p = programme("guangdong-2006-59")
    assert {a.kind for a in p.required_attachments("submit")} == {
        "business_licence", "city_recommendation_letter"}
    assert p.attachment("recommendation_letter") is None
    assert p.attachment("business_licence").zh == "企业营业执照"  # type: ignore[union-attr]


def first_attachment(data: dict[str, Any]) -> dict[str, Any]:
    return data["attachments"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("role", "mayor", "broken.toml: attachments[0] (application_form).role: unknown role "
                      "'mayor'"),
    ("role", "system_admin", "broken.toml: attachments[0] (application_form).role: 'system_admin' "
                         "cannot act on cases"),
    ("states", ["submitted"], "broken.toml: attachments[0] (application_form).states: "
                              "state 'submitted' is not defined"),
    ("states", [], "broken.toml: attachments[0] (application_form).states: names no state"),
    ("required_for", ["sumbit"], "broken.toml: attachments[0] (application_form)."
                                 "required_for: trigger 'sumbit' is not defined"),
    ("required_for", ["withdraw"], "broken.toml: attachments[0] (application_form)."
                                   "required_for: transition 'withdraw' does not run the guard "
                                   "'required_attachments'"),
    ("zh", "", "broken.toml: attachments[0] (application_form).zh: must be a non-empty text"),
    ("who", "applicant", "broken.toml: attachments[0] (application_form).who: is not an "
                         "attachment setting"),
])
def test_each_wrong_attachment_setting_is_named(key: str, value: Any, message: str) -> None:
    data = definition()
    first_attachment(data)[key] = value
    assert refused(data).startswith(message)


def test_a_kind_defined_twice_or_one_the_system_files_is_refused() -> None:
    data = definition()
    data["attachments"].append(dict(first_attachment(data)))
    assert refused(data) == ("broken.toml: attachments[4] (application_form).kind: "
                             "'application_form' is defined twice")
    data = definition()
    first_attachment(data)["kind"] = "objection_evidence"
    assert "'objection_evidence' is filed by the system, not added" in refused(data)


def test_the_missing_papers_are_named_in_the_programmes_words() -> None:
    p = programme("guangdong-2006-59")
    gd_case = case(attachment_kinds=frozenset({"business_licence"}), programme=p)
    r = guards.required_attachments(gd_case, ctx(Actor(1, Role.APPLICANT, "440100")),
                                    p.by_trigger["submit"])
    assert r is not None and r.code == "missing_attachment"
    assert r.zh == "缺少附件：城市商务局推荐函"
    assert r.en == "missing attachment(s): city bureau's recommendation letter"
    assert r.details == {"attachments": ["city_recommendation_letter"]}


def test_a_round_opened_before_attachments_were_in_the_file_asks_for_the_same_papers() -> None:
    source = SOURCE.read_text(encoding="utf-8")
    start = source.index("# --- attachments")
    older = source[:start] + source[source.index("# --- the application form"):]
    older = older.replace('"required_attachments",', '"recommendation_letter",', 2)
    assert "[[attachments]]" not in older
    p = frozen(digest(older), older)
    assert [a.kind for a in p.required_attachments("recommend")] == ["recommendation_letter"]
    assert [a.kind for a in p.required_attachments("submit")] == [
        "application_form", "development_plan"]
