"""The JSON API covers what the UI does, through the same services."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from tests import factories
from tests.integration.test_api_errors import bearer, problem_of
from workflow.services import clock
from workflow.storage.models import ApiTokenRow


def test_authorities_and_rounds_carry_regions_calendar_and_criteria(api: Any) -> None:
    me = api.as_("hubei_reviewer")
    authorities = me.get("/api/v1/authorities").get_json()
    assert len([a for a in authorities if a["parent"] is None]) == 37
    hubei = next(a for a in authorities if a["code"] == "420000")
    assert hubei == {**hubei, "name_zh": "湖北省", "region": "central"}
    enshi = next(a for a in authorities if a["code"] == "422800")
    assert enshi == {**enshi, "parent": "420000", "region": "west", "region_overridden": True,
                     "kind": "autonomous_prefecture", "is_active": True}
    rounds = me.get("/api/v1/rounds").get_json()
    assert [r["year"] for r in rounds] == [2006]
    one = me.get("/api/v1/rounds/2006").get_json()
    assert one["calendar"]["submission_deadline"] == "2006-04-30"
    assert one["calendar"]["notice_working_days"] == 5
    assert one["params"]["thresholds_musd"]["west"] == "10"  # 002 §六(二)(2)
    problem_of(me.get("/api/v1/rounds/1999"), 404, "not_found")
    who = me.get("/api/v1/me").get_json()
    assert who == {**who, "role": "provincial_reviewer", "authority": "420000"}


def test_personal_tokens_are_shown_once_stored_hashed_read_only_and_revocable(
        api: Any, world: factories.World) -> None:
    me = api.as_("hubei_applicant")
    r = me.post("/api/v1/tokens", json={"name": "省平台对接", "scope": "read"})
    assert r.status_code == 201
    made = r.get_json()
    token = made["token"]
    with world.uow() as u:
        row = u.session.scalars(select(ApiTokenRow).where(ApiTokenRow.id == made["id"])).one()
        assert row.token_hash != token and token not in row.token_hash
    listed = me.get("/api/v1/tokens").get_json()
    assert made["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)
    auth = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/me", headers=auth).get_json()["token_scope"] == "read"
    refused = api.client.post("/api/v1/applications", json=factories.form_data(), headers=auth)
    assert problem_of(refused, 403, "forbidden")["errors"][0]["code"] == "token_read_only"
    assert me.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    problem_of(api.client.get("/api/v1/me", headers=auth), 401, "unauthorized")
    # someone else's token id is simply not found
    other = api.as_("hunan_applicant").post("/api/v1/tokens", json={"name": "x"}).get_json()
    problem_of(me.delete(f"/api/v1/tokens/{other['id']}"), 404, "not_found")


def test_a_token_stops_working_after_its_last_day(api: Any, world: factories.World) -> None:
    me = api.as_("hubei_applicant")
    clock.freeze(datetime(2006, 3, 1, 2, tzinfo=UTC))
    try:
        made = me.post("/api/v1/tokens", json={"name": "短期", "expires_on": "2006-03-02"})
        assert made.status_code == 201, made.get_data(as_text=True)
        auth = {"Authorization": f"Bearer {made.get_json()['token']}"}
        assert api.client.get("/api/v1/me", headers=auth).status_code == 200
        clock.freeze(datetime(2006, 3, 2, 16, tzinfo=UTC))  # 3 March, 00:00 in Beijing
        problem_of(api.client.get("/api/v1/me", headers=auth), 401, "unauthorized")
        bad = me.post("/api/v1/tokens", json={"name": "x", "expires_on": "2005-01-01"})
        assert problem_of(bad, 422, "validation_error")["errors"][0]["field"] == "expires_on"
    finally:
        clock.freeze(None)


def test_drafts_list_with_filters_and_cursor_pages(api: Any, world: factories.World) -> None:
    ids = [factories.draft(world, applicant_name=f"基地{i}") for i in range(3)]
    me = api.as_("hubei_applicant")
    page1 = me.get("/api/v1/applications?limit=2&state=drafted").get_json()
    assert page1["total"] == 3 and len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = me.get(f"/api/v1/applications?limit=2&cursor={page1['next_cursor']}").get_json()
    assert [i["id"] for i in page1["items"] + page2["items"]] == ids
    assert page2["next_cursor"] is None
    assert me.get("/api/v1/applications?q=基地1").get_json()["total"] == 1
    assert me.get("/api/v1/applications?authority=430000").get_json()["total"] == 0
    bad = me.get("/api/v1/applications?cursor=2006-13-45_1")
    assert problem_of(bad, 422, "validation_error")["errors"][0]["field"] == "cursor"


def test_attachments_upload_checked_by_content_and_download_as_attachment(
        api: Any, world: factories.World) -> None:
    app_id = factories.draft(world)
    me = api.as_("hubei_applicant")
    url = f"/api/v1/applications/{app_id}/attachments"
    r = me.post(url, data={"kind": "development_plan",
                           "file": (io.BytesIO(factories.PDF), "发展方案.pdf")},
                content_type="multipart/form-data")
    assert r.status_code == 201, r.get_data(as_text=True)
    att = r.get_json()
    assert att["kind"] == "development_plan" and att["size_bytes"] == len(factories.PDF)
    fake = me.post(url, data={"kind": "other", "file": (io.BytesIO(b"MZ\x90\x00"), "x.pdf")},
                   content_type="multipart/form-data")
    assert problem_of(fake, 422, "validation_error")["errors"][0]["code"] == "content_mismatch"
    assert len(me.get(url).get_json()) == 1
    dl = me.get(att["download"])
    assert dl.status_code == 200 and dl.data == factories.PDF
    assert dl.headers["Content-Disposition"].startswith("attachment")
    problem_of(api.as_("hunan_applicant").get(att["download"]), 404, "not_found")
    problem_of(me.post(url, json={"kind": "other"}), 415, "unsupported_media_type")


def test_the_public_objects_and_the_ministry_dismisses_or_upholds(
        api: Any, world: factories.World) -> None:
    app_id = factories.published(world)
    clock.freeze(datetime(2006, 5, 2, 2, tzinfo=UTC))
    try:
        notices = api.client.get("/api/v1/notices").get_json()
        assert app_id in [c["id"] for n in notices for c in n["cases"]]
        assert "contact_email" not in api.client.get(f"/api/v1/notices/{app_id}").get_json()
        for text in ("数据重复计算", "企业名单有误"):
            r = api.client.post(f"/api/v1/notices/{app_id}/objections",
                                json={"name": "陈群众", "contact": "chen@example.com",
                                      "text": text})
            assert r.status_code == 201 and r.get_json()["confirmation_no"].startswith("YY")
        problem_of(api.as_("hubei_reviewer").get("/api/v1/objections"), 403, "forbidden")
        ministry = api.as_("mofcom")
        queue = ministry.get("/api/v1/objections").get_json()
        assert [o["text"] for o in queue] == ["数据重复计算", "企业名单有误"]
        assert ministry.post(f"/api/v1/objections/{queue[1]['id']}/dismiss",
                             json={"reason": "不属实"}).status_code == 204
        r = ministry.post(f"/api/v1/objections/{queue[0]['id']}/uphold",
                          json={"reason": "经核查属实", "version": queue[0]["version"]})
        assert r.status_code == 200 and r.get_json()["state"] == "objection_upheld"
    finally:
        clock.freeze(None)
    problem_of(api.client.post(f"/api/v1/notices/{app_id}/objections",
                               json={"name": "a", "contact": "b", "text": "c"}),
               404, "not_found")


def test_a_reviewer_confirms_criteria_with_the_version_read(
        api: Any, world: factories.World) -> None:
    app_id = factories.submitted(world)
    me = api.as_("hubei_reviewer")
    version = me.get(f"/api/v1/applications/{app_id}").get_json()["version"]
    r = me.put(f"/api/v1/applications/{app_id}/attestations",
               json={"values": {"local_policy": True}, "version": version})
    assert r.status_code == 200 and r.get_json()["version"] == version + 1
    problem_of(me.put(f"/api/v1/applications/{app_id}/attestations",
                      json={"values": {"local_policy": False}, "version": version}),
               409, "version_conflict")
    assert me.get(f"/api/v1/applications/{app_id}").get_json()["attestations"] == {
        "local_policy": True}


def test_admin_roles_use_personal_tokens_but_never_touch_cases(
        api: Any, world: factories.World) -> None:
    app_id = factories.draft(world)
    for admin in ("sysadmin", "secadmin", "auditor"):
        auth = bearer(world, admin)
        assert api.client.get("/api/v1/me", headers=auth).get_json()["role"] == admin.replace(
            "sysadmin", "system_admin").replace("secadmin", "security_admin")
        problem_of(api.client.get("/api/v1/applications", headers=auth), 403, "forbidden")
        problem_of(api.client.get(f"/api/v1/applications/{app_id}", headers=auth), 403,
                   "forbidden")


def test_bulk_transitions_report_each_case_on_its_own(api: Any, world: factories.World) -> None:
    ok = factories.recommended(world)
    other = factories.draft(world)
    clock.freeze(datetime(2006, 4, 28, 2, tzinfo=UTC))
    try:
        r = api.as_("mofcom").post("/api/v1/applications/transitions",
                                   json={"ids": [ok, other], "trigger": "publish_notice"})
    finally:
        clock.freeze(None)
    assert r.status_code == 200
    by_id = {x["id"]: x for x in r.get_json()}
    assert by_id[ok] == {"id": ok, "ok": True, "state": "publicly_shown"}
    assert by_id[other]["ok"] is False and by_id[other]["code"] == "invalid_trigger"
