"""The register of export bases through the API: a re-certification names a real base,
"has existing bases" is read from the register, approval and the ministry's decisions
write it, and the ministry imports it from Excel or CSV (all rows or none)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from tests import factories
from tests.integration.test_api_errors import problem_of
from workflow.services import cases, clock
from workflow.storage import register_repo
from workflow.storage.models import ApplicationRow, ExportBaseRow, HistoryRow

HEAD = ["省级商务主管部门", "基地名称", "基地类型", "认定文号", "认定日期", "状态", "状态日期", "备注"]


def xlsx(rows: list[list[Any]], head: list[str] = HEAD) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(head)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client: Any, data: bytes, name: str) -> Any:
    return client.post("/api/v1/bases/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def register_size(world: factories.World) -> int:
    with world.uow() as u:
        return u.session.query(ExportBaseRow).count()


def admin(api: Any, world: factories.World) -> Any:
    """The system admin through a personal token (admins log in with a one-time code)."""
    from workflow.services import tokens

    token = tokens.create(world.uow(), world.id("sysadmin"), "t").token
    api.tokens["sysadmin"] = token
    return api.as_("sysadmin")


def errors_of(r: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in problem_of(r, 422, "validation_error")["errors"]]


# --- 002 §五(一), §六(一): a re-certification names its base --------------------------------

def test_a_re_certification_naming_no_base_of_its_own_cannot_get_round_the_quota(
        api: Any, world: factories.World) -> None:
    # Hunan has no base in the register: it may recommend one new base (002 §六(三)) …
    factories.recommended(world, "hunan_applicant", "hunan_reviewer",
                          applicant_name="长沙先进电池材料出口创新基地")
    second = factories.submitted(world, "hunan_applicant2", applicant_name="株洲新材料出口创新基地")
    factories.files.attach(world.uow(), world.id("hunan_reviewer"), second,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    reviewer = api.as_("hunan_reviewer")
    body = problem_of(reviewer.post(f"/api/v1/applications/{second}/transitions",
                                    json={"trigger": "recommend", "version": 2}),
                      422, "quota_exceeded")
    assert body["errors"][0]["details"] == {"quota": 1, "used": 1}
    # … and a second one labelled a re-certification names no base, so it goes nowhere
    me = api.as_("hunan_applicant2")
    r = me.post("/api/v1/applications", json=factories.form_data(
        kind="recertification", industry_field=None, applicant_name="湘潭国家高新技术产品出口基地"))
    assert r.status_code == 201, r.get_data(as_text=True)
    app_id = r.get_json()["id"]
    factories.attach_required(world, app_id, "hunan_applicant2")
    body = problem_of(me.post(f"/api/v1/applications/{app_id}/transitions",
                              json={"trigger": "submit", "version": 1}), 422, "guard_failed")
    [refusal] = body["errors"]
    assert (refusal["code"], refusal["field"]) == ("existing_base_required", "existing_base_id")
    assert "出口基地名录" in refusal["message_zh"] and "002 §五(一)" in refusal["message_en"]
    # naming another province's base is refused on saving, and nothing changes
    r = me.patch(f"/api/v1/applications/{app_id}",
                 json={"existing_base_id": world.bases["420000"], "version": 1})
    assert errors_of(r) == [("existing_base_id", "base_of_another_authority")]
    after = me.get(f"/api/v1/applications/{app_id}").get_json()
    assert (after["version"], after["existing_base_id"], after["state"]) == (1, None, "drafted")


def test_the_base_named_must_be_in_the_register_of_the_same_authority_not_revoked_and_its_type(
        api: Any, world: factories.World) -> None:
    me = api.as_("hubei_applicant")
    revoked = factories.add_base(world, "420000", "黄石国家高新技术产品出口基地", status="revoked")

    def draft(**over: Any) -> Any:
        return me.post("/api/v1/applications", json=factories.form_data(
            kind="recertification", industry_field=None, **over))

    before = len(me.get("/api/v1/applications").get_json()["items"])
    assert errors_of(draft(existing_base_id=999999)) == [("existing_base_id", "unknown_base")]
    assert errors_of(draft(existing_base_id=world.bases["440000"])) == [
        ("existing_base_id", "base_of_another_authority")]
    assert errors_of(draft(existing_base_id=revoked)) == [("existing_base_id", "base_revoked")]
    r = draft(existing_base_id=world.bases["420000"], existing_base_type="software")
    assert errors_of(r) == [("existing_base_type", "base_type_mismatch")]
    assert "高新技术产品出口基地" in problem_of(r, 422, "validation_error")["errors"][0]["message_zh"]
    assert errors_of(draft(existing_base_id="武汉")) == [("existing_base_id", "not_an_integer")]
    assert len(me.get("/api/v1/applications").get_json()["items"]) == before  # none made
    ok = draft(existing_base_id=world.bases["420000"])
    assert ok.status_code == 201
    assert (ok.get_json()["existing_base_id"], ok.get_json()["existing_base_type"]) == (
        world.bases["420000"], "hightech")  # the type comes from the register


@pytest.fixture
def in_the_round() -> Iterator[None]:
    """Reviewers act on 20 April 2006, before the round's submission deadline (002 §六(三))."""
    clock.freeze(datetime(2006, 4, 20, 2, tzinfo=UTC))
    yield
    clock.freeze(None)


