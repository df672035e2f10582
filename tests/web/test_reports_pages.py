"""The reporting and re-evaluation pages, through the real login and forms."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import databases, factories
from tests.web.conftest import Browser
from workflow.quarterly_data import BASE_SHEET
from workflow.services import clock


@pytest.fixture
def in_2007() -> Any:
    clock.freeze(datetime(2007, 2, 1, 10, 0, tzinfo=clock.CHINA))
    yield
    clock.freeze(None)


@pytest.fixture
def base(world: factories.World) -> int:
    return factories.approved(world)


def test_applicant_uploads_the_template_and_sees_the_quarters_in_table_and_chart(
        browser: Browser, base: int, in_2007: Any) -> None:
    browser.login("hubei_applicant")
    page = browser.text(f"/reports/bases/{base}")
    assert "尚未报送季度数据" in page
    r = browser.get(f"/reports/bases/{base}/template.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    for q in (1, 2, 3, 4):
        wb[BASE_SHEET].append([2006, q, 30000, 20000 + q, 100])
    out = io.BytesIO()
    wb.save(out)
    r = browser.post(f"/reports/bases/{base}/upload",
                     data={"file": (io.BytesIO(out.getvalue()), "2006.xlsx")},
                     content_type="multipart/form-data", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "已导入 4 个季度的数据" in page
    assert 'data-chart="line"' in page and "2006Q4" in page and "20,004" in page


def test_a_base_s_page_checks_who_may_see_it_once_and_reads_the_user_and_the_base_once(
        browser: Browser, world: factories.World, base: int, db_url: str,
        in_2007: Any) -> None:
    """The page's quarters, annual reports, evaluations and columns come from one read:
    the statements it sends load the base and look up deputies (the scope check) once, and
    the user twice — the login's check of the session (every page), then the page's read.
    Five service calls loaded the user six times and the base five."""
    from workflow.services import reports

    reports.submit_quarter(world.uow(), world.id("hubei_applicant"), base,
                           {"year": 2006, "quarter": 4, "exports_10k_usd": "30000",
                            "hightech_exports_10k_usd": "20004"})
    browser.login("hubei_reviewer")
    with databases.statements_sent(db_url) as sent:
        page = browser.text(f"/reports/bases/{base}")
    assert "2006Q4" in page and "20,004" in page and "暂无复评结果" in page
    users = [s for s in sent if " FROM users " in s and "JOIN deputies" not in s]
    assert len(users) == 2, users
    assert len([s for s in sent if " FROM applications " in s]) == 1
    assert len([s for s in sent if "JOIN deputies" in s]) == 1


def test_filing_a_quarter_from_the_form_reads_the_base_once(
        browser: Browser, base: int, db_url: str, in_2007: Any) -> None:
    """The form's columns, who may file for the base and the figures' check come from one
    read of the base (and one look-up of deputies, the scope check): the route read it for
    the columns, then the service to check the figures and again to store them."""
    browser.login("hubei_applicant")
    with databases.statements_sent(db_url) as sent:
        r = browser.post(f"/reports/bases/{base}/quarter",
                         data={"year": "2006", "quarter": "4", "exports_10k_usd": "30000",
                               "hightech_exports_10k_usd": "20004",
                               "ent_name": ["", ""], "ent_exports_10k_usd": ["", ""],
                               "ent_hightech_exports_10k_usd": ["", ""]})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/reports/bases/{base}")
    page = browser.text(r.headers["Location"])
    assert "2006 年第 4 季度数据已保存（第 1 版）" in page
    assert "2006Q4" in page and "20,004" in page
    assert len([s for s in sent if " FROM applications " in s]) == 1, sent
    assert len([s for s in sent if "JOIN deputies" in s]) == 1


def test_a_bad_upload_lists_each_cell_and_stores_nothing(browser: Browser, base: int,
                                                         in_2007: Any) -> None:
    browser.login("hubei_applicant")
    wb = load_workbook(io.BytesIO(browser.get("/reports/template.xlsx").data))
    wb[BASE_SHEET].append([2006, 1, "很多", -1, 1])
    out = io.BytesIO()
    wb.save(out)
    r = browser.post(f"/reports/bases/{base}/upload",
                     data={"file": (io.BytesIO(out.getvalue()), "2006.xlsx")},
                     content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/reports/bases/{base}")
    page = browser.text(r.headers["Location"])
    assert "第 2 行第 C 列" in page and "第 2 行第 D 列" in page
    assert "尚未报送季度数据" in page


def test_the_quarter_form_keeps_what_was_typed_on_error(browser: Browser, base: int,
                                                        in_2007: Any) -> None:
    browser.login("hubei_reviewer")
    r = browser.post(f"/reports/bases/{base}/quarter",
                     data={"year": "2006", "quarter": "3", "exports_10k_usd": "3万",
                           "hightech_exports_10k_usd": "1200"})
    # post/redirect/get: the base's page again, with what was typed and why not, once
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/reports/bases/{base}")
    page = browser.text(r.headers["Location"])
    assert 'data-field="exports_10k_usd"' in page and 'value="3万"' in page
    assert 'value="1200"' in page
    again = browser.text(r.headers["Location"])
    assert 'value="3万"' not in again and 'data-testid="quarter-errors"' not in again


def test_ministry_runs_previews_and_confirms_with_per_case_results(
        browser: Browser, world: factories.World, base: int, in_2007: Any,
        published_tasks: Any) -> None:
    browser.login("mofcom")
    page = browser.text("/reports/assessment/preview?period=2006")
    assert "不保存任何结果" in page and "2006 年第 1 季度数据未报送" in page
    assert browser.text("/reports/assessment/2006").count('data-proposal=') == 0
    r = browser.post("/reports/assessment/run", data={"period": "2006"})
    assert r.status_code == 302
    from workflow.services import assessment

    [run] = assessment.runs(world.uow(), world.id("mofcom"))
    assert run.status == "queued"  # for the worker, as the API queues it
    assert published_tasks == [("tasks.assessment.execute", [run.id])]
    assessment.execute(world.uow(), run.id)  # what the worker does with the queued task
    page = browser.text("/reports/assessment/2006")
    assert 'data-proposal="rectify"' in page
    [(ev, _, _, _)] = assessment.proposals(world.uow(), world.id("mofcom"), 2006)
    r = browser.post("/reports/assessment/2006/confirm", data={"evaluation_id": [ev.id, ev.id]})
    page = r.get_data(as_text=True)
    assert page.count('data-ok="yes"') == 1 and page.count('data-ok="no"') == 1
    assert "限期整改" in page


def test_programme_view_shows_the_share_by_region_against_the_goal(
        browser: Browser, world: factories.World, base: int, in_2007: Any) -> None:
    from workflow.services import reports

    reports.save_reference_stats(world.uow(), world.id("mofcom"), 2006,
                                 {"national_hightech_exports_100m_usd": "2815"})
    for q in (1, 2, 3, 4):
        reports.submit_quarter(world.uow(), world.id("hubei_applicant"), base,
                               {"year": 2006, "quarter": q, "exports_10k_usd": "300000",
                                "hightech_exports_10k_usd": "281500"})
    page = browser.login("hubei_reviewer").text("/reports/programme?year=2006")
    # 4 × 28.15 亿美元 = 112.6 亿美元 of 2815 亿美元 = 4 %
    assert "<strong>4%</strong>" in page and 'data-value="4.00"' in page
    # the 70 % goal is the nation's: said once beside the total, not drawn per region
    assert 'id="by-region"' in page and 'data-value="70"' not in page
    assert page.count("70%") >= 1 and "（目标 70%）" in page.replace("</strong>", "")
    assert browser.login("hubei_applicant").get("/reports/programme").status_code == 403


def test_the_dashboard_and_the_programme_report_give_one_share_for_one_year(
        browser: Browser, world: factories.World, base: int, in_2007: Any) -> None:
    """The dashboard's share of the 2006 round (its data year, 2005) and the programme
    report for 2005 are one computation: the application's 2005 figure for each base."""
    from workflow.services import reports

    reports.save_reference_stats(world.uow(), world.id("mofcom"), 2005,
                                 {"national_hightech_exports_100m_usd": "2182"})
    reviewer = browser.login("mofcom")
    report = reviewer.text("/reports/programme?year=2005")
    dashboard = reviewer.text("/dashboard")
    import re

    share = re.search(r"<strong>([\d.]+)%</strong>", report)
    assert share and float(share.group(1)) > 0  # was 0 %: no quarterly data for 2005
    shown = re.search(r'data-testid="share-pct">([\d.]+)%', dashboard)
    assert shown and shown.group(1) == share.group(1)


def test_reference_statistics_are_entered_by_the_ministry_only(browser: Browser,
                                                               in_2007: Any) -> None:
    browser.login("hubei_reviewer")
    assert browser.post("/reports/reference", data={"year": "2006"}).status_code == 403
    browser.login("mofcom")
    r = browser.post("/reports/reference", data={"year": "2006",
                                                 "national_hightech_growth_pct": "abc"})
    assert r.status_code == 303 and 'value="abc"' in browser.text(r.headers["Location"])
    r = browser.post("/reports/reference", data={"year": "2006",
                                                 "national_hightech_growth_pct": "29",
                                                 "region_central": "30"},
                     follow_redirects=True)
    assert "2006 年参考统计数据已保存" in r.get_data(as_text=True)
