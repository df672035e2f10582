"""The tree of authorities on the web: the system administrator's page (add, import,
rename, class, deactivate, delete), account forms that choose from the tree, and what a
city's applicant, its province and the ministry read on their pages."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest

from tests import factories
from tests.crawl import browser as logged_in
from workflow.services import clock

T = datetime(2006, 4, 21, 2, tzinfo=UTC)


@pytest.fixture
def sysadmin(app: Any, world: factories.World) -> Iterator[Any]:
    """The system admin, logged in with a second factor (the clock pinned meanwhile)."""
    yield logged_in(app, world, "sysadmin", T, 1)
    clock.freeze(None)


def row_of(page: str, code: str) -> str:
    found = re.search(rf'<tr data-authority="{code}".*?</tr>', page, flags=re.S)
    assert found, code
    return found.group(0)


def test_the_system_admin_adds_a_city_on_the_page_and_a_bad_one_is_refused_by_field(
        sysadmin: Any) -> None:
    r = sysadmin.post("/admin/authorities", data={
        "parent": "420000", "code": "420500", "name_zh": "宜昌市", "name_en": "Yichang",
        "region": ""})
    assert r.status_code == 302
    page = sysadmin.get("/admin/authorities").get_data(as_text=True)
    yichang = row_of(page, "420500")
    assert 'data-parent="420000"' in yichang and "宜昌市" in yichang and "中部" in yichang
    bad = sysadmin.post("/admin/authorities", data={
        "parent": "420000", "code": "430100", "name_zh": "长沙市", "region": ""},
        follow_redirects=True)
    text = bad.get_data(as_text=True)
    assert [r.status_code for r in bad.history] == [303]  # post/redirect/get
    assert bad.request.path == "/admin/authorities"
    assert 'data-code="code_outside_parent" data-field="code"' in text
    assert "430100 不在湖北省（42）的代码范围内" in text
    assert 'value="长沙市"' in text  # what was typed is kept
    assert 'data-authority="430100"' not in text


def test_an_import_on_the_page_lists_each_bad_row_or_says_what_it_added(
        sysadmin: Any) -> None:
    def send(name: str, data: bytes) -> Any:
        return sysadmin.post("/admin/authorities/import",
                             data={"file": (io.BytesIO(data), name)},
                             content_type="multipart/form-data", follow_redirects=True)

    bad = send("cities.csv", "代码,名称,上级代码\n420500,宜昌市,420000\n4207,鄂州市,420000\n"
               .encode("gb18030"))  # as Chinese Excel saves a CSV
    text = bad.get_data(as_text=True)
    assert [r.status_code for r in bad.history] == [303]
    assert 'data-code="invalid_code" data-field="code"' in text and "第 3 行" in text
    assert 'data-authority="420500"' not in text
    wb = openpyxl.Workbook()
    for row in (["代码", "名称", "上级代码", "地区"], ["420500", "宜昌市", "420000", ""],
                ["433100", "湘西土家族苗族自治州", "430000", "西部"]):
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    done = send("cities.xlsx", out.getvalue())
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "已导入：新增 2 个，更新 0 个，未变 0 个" in text
    assert [r.status_code for r in done.history] == [303]  # a reload imports nothing again
    assert "已导入" not in sysadmin.get("/admin/authorities").get_data(as_text=True)
    xiangxi = row_of(text, "433100")
    assert "西部" in xiangxi and "（单独设定）" in xiangxi and "自治州" in xiangxi


def test_a_city_is_classed_west_renamed_deactivated_and_deleted_only_when_empty(
        sysadmin: Any, world: factories.World) -> None:
    r = sysadmin.post("/admin/authorities/420600", data={"name_zh": "襄樊市",
                                                         "name_en": "Xiangfan",
                                                         "region": "west"})
    assert r.status_code == 302
    page = sysadmin.get("/admin/authorities").get_data(as_text=True)
    assert "襄樊市" in row_of(page, "420600") and "西部" in row_of(page, "420600")
    factories.submitted(world, "wuhan_applicant")
    assert sysadmin.post("/admin/authorities/420100/deactivate").status_code == 302
    page = sysadmin.get("/admin/authorities").get_data(as_text=True)
    wuhan = row_of(page, "420100")
    assert "已停用" in wuhan and "启用" in wuhan
    assert "/admin/authorities/420100/delete" not in wuhan  # it has a case
    refused = sysadmin.post("/admin/authorities/420100/delete", follow_redirects=True)
    assert [r.status_code for r in refused.history] == [303]
    assert 'data-code="authority_has_cases"' in refused.get_data(as_text=True)
    sysadmin.post("/admin/authorities", data={"parent": "420000", "code": "420700",
                                              "name_zh": "鄂州市", "region": ""})
    assert "/admin/authorities/420700/delete" in sysadmin.get(
        "/admin/authorities").get_data(as_text=True)
    assert sysadmin.post("/admin/authorities/420700/delete").status_code == 302
    assert 'data-authority="420700"' not in sysadmin.get(
        "/admin/authorities").get_data(as_text=True)
    fixed = sysadmin.post("/admin/authorities/420000/deactivate", follow_redirects=True)
    assert [r.status_code for r in fixed.history] == [303]
    assert 'data-code="province_level_fixed"' in fixed.get_data(as_text=True)


def test_accounts_are_opened_at_a_city_and_a_deactivated_city_is_not_offered(
        sysadmin: Any) -> None:
    page = sysadmin.get("/admin/accounts").get_data(as_text=True)
    assert '<option value="420100">　湖北省武汉市</option>' in page
    r = sysadmin.post("/admin/accounts", data={
        "username": "wuhan_bureau", "display_name": "武汉市商务局", "email": "w@example.gov.cn",
        "role": "applicant", "authority": "420100", "password": "Temp-pass-2006"})
    assert r.status_code == 302
    refused = sysadmin.post("/admin/accounts", data={
        "username": "wuhan_checker", "display_name": "武汉审核", "email": "w@example.gov.cn",
        "role": "provincial_reviewer", "authority": "420100", "password": "Temp-pass-2006"},
        follow_redirects=True)
    assert [r.status_code for r in refused.history] == [303]
    assert "Temp-pass-2006" not in refused.get_data(as_text=True)  # a password is never kept
    assert 'data-code="reviewer_needs_province" data-field="authority"' in refused.get_data(
        as_text=True)
    sysadmin.post("/admin/authorities/420100/deactivate")
    assert 'value="420100"' not in sysadmin.get("/admin/accounts").get_data(as_text=True)


def test_only_the_system_admin_opens_the_page(app: Any, world: factories.World,
                                              browser: Any) -> None:
    for user in ("hubei_reviewer", "mofcom", "wuhan_applicant"):
        assert browser.login(user).get("/admin/authorities").status_code == 403
        assert browser.post("/admin/authorities", data={"parent": "420000", "code": "420500",
                                                        "name_zh": "宜昌市"}).status_code == 403
    for admin in ("secadmin", "auditor"):
        client = logged_in(app, world, admin, T, 2 if admin == "secadmin" else 3)
        assert client.get("/admin/authorities").status_code == 403
    clock.freeze(None)


def test_a_city_applicant_sees_only_its_citys_drafts_named_with_its_province(
        browser: Any, world: factories.World, frozen: Any) -> None:
    wuhan = factories.draft(world, "wuhan_applicant", applicant_name="武汉光谷草稿")
    xiangyang = factories.draft(world, "xiangyang_applicant", applicant_name="襄阳汽车草稿")
    b = browser.login("wuhan_applicant")
    inbox = b.text("/inbox?tab=all")
    assert "武汉光谷草稿" in inbox and "襄阳汽车草稿" not in inbox
    assert "湖北省武汉市" in inbox  # the whoami line and the authority column
    assert "湖北省武汉市" in b.text(f"/cases/{wuhan}")
    assert b.get(f"/cases/{xiangyang}").status_code == 404
    assert b.get(f"/applications/{xiangyang}/edit").status_code == 404
    b.post("/lang/en")
    assert "Wuhan, Hubei" in b.text(f"/cases/{wuhan}")


def test_a_deactivated_citys_applicant_keeps_its_cases_and_starts_no_new_one(
        browser: Any, world: factories.World, sysadmin: Any) -> None:
    app_id = factories.submitted(world, "wuhan_applicant", applicant_name="武汉光谷")
    sysadmin.post("/admin/authorities/420100/deactivate")
    clock.freeze(None)
    b = browser.login("wuhan_applicant")
    assert "武汉光谷" in b.text(f"/cases/{app_id}")
    r = b.post("/applications/new", data={**{k: v for k, v in factories.form_data().items()
                                             if k != "products"}})
    assert r.status_code == 303
    assert "武汉市已停用，不能新建申报书" in b.text(r.headers["Location"])
    assert "武汉光谷" in browser.login("hubei_reviewer").text("/inbox?tab=all")


def test_the_ministry_counts_cities_in_their_province_and_the_province_sees_each_city(
        browser: Any, world: factories.World, frozen: Any) -> None:
    factories.submitted(world, "wuhan_applicant", applicant_name="武汉光谷")
    factories.submitted(world, "xiangyang_applicant", applicant_name="襄阳汽车")
    national = browser.login("mofcom").text("/dashboard")
    assert "按省级商务主管部门统计" in national
    assert "湖北省" in national and "武汉市" not in national
    province = browser.login("hubei_reviewer").text("/dashboard")
    assert "按地市统计" in province and "武汉市" in province and "襄阳市" in province


def test_the_export_names_the_province_and_the_city(browser: Any, world: factories.World,
                                                    frozen: Any) -> None:
    factories.submitted(world, "wuhan_applicant", applicant_name="武汉光谷")
    r = browser.login("hubei_reviewer").get("/exports/applications.xlsx?tab=all")
    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    head, first = rows[0], rows[1]
    assert first[head.index("省级商务主管部门")] == "湖北省"
    assert first[head.index("申报地市")] == "武汉市"
