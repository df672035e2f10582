"""The system administrator keeps the tree of authorities through the API: cities added,
renamed, classed, deactivated (their history kept), deleted only while they hold nothing,
and imported from Excel or CSV — all of a list or nothing, each bad row named."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from tests import factories
from tests.integration.test_api_errors import bearer, problem_of

ADMIN = "/api/v1/admin/authorities"


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(api: Any, headers: dict[str, str], name: str, data: bytes, query: str = "") -> Any:
    return api.client.post(f"{ADMIN}/import{query}", headers=headers,
                           data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")


def tree(api: Any, world: factories.World) -> dict[str, dict[str, Any]]:
    listed = api.client.get(ADMIN, headers=bearer(world, "sysadmin"))
    assert listed.status_code == 200
    return {a["code"]: a for a in listed.get_json()}


def test_the_system_admin_adds_a_city_everyone_reads_it_and_bad_entries_name_their_field(
        api: Any, world: factories.World) -> None:
    sysadmin = bearer(world, "sysadmin")
    r = api.client.post(ADMIN, headers=sysadmin, json={
        "code": "420500", "name_zh": "宜昌市", "name_en": "Yichang", "parent": "420000"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json() == {"code": "420500", "name_zh": "宜昌市", "name_en": "Yichang",
                            "kind": "prefecture_city", "region": "central",
                            "region_overridden": False, "is_active": True,
                            "parent": "420000", "cases": 0, "accounts": 0}
    seen = api.as_("hunan_reviewer").get("/api/v1/authorities").get_json()
    assert {"code": "420500", "parent": "420000", "region": "central"}.items() <= next(
        a for a in seen if a["code"] == "420500").items()
    before = tree(api, world)
    for entry, code, field in (
            ({"code": "42050", "name_zh": "x", "parent": "420000"}, "invalid_code", "code"),
            ({"code": "420000", "name_zh": "x", "parent": "420000"}, "not_a_prefecture_code",
             "code"),
            ({"code": "430100", "name_zh": "长沙市", "parent": "420000"}, "code_outside_parent",
             "code"),
            ({"code": "420500", "name_zh": "宜昌市", "parent": "420000"}, "code_taken", "code"),
            ({"code": "210200", "name_zh": "大连市", "parent": "210000"}, "code_taken", "code"),
            ({"code": "110100", "name_zh": "市辖区", "parent": "110000"},
             "parent_takes_no_cities", "parent"),
            ({"code": "420700", "name_zh": "鄂州市", "parent": "429999"}, "unknown_parent",
             "parent"),
            ({"code": "420700", "name_zh": "鄂州市", "parent": "420100"}, "unknown_parent",
             "parent"),
            ({"code": "420700", "name_zh": "", "parent": "420000"}, "required", "name_zh"),
            ({"code": "420700", "name_zh": "鄂州市", "parent": "420000", "region": "south"},
             "invalid_region", "region")):
        body = problem_of(api.client.post(ADMIN, headers=sysadmin, json=entry), 422,
                          "validation_error")
        assert [(e["code"], e["field"]) for e in body["errors"]] == [(code, field)], entry
    assert tree(api, world) == before  # nothing changed
    for user in ("hubei_reviewer", "mofcom", "secadmin", "auditor"):
        problem_of(api.client.post(ADMIN, headers=bearer(world, user), json={
            "code": "420700", "name_zh": "鄂州市", "parent": "420000"}), 403, "forbidden")
        problem_of(api.client.get(ADMIN, headers=bearer(world, user)), 403, "forbidden")


def test_a_city_is_renamed_and_classed_apart_from_its_province_and_back(
        api: Any, world: factories.World) -> None:
    sysadmin = bearer(world, "sysadmin")
    r = api.client.patch(f"{ADMIN}/420600", headers=sysadmin,
                         json={"name_zh": "襄樊市", "name_en": "Xiangfan", "region": "west"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert {"name_zh": "襄樊市", "region": "west", "region_overridden": True}.items() \
        <= r.get_json().items()
    back = api.client.patch(f"{ADMIN}/420600", headers=sysadmin, json={"region": None})
    assert {"name_zh": "襄樊市", "region": "central", "region_overridden": False}.items() \
        <= back.get_json().items()
    problem_of(api.client.patch(f"{ADMIN}/420000", headers=sysadmin,
                                json={"name_zh": "湖北"}), 422, "validation_error")
    problem_of(api.client.patch(f"{ADMIN}/429900", headers=sysadmin,
                                json={"name_zh": "x"}), 404, "not_found")


def test_a_deactivated_city_keeps_its_history_starts_nothing_and_is_never_deleted(
        api: Any, world: factories.World) -> None:
    sysadmin = bearer(world, "sysadmin")
    base = factories.approved(world, "wuhan_applicant", applicant_name="武汉光谷光电子信息产业集群")
    r = api.client.put(f"{ADMIN}/420100/active", headers=sysadmin, json={"active": False})
    assert r.status_code == 200 and r.get_json()["is_active"] is False
    assert r.get_json()["cases"] == 1
    # the case, its history and its city stay, for the city, its province and the ministry
    for user in ("wuhan_applicant", "hubei_reviewer", "mofcom"):
        me = api.as_(user)
        assert me.get(f"/api/v1/applications/{base}").get_json()["authority"] == "420100"
        steps = [h["trigger"] for h in me.get(f"/api/v1/applications/{base}/history").get_json()]
        assert steps == ["submit", "recommend", "publish_notice", "approve"], user
    # it starts no application and gets no new account
    body = problem_of(api.as_("wuhan_applicant").post("/api/v1/applications",
                                                      json=factories.form_data()), 403,
                      "forbidden")
    assert body["errors"][0]["code"] == "authority_inactive"
    body = problem_of(api.client.post("/api/v1/users", headers=sysadmin, json={
        "username": "wuhan_new", "display_name": "武汉市商务局", "email": "w@example.gov.cn",
        "role": "applicant", "authority": "420100", "password": "Wuhan-temp-2006!x"}), 422,
        "validation_error")
    assert (body["errors"][0]["code"], body["errors"][0]["field"]) == ("authority_inactive",
                                                                       "authority")
    # never deleted while it has cases; deleted once it holds nothing
    body = problem_of(api.client.delete(f"{ADMIN}/420100", headers=sysadmin), 422,
                      "validation_error")
    assert (body["errors"][0]["code"], body["errors"][0]["details"]["cases"]) == (
        "authority_has_cases", 1)
    assert "420100" in tree(api, world)
    problem_of(api.client.delete(f"{ADMIN}/420600", headers=sysadmin), 422,
               "validation_error")  # Xiangyang has an account
    api.client.post(ADMIN, headers=sysadmin, json={"code": "420700", "name_zh": "鄂州市",
                                                   "parent": "420000"})
    assert api.client.delete(f"{ADMIN}/420700", headers=sysadmin).status_code == 204
    assert "420700" not in tree(api, world)
    back = api.client.put(f"{ADMIN}/420100/active", headers=sysadmin, json={"active": True})
    assert back.get_json()["is_active"] is True
    assert api.as_("wuhan_applicant").post("/api/v1/applications",
                                           json=factories.form_data()).status_code == 201


def test_a_provincial_reviewer_belongs_to_a_province_not_to_a_city(
        api: Any, world: factories.World) -> None:
    body = problem_of(api.client.post("/api/v1/users", headers=bearer(world, "sysadmin"), json={
        "username": "wuhan_reviewer", "display_name": "武汉审核", "email": "w@example.gov.cn",
        "role": "provincial_reviewer", "authority": "420100",
        "password": "Wuhan-temp-2006!x"}), 422, "validation_error")
    assert (body["errors"][0]["code"], body["errors"][0]["field"]) == (
        "reviewer_needs_province", "authority")
    made = api.client.post("/api/v1/users", headers=bearer(world, "sysadmin"), json={
        "username": "yichang_applicant", "display_name": "宜昌市商务局",
        "email": "y@example.gov.cn", "role": "applicant", "authority": "420100",
        "password": "Wuhan-temp-2006!x"})
    assert made.status_code == 201


def test_an_import_with_a_bad_row_names_each_row_and_field_and_imports_nothing(
        api: Any, world: factories.World) -> None:
    sysadmin = bearer(world, "sysadmin")
    before = tree(api, world)
    csv = ("代码,名称,上级代码,地区\n"
           "420500,宜昌市,420000,\n"
           "420700,鄂州市,420000,south\n"
           "430100,长沙市,420000,\n"
           "420500,宜昌市,420000,\n").encode()
    body = problem_of(upload(api, sysadmin, "cities.csv", csv), 422, "validation_error")
    assert [(e["code"], e["field"], e["details"]["row"]) for e in body["errors"]] == [
        ("invalid_region", "region", 3), ("code_outside_parent", "code", 4),
        ("duplicate_code", "code", 5)]
    assert body["errors"][0]["message_zh"].startswith("第 3 行")
    assert tree(api, world) == before  # 宜昌 (row 2 was fine) was not imported either


def test_a_workbook_imports_new_cities_updates_known_ones_and_a_second_run_changes_nothing(
        api: Any, world: factories.World) -> None:
    sysadmin = bearer(world, "sysadmin")
    rows = [["code", "name", "parent", "name_en", "region"],
            [420500, "宜昌市", 420000, "Yichang", ""],
            ["422800", "恩施土家族苗族自治州", "420000", "Enshi", "西部"],
            ["420600", "襄樊市", "420000", "Xiangfan", ""],
            [None, None, None, None, None],
            ["510700", "绵阳市", "510000", "Mianyang", ""]]
    dry = upload(api, sysadmin, "cities.xlsx", xlsx(rows), "?dry_run=true")
    assert dry.get_json() == {"created": ["420500", "510700"], "updated": ["420600"],
                              "unchanged": ["422800"], "dry_run": True}
    assert "420500" not in tree(api, world)
    done = upload(api, sysadmin, "cities.xlsx", xlsx(rows))
    assert done.get_json() == {**dry.get_json(), "dry_run": False}
    after = tree(api, world)
    assert {"name_zh": "宜昌市", "parent": "420000", "region": "central"}.items() \
        <= after["420500"].items()
    assert after["420600"]["name_zh"] == "襄樊市"
    again = upload(api, sysadmin, "cities.xlsx", xlsx(rows)).get_json()
    assert (again["created"], again["updated"]) == ([], [])
    problem_of(upload(api, sysadmin, "cities.pdf", factories.PDF), 422, "validation_error")
    body = problem_of(upload(api, sysadmin, "cities.csv", b"city,province\n1,2\n"), 422,
                      "validation_error")
    assert {e["code"] for e in body["errors"]} == {"missing_column"}
    problem_of(upload(api, bearer(world, "hubei_reviewer"), "cities.xlsx", xlsx(rows)), 403,
               "forbidden")