def test_a_base_is_re_certified_by_one_case_only(api: Any, world: factories.World,
                                                 in_the_round: None) -> None:
    first = factories.submitted(world, **factories.recertification(world))
    second = factories.submitted(world, "hubei_applicant2", **factories.recertification(world))
    factories.files.attach(world.uow(), world.id("hubei_reviewer"), second,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    factories.files.attach(world.uow(), world.id("hubei_reviewer"), first,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    reviewer = api.as_("hubei_reviewer")
    ok = reviewer.post(f"/api/v1/applications/{first}/transitions",
                       json={"trigger": "recommend", "version": 2})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    body = problem_of(reviewer.post(f"/api/v1/applications/{second}/transitions",
                                    json={"trigger": "recommend", "version": 2}),
                      422, "guard_failed")
    assert body["errors"][0]["code"] == "base_already_claimed"
    assert body["errors"][0]["details"]["case"] == first


# --- 002 §六(三): "has existing bases" is the register's -----------------------------------------

def test_whether_a_province_has_bases_is_read_from_the_register_not_set_by_anyone(
        api: Any, world: factories.World, in_the_round: None) -> None:
    mofcom = api.as_("mofcom")

    def has_bases(code: str) -> bool:
        return next(a["has_existing_bases"] for a in
                    mofcom.get("/api/v1/authorities").get_json() if a["code"] == code)

    assert has_bases("110000") and not has_bases("430000")
    # Beijing (east) has a base: it re-certifies and recommends no new base
    app_id = factories.submitted(world, "beijing_applicant", applicant_name="亦庄新材料出口创新基地")
    factories.files.attach(world.uow(), world.id("beijing_reviewer"), app_id,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    reviewer = api.as_("beijing_reviewer")
    url = f"/api/v1/applications/{app_id}"
    assert "recommend" not in reviewer.get(url).get_json()["available_triggers"]
    problem_of(reviewer.post(f"{url}/transitions", json={"trigger": "recommend", "version": 2}),
               422, "quota_exceeded")
    # its only base revoked (the ministry's import says so): Beijing has no base now
    name, _type, document, day = factories.REGISTER["110000"]
    r = upload(mofcom, xlsx([["北京市", name, "医药出口基地", document, day, "已撤销",
                              "2006-03-01"]]), "register.xlsx")
    assert r.get_json() == {"added": 0, "updated": 1, "unchanged": 0}
    assert not has_bases("110000")
    assert "recommend" in reviewer.get(url).get_json()["available_triggers"]
    assert reviewer.post(f"{url}/transitions", json={"trigger": "recommend",
                                                     "version": 2}).status_code == 200


# --- approval and the ministry's decisions write the register ------------------------------------

def test_approval_enters_the_base_and_each_decision_changes_its_status_with_date_and_document(
        api: Any, world: factories.World, pinned_clock: Any) -> None:
    app_id = factories.published(world, **factories.recertification(world))
    ministry = api.as_("mofcom2")
    url = f"/api/v1/applications/{app_id}/transitions"

    def fire(day: str, trigger: str, version: int, **extra: Any) -> None:
        pinned_clock(factories.at(day))
        r = ministry.post(url, json={"trigger": trigger, "version": version, **extra})
        assert r.status_code == 200, r.get_data(as_text=True)

    fire("2006-05-15", "approve", 4, document="商技函[2006]45号")
    [base] = ministry.get("/api/v1/bases?type=innovation").get_json()
    assert (base["name"], base["authority"], base["status"], base["designated_on"],
            base["designation_document"], base["application_id"], base["recertifies_id"]) == (
        "武汉国家高新技术产品出口基地", "420000", "designated", "2006-05-15", "商技函[2006]45号",
        app_id, world.bases["420000"])
    national = ministry.get(f"/api/v1/bases/{world.bases['420000']}").get_json()
    assert national["recertified_by_id"] == base["id"] and national["status"] == "designated"

    fire("2007-01-15", "keep_designation", 5)  # designated stays designated: nothing new
    fire("2007-06-11", "order_rectification", 6, deadline="2007-09-30", reason="季度数据缺失两期",
         document="商技函[2007]12号")
    now = ministry.get(f"/api/v1/bases/{base['id']}").get_json()
    assert (now["status"], now["status_since"]) == ("rectifying", "2007-06-11")
    fire("2007-10-08", "keep_designation", 7)
    fire("2008-02-01", "revoke", 8, reason="复评不合格", document="商技函[2008]3号")
    events = ministry.get(f"/api/v1/bases/{base['id']}").get_json()["events"]
    assert [(e["status"], e["effective_on"], e["decision"], e["document"]) for e in events] == [
        ("designated", "2006-05-15", "approve", "商技函[2006]45号"),
        ("rectifying", "2007-06-11", "order_rectification", "商技函[2007]12号"),
        ("designated", "2007-10-08", "keep_designation", None),
        ("revoked", "2008-02-01", "revoke", "商技函[2008]3号")]
    assert events[1]["reason"] == "季度数据缺失两期"
    assert ministry.get("/api/v1/bases?status=revoked").get_json()[0]["id"] == base["id"]
    history = ministry.get(f"/api/v1/applications/{app_id}/history").get_json()
    assert history[-1]["trigger"] == "revoke"


def test_a_document_number_goes_only_with_a_decision_of_the_register(
        api: Any, world: factories.World) -> None:
    app_id = factories.draft(world)
    factories.attach_required(world, app_id)
    r = api.as_("hubei_applicant").post(f"/api/v1/applications/{app_id}/transitions", json={
        "trigger": "submit", "version": 1, "document": "商技函[2006]1号"})
    assert errors_of(r) == [("document", "document_not_applicable")]
    assert cases.load(world.uow(), world.id("hubei_applicant"), app_id).row.state == "drafted"


def test_the_register_changes_in_the_transaction_of_the_approval_or_not_at_all(
        world: factories.World, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = factories.published(world)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("the register's write fails")

    monkeypatch.setattr(register_repo, "add_event", broken)
    with pytest.raises(RuntimeError):
        cases.fire(world.uow(), world.id("mofcom2"), app_id, "approve", None,
                   now=datetime(2006, 5, 15, 2, tzinfo=UTC))
    with world.uow() as u:
        s = u.session
        assert s.get(ApplicationRow, app_id).state == "publicly_shown"
        assert s.query(HistoryRow).filter_by(application_id=app_id, trigger="approve").count() == 0
        assert s.query(ExportBaseRow).filter_by(application_id=app_id).count() == 0
    monkeypatch.undo()
    cases.fire(world.uow(), world.id("mofcom2"), app_id, "approve", None,
               now=datetime(2006, 5, 15, 2, tzinfo=UTC))
    with world.uow() as u:
        entry = u.session.query(ExportBaseRow).filter_by(application_id=app_id).one()
        assert (entry.base_type, entry.industry_field, entry.designated_on) == (
            "innovation", "information", date(2006, 5, 15))


# --- reading the register ------------------------------------------------------------------------

def test_the_register_is_filtered_by_authority_type_and_status_and_scoped_to_the_reader(
        api: Any, world: factories.World) -> None:
    mofcom = api.as_("mofcom")
    everything = mofcom.get("/api/v1/bases").get_json()
    assert {b["name"] for b in everything} == {v[0] for v in factories.REGISTER.values()}
    assert [b["name"] for b in mofcom.get("/api/v1/bases?authority=420000").get_json()] == [
        "武汉国家高新技术产品出口基地"]
    assert [b["authority"] for b in mofcom.get("/api/v1/bases?type=software").get_json()] == [
        "510000"]
    assert mofcom.get("/api/v1/bases?status=revoked").get_json() == []
    wuhan = next(b for b in everything if b["authority"] == "420000")
    assert (wuhan["type"], wuhan["designation_document"], wuhan["designated_on"]) == (
        "hightech", "外经贸技发[2001]101号", "2001-09-20")
    # a province and its applicants read their own authority's entries
    assert [b["authority"] for b in api.as_("hubei_reviewer").get("/api/v1/bases").get_json()] == [
        "420000"]
    assert api.as_("hunan_applicant").get("/api/v1/bases").get_json() == []
    problem_of(api.as_("hunan_reviewer").get(f"/api/v1/bases/{wuhan['id']}"), 404, "not_found")
    problem_of(admin(api, world).get("/api/v1/bases"), 403, "forbidden")
    r = mofcom.get("/api/v1/bases?type=national&authority=42")
    assert sorted(errors_of(r)) == [("authority", "invalid_format"), ("type", "invalid_choice")]


# --- importing it ----------------------------------------------------------------------------------

def test_the_ministry_imports_the_register_from_its_template_and_again_changes_only_what_differs(
        api: Any, world: factories.World) -> None:
    mofcom = api.as_("mofcom")
    template = mofcom.get("/api/v1/bases/template")
    assert template.status_code == 200 and template.data.startswith(b"PK")
    wb = load_workbook(io.BytesIO(template.data))
    ws = wb.active
    assert [c.value for c in ws[1]] == HEAD
    ws.append(["湖南省", "长沙国家软件出口基地", "软件出口基地", "商科技发[2005]87号", "2005-04-12"])
    ws.append(["420000", "武汉国家高新技术产品出口基地", "高新技术产品出口基地", "外经贸技发[2001]101号",
               "2001-09-20", "限期整改", "2005-11-30", "2005年复核：限期整改"])
    filled = io.BytesIO()
    wb.save(filled)
    r = upload(mofcom, filled.getvalue(), "名录.xlsx")
    assert r.status_code == 200 and r.get_json() == {"added": 1, "updated": 1, "unchanged": 0}
    assert api.as_("hunan_reviewer").get("/api/v1/bases").get_json()[0]["name"] == "长沙国家软件出口基地"
    wuhan = mofcom.get(f"/api/v1/bases/{world.bases['420000']}").get_json()
    assert (wuhan["status"], wuhan["status_since"], wuhan["note"]) == (
        "rectifying", "2005-11-30", "2005年复核：限期整改")
    assert [(e["status"], e["effective_on"], e["decision"]) for e in wuhan["events"]] == [
        ("designated", "2001-09-20", "import"), ("rectifying", "2005-11-30", "import")]
    again = upload(mofcom, filled.getvalue(), "名录.xlsx")
    assert again.get_json() == {"added": 0, "updated": 0, "unchanged": 2}
    assert len(mofcom.get(f"/api/v1/bases/{world.bases['420000']}").get_json()["events"]) == 2


def test_an_import_with_any_bad_row_imports_nothing_and_names_every_row_and_column(
        api: Any, world: factories.World) -> None:
    before = register_size(world)
    csv_text = ("省级商务主管部门,基地名称,基地类型,认定文号,认定日期\n"
                "湖南省,长沙国家软件出口基地,软件出口基地,商科技发[2005]87号,2005-04-12\n"
                "湖南省,株洲国家高新技术产品出口基地,高新区,外经贸技发[2002]238号,2002-07-15\n"
                "火星,火星基地,软件出口基地,,2002-02-30\n")
    r = upload(api.as_("mofcom"), csv_text.encode("gb18030"), "名录.csv")
    assert errors_of(r) == [("rows[3].base_type", "invalid_base_type"),
                            ("rows[4].designation_document", "required"),
                            ("rows[4].authority", "unknown_authority"),
                            ("rows[4].designated_on", "invalid_date")]
    first = problem_of(r, 422, "validation_error")["errors"][0]
    assert first["details"]["row"] == 3 and first["message_zh"].startswith("第 3 行“基地类型”")
    assert register_size(world) == before
    ok = upload(api.as_("mofcom"), csv_text.split("\n", 2)[0].encode("gb18030") + b"\n"
                + csv_text.split("\n")[1].encode("gb18030"), "名录.csv")
    assert ok.get_json() == {"added": 1, "updated": 0, "unchanged": 0}  # GB 18030 CSV, as Excel saves it


def test_only_the_ministry_imports_and_only_a_spreadsheet_or_csv(
        api: Any, world: factories.World) -> None:
    sheet = xlsx([["湖南省", "长沙国家软件出口基地", "软件出口基地", "商科技发[2005]87号", "2005-04-12"]])
    for who in (api.as_("hubei_reviewer"), api.as_("hubei_applicant"), admin(api, world)):
        problem_of(upload(who, sheet, "r.xlsx"), 403, "forbidden")
    assert errors_of(upload(api.as_("mofcom"), b"hello", "r.txt")) == [("file", "unsupported_type")]
    assert errors_of(upload(api.as_("mofcom"), b"PK\x03\x04broken", "r.xlsx")) == [
        ("file", "unsupported_type")]
    assert register_size(world) == len(factories.REGISTER)


def test_a_register_workbook_that_is_a_zip_bomb_or_holds_a_dtd_is_refused_before_parsing(
        api: Any, world: factories.World) -> None:
    from tests import hostile_files

    mofcom = api.as_("mofcom")
    template = mofcom.get("/api/v1/bases/template").data
    bomb = hostile_files.comment_bomb(template)
    assert len(bomb) < 1024 * 1024
    [refusal] = problem_of(upload(mofcom, bomb, "名录.xlsx"), 422, "validation_error")["errors"]
    assert refusal["code"] == "archive_member_too_large" and "压缩炸弹" in refusal["message_zh"]
    laughs = hostile_files.billion_laughs(template)
    assert errors_of(upload(mofcom, laughs, "名录.xlsx")) == [("file", "xml_dtd_forbidden")]
    assert register_size(world) == len(factories.REGISTER)
