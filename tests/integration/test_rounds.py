"""Rounds kept by the ministry (issue 14), through the API, the pages and the CLI, on
SQLite and PostgreSQL: plan 2007, change it while planned, open it (its rules frozen),
walk one case from draft to approved in it while a 2006 base is re-evaluated, close it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests import factories
from tests.factories import at
from workflow.services import cases, clock, files

PLAN_2007 = {"year": 2007, "provincial_internal_deadline": "2007-04-13",
             "submission_deadline": "2007-04-30", "approval_deadline": "2007-05-31",
             "new_base_fields": ["information", "software", "new_materials"],
             "quota_overrides": {"620000": 2}, "notice_working_days": 7}


@pytest.fixture
def march_2007() -> Iterator[None]:
    clock.freeze(datetime(2007, 3, 1, 1, tzinfo=UTC))  # 09:00 in Beijing
    yield
    clock.freeze(None)


def test_the_ministry_plans_changes_and_opens_2007_whose_rules_then_freeze(
        api: Any, march_2007: None) -> None:
    ministry = api.as_("mofcom")
    r = ministry.post("/api/v1/rounds", json=PLAN_2007)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "planned" and body["opened_on"] is None
    assert body["calendar"]["submission_deadline"] == "2007-04-30"
    assert body["params"]["quota_overrides"] == {"620000": 2}
    assert body["calendar"]["notice_working_days"] == 7
    assert body["warnings"] == []  # 13 and 30 April and 31 May 2007 were working days
    # 1 May 2007 was a holiday: said, not refused
    r = ministry.patch("/api/v1/rounds/2007", json={"approval_deadline": "2007-05-01"})
    assert r.status_code == 200
    assert [(w["code"], w["field"]) for w in r.get_json()["warnings"]] == [
        ("not_a_working_day", "approval_deadline")]
    ministry.patch("/api/v1/rounds/2007", json={"approval_deadline": "2007-05-31"})
    r = ministry.post("/api/v1/rounds/2007/open")
    assert r.status_code == 200 and r.get_json()["status"] == "open"
    assert r.get_json()["opened_on"] == "2007-03-01"
    # frozen: no change of rules mid-round, no second opening
    r = ministry.patch("/api/v1/rounds/2007", json={"submission_deadline": "2007-04-20"})
    assert r.status_code == 409 and r.get_json()["errors"][0]["code"] == "round_frozen"
    assert ministry.post("/api/v1/rounds/2007/open").status_code == 409
    got = ministry.get("/api/v1/rounds/2007").get_json()
    assert got["calendar"]["submission_deadline"] == "2007-04-30"
    assert [r["year"] for r in ministry.get("/api/v1/rounds").get_json()] == [2007, 2006]


def test_a_year_whose_holidays_are_not_entered_is_warned_about_with_the_command(
        api: Any, march_2007: None) -> None:
    r = api.as_("mofcom").post("/api/v1/rounds", json={
        "year": 2031, "submission_deadline": "2031-04-30", "approval_deadline": "2031-05-31"})
    # once for the year, naming each deadline in it, not once per deadline
    unconfirmed = [w for w in r.get_json()["warnings"] if w["code"] == "calendar_unconfirmed"]
    assert len(unconfirmed) == 1
    assert "flask --app web calendar confirm-year 2031" in unconfirmed[0]["message_en"]
    assert "报送商务部截止日期 2031-04-30、核准截止日期 2031-05-31 所在的 2031 年节假日安排尚未录入" \
        in unconfirmed[0]["message_zh"]
    assert {"submission_deadline", "approval_deadline"} <= set(
        unconfirmed[0]["details"]["fields"])


def test_only_the_ministry_keeps_rounds(api: Any, march_2007: None) -> None:
    for who in ("hubei_reviewer", "hubei_applicant"):
        r = api.as_(who).post("/api/v1/rounds", json=PLAN_2007)
        assert r.status_code == 403 and r.get_json()["errors"][0]["code"] == "round_owner_only"
    assert [r["year"] for r in api.as_("hubei_reviewer").get("/api/v1/rounds").get_json()] \
        == [2006]


def test_bad_input_names_every_field_at_once_and_plans_nothing(
        api: Any, march_2007: None) -> None:
    r = api.as_("mofcom").post("/api/v1/rounds", json={
        "year": "二〇〇七", "submission_deadline": "2007-13-01", "approval_deadline": "",
        "quota_overrides": {"999999": 1, "620000": "many"}, "notice_working_days": 0,
        "new_base_fields": ["tourism"]})
    assert r.status_code == 422
    errors = {(e["field"], e["code"]) for e in r.get_json()["errors"]}
    assert errors == {("year", "invalid_year"), ("submission_deadline", "invalid_date"),
                      ("approval_deadline", "required"),
                      ("quota_overrides.999999", "unknown_authority"),
                      ("quota_overrides.620000", "invalid_number"),
                      ("notice_working_days", "out_of_range"),
                      ("new_base_fields", "unknown_industry_field")}
    assert [x["year"] for x in api.as_("mofcom").get("/api/v1/rounds").get_json()] == [2006]


def test_2007_takes_a_case_from_draft_to_approval_while_a_2006_base_is_re_evaluated(
        api: Any, world: factories.World, march_2007: None) -> None:
    base_2006 = factories.approved(world)  # Hubei's 2006 base (approved 15 May 2006)
    ministry = api.as_("mofcom")
    ministry.post("/api/v1/rounds", json={**PLAN_2007, "quota_overrides": {}})
    # drafting waits for the round to open
    r = api.as_("sichuan_applicant").post("/api/v1/applications", json=factories.form_data(
        round_year=2007, applicant_name="成都2007基地", filled_on="2007-03-01"))
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "round_not_open"
    ministry.post("/api/v1/rounds/2007/open")
    r = api.as_("sichuan_applicant").post("/api/v1/applications", json=factories.form_data(
        round_year=2007, applicant_name="成都2007基地", filled_on="2007-03-01"))
    assert r.status_code == 201, r.get_json()
    new = r.get_json()["id"]
    w = world
    factories.attach_required(w, new, "sichuan_applicant")
    cases.fire(w.uow(), w.id("sichuan_applicant"), new, "submit", None, now=at(date(2007, 4, 2)))
    # meanwhile the ministry keeps the 2006 base after its re-evaluation
    cases.fire(w.uow(), w.id("mofcom"), base_2006, "keep_designation", None,
               now=at(date(2007, 4, 3)))
    files.attach(w.uow(), w.id("sichuan_reviewer"), new, "recommendation_letter", "l.pdf",
                 factories.PDF, w.upload_dir, 10 << 20, now=at(date(2007, 4, 10)))
    cases.fire(w.uow(), w.id("sichuan_reviewer"), new, "recommend", None,
               now=at(date(2007, 4, 10)))
    cases.fire(w.uow(), w.id("mofcom"), new, "publish_notice", None, now=at(date(2007, 4, 20)))
    notice = api.as_("mofcom").get(f"/api/v1/applications/{new}").get_json()
    # the 2007 round's own 7 working days, with 28 and 29 April 2007 (a weekend) worked
    assert notice["notice_ends_on"] == "2007-04-29"
    cases.fire(w.uow(), w.id("mofcom2"), new, "approve", None, now=at(date(2007, 4, 30)))
    rows = {a["id"]: a for a in ministry.get("/api/v1/applications?limit=50").get_json()["items"]}
    assert (rows[new]["state"], rows[new]["round_year"]) == ("approved", 2007)
    assert (rows[base_2006]["state"], rows[base_2006]["round_year"]) == ("re_evaluated", 2006)
    # both rounds at once, and the filter tells them apart
    only_2007 = ministry.get("/api/v1/applications?round=2007").get_json()["items"]
    assert [a["id"] for a in only_2007] == [new]


def test_a_closed_round_takes_no_new_draft_and_says_why(api: Any, march_2007: None) -> None:
    ministry = api.as_("mofcom")
    ministry.post("/api/v1/rounds", json=PLAN_2007)
    ministry.post("/api/v1/rounds/2007/open")
    r = ministry.post("/api/v1/rounds/2007/close")
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    assert ministry.post("/api/v1/rounds/2007/close").status_code == 409
    r = api.as_("hubei_applicant").post("/api/v1/applications", json=factories.form_data(
        round_year=2007, filled_on="2007-03-01"))
    assert r.status_code == 422
    assert (r.get_json()["errors"][0]["code"], r.get_json()["errors"][0]["field"]) == (
        "round_closed", "round_year")


def test_the_pages_plan_keep_what_was_typed_on_an_error_and_open_the_round(
        client: Any, world: factories.World, march_2007: None) -> None:
    factories.login(client, "mofcom")
    r = client.post("/rounds", data={"year": "2007", "submission_deadline": "2007-04-30",
                                     "approval_deadline": "2007-04-01",
                                     "quota_overrides": "620000=2\n湖北一个", "new_base_fields":
                                     ["software"]})
    assert r.status_code == 303 and r.headers["Location"].endswith("/rounds/new")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-error-for="approval_deadline"' in page
    assert 'data-error-for="quota_overrides"' in page  # both errors at once
    assert 'value="2007-04-01"' in page and "湖北一个" in page  # what was typed, kept
    assert "湖北一个" not in client.get("/rounds/new").get_data(as_text=True)  # once
    r = client.post("/rounds", data={"year": "2007", "submission_deadline": "2007-04-30",
                                     "approval_deadline": "2007-05-31",
                                     "new_base_fields": ["software", "information"]})
    assert r.status_code == 303 and r.headers["Location"].endswith("/rounds/2007")
    r = client.post("/rounds/2007", data={"submission_deadline": "2007-04-30",
                                          "approval_deadline": "2007-04-01",
                                          "new_base_fields": ["software"]})
    assert r.status_code == 303 and r.headers["Location"].endswith("/rounds/2007")
    page = client.get("/rounds/2007").get_data(as_text=True)
    assert 'data-error-for="approval_deadline"' in page and 'value="2007-04-01"' in page
    r = client.post("/rounds/2007/open")
    assert r.status_code == 303
    page = client.get("/rounds/2007").get_data(as_text=True)
    assert 'data-round-status="open"' in page and "开放申报" not in page.split("</h1>")[1]
    client.post("/logout")
    factories.login(client, "hubei_reviewer")
    listing = client.get("/rounds").get_data(as_text=True)
    assert 'data-round="2007"' in listing and "设立申报年度" not in listing
    assert client.post("/rounds/2007/close").status_code == 303  # refused, flashed
    assert 'data-round-status="open"' in client.get("/rounds/2007").get_data(as_text=True)


def test_the_cli_opens_2007_in_one_command_and_refuses_a_second_opening(
        app: Any, march_2007: None) -> None:
    runner = app.test_cli_runner()
    r = runner.invoke(args=["rounds", "open", "--year", "2007", "--submission", "2007-04-30",
                            "--approval", "2007-05-31", "--field", "software", "--quota",
                            "620000=2", "--as-user", "mofcom"])
    assert r.exit_code == 0, r.output
    assert '"status": "open"' in r.output and '"opened_on": "2007-03-01"' in r.output
    r = runner.invoke(args=["rounds", "open", "--year", "2007", "--as-user", "mofcom"])
    assert r.exit_code != 0 and "round_not_planned" in r.output
    r = runner.invoke(args=["rounds", "list"])
    assert "2007  open" in r.output and "2006  open" in r.output
    r = runner.invoke(args=["rounds", "close", "--year", "2007", "--as-user", "hubei_reviewer"])
    assert r.exit_code != 0 and "round_owner_only" in r.output
