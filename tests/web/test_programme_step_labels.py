"""Each case's buttons and history speak its own programme's words (issue 17): a draft of
Guangdong's programme (粤府办[2006]59号, programmes/guangdong-2006-59.toml) is submitted
with “报送省商务厅”, its `submit` step's label, not notice 002's “提交至省级商务主管部门”."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from workflow.services import clock

GD = "guangdong-2006-59"
ENTERPRISE = {
    "programme": GD, "round_year": 2007, "kind": "enterprise",
    "applicant_name": "广州珠江机电出口有限公司", "credit_code": "91440100MA59XXXX1",
    "contact_person": "陈经理", "contact_phone": "020-83331234",
    "main_products": "家用电器、电机", "exports_10k_usd": "8600",
}


@pytest.fixture
def gd_draft(api: Any, world: factories.World) -> Iterator[int]:
    """A Guangzhou enterprise's draft in Guangdong's open 2007 round (its owner opened it)."""
    clock.freeze(datetime(2007, 3, 1, 2, tzinfo=UTC))
    try:
        province = api.as_("guangdong_reviewer")
        r = province.post(f"/api/v1/programmes/{GD}/rounds", json={
            "year": 2007, "submission_deadline": "2007-04-30",
            "approval_deadline": "2007-06-29"})
        assert r.status_code == 201, r.get_json()
        assert province.post(f"/api/v1/programmes/{GD}/rounds/2007/open").status_code == 200
        r = api.as_("guangzhou_applicant").post("/api/v1/applications", json=ENTERPRISE)
        assert r.status_code == 201, r.get_json()
        yield r.get_json()["id"]
    finally:
        clock.freeze(None)


def _button(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]+)</button>', page)
    assert found, testid
    return found.group(1)


def test_the_form_and_the_case_page_name_the_submit_step_in_the_programmes_words(
        browser: Any, gd_draft: int) -> None:
    b = browser.login("guangzhou_applicant")
    form = b.text(f"/applications/{gd_draft}/edit")
    assert _button(form, "submit") == "报送省商务厅"
    case = b.text(f"/cases/{gd_draft}")
    assert "报送省商务厅" in case and "提交至省级商务主管部门" not in case
    english = browser.login("guangzhou_applicant", lang="en")
    assert _button(english.text(f"/applications/{gd_draft}/edit"), "submit") \
        == "Submit to the provincial department"


def test_a_notice_002_draft_keeps_notice_002s_words(browser: Any, world: factories.World,
                                                    frozen: Any) -> None:
    app_id = factories.draft(world)
    form = browser.login("hubei_applicant").text(f"/applications/{app_id}/edit")
    assert _button(form, "submit") == "提交至省级商务主管部门"


def test_a_submitted_enterprise_reads_in_its_programmes_state_without_002s_products(
        api: Any, browser: Any, gd_draft: int) -> None:
    # the case page's head and the inbox row name Guangdong's state (省商务厅审核中), not
    # notice 002's (省级审核中); its form has no table of main export products to show empty
    city = api.as_("guangzhou_applicant")
    app = city.post("/api/v1/applications", json={
        **ENTERPRISE, "me_exports_10k_usd": "7200", "own_brand_exports_10k_usd": "2100",
        "own_brand_share_pct": "29.17", "iso9000": True, "iso14000": True,
        "export_credit_grade": "AA", "rd_centre": True}).get_json()
    for kind in ("business_licence", "city_recommendation_letter"):
        assert factories.upload(city, app["id"], kind).status_code == 201
    version = city.get(f"/api/v1/applications/{app['id']}").get_json()["version"]
    r = city.post(f"/api/v1/applications/{app['id']}/transitions",
                  json={"trigger": "submit", "version": version})
    assert r.status_code == 200, r.get_json()
    b = browser.login("guangdong_reviewer")
    case = b.text(f"/cases/{app['id']}")
    badge = r'data-state="provincially_reviewed">([^<]+)</span>'
    assert re.search(badge, case).group(1) == "省商务厅审核中"
    assert "主要出口产品" not in case and "家用电器、电机" in case
    row = re.search(rf'<tr data-case="{app["id"]}">.*?</tr>', b.text("/inbox"), re.S).group(0)
    assert re.search(badge, row).group(1) == "省商务厅审核中"


def _inbox_filters(browser: Any, username: str) -> tuple[list[str], list[str]]:
    """The programmes and the states `username`'s inbox offers to filter by."""
    page = browser.login(username).text("/inbox?tab=all")
    programmes = re.search(r'<select id="f-programme".*?</select>', page, re.S)
    states = re.search(r'<select id="f-state".*?</select>', page, re.S)
    assert states, page[:1500]
    return (re.findall(r'<option value="([^"]+)"', programmes.group(0)) if programmes else [],
            re.findall(r'<option value="([^"]+)"', states.group(0)))


def test_the_inbox_filters_by_the_programmes_the_reviewer_works_in(
        browser: Any, world: factories.World, frozen: Any) -> None:
    # Hubei's reviewer works in notice 002 alone: Guangdong's programme and its states
    # (enterprise_designated …) were offered in its filters
    # (other national programmes a test registered may be listed: every one is open to Hubei)
    programmes, states = _inbox_filters(browser, "hubei_reviewer")
    assert GD not in programmes and "enterprise_designated" not in states
    assert "recommended" in states
    programmes, states = _inbox_filters(browser, "guangdong_reviewer")
    assert {"mofcom-2006-6", GD} <= set(programmes) and "enterprise_designated" in states
    programmes, states = _inbox_filters(browser, "mofcom")
    assert GD in programmes and "enterprise_designated" in states
