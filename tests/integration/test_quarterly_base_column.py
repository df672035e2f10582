"""A programme adds a base-level quarterly figure in its file alone (issue 15): the test
programme tests/programmes/test-rd-spend.toml asks each base for its R&D spending
(`rd_spend_10k_usd`, money, not required) besides notice 002's figures. The quarterly form,
the Excel template, the upload and the API take the column from the file; a value typed,
uploaded or sent is kept and shown back; a bad one is refused naming the column and keeps
nothing. Notice 002's bases know no such figure. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.definitions import registered
from tests.factories import at
from workflow.quarterly_data import BASE_SHEET
from workflow.services import clock, reports, rounds

CODE = "test-rd-spend"
FILING = datetime(2007, 7, 20, 2, tzinfo=UTC)  # 2007 Q2 has ended


@pytest.fixture
def rd_base(world: factories.World) -> Iterator[int]:
    """A base designated in a 2007 round of the test programme; the clock in July 2007."""
    with registered(CODE):
        w = world
        clock.freeze(at(date(2007, 3, 1)))
        try:
            rounds.plan(w.uow(), w.id("mofcom"), {
                "year": 2007, "programme": CODE, "submission_deadline": "2007-04-30",
                "approval_deadline": "2007-05-31"})
            rounds.open_round(w.uow(), w.id("mofcom"), 2007, code=CODE)
            app_id = factories.designated_in_2007(w, CODE)
            clock.freeze(FILING)
            yield app_id
        finally:
            clock.freeze(None)


def stored(world: factories.World, app_id: int) -> dict[tuple[int, int], dict[str, Any]]:
    return {(q.year, q.quarter): q.figures
            for q in reports.quarters_of(world.uow(), world.id("hubei_reviewer"), app_id)}


def test_the_quarterly_form_asks_for_the_files_new_figure_keeps_it_and_shows_it_back(
        client: Any, world: factories.World, rd_base: int) -> None:
    factories.login(client, "hubei_applicant")
    page = client.get(f"/reports/bases/{rd_base}").get_data(as_text=True)
    assert "研发投入（万美元）" in page and 'name="rd_spend_10k_usd"' in page
    # its file has no [assessment]: it reports, and the page says it is not re-evaluated
    said = page.split('data-testid="no-re-evaluation">')[1].split("</td>")[0]
    assert "不进行复评" in said and "[assessment]" in said
    form = {"year": "2007", "quarter": "1", "exports_10k_usd": "30000",
            "hightech_exports_10k_usd": "25000", "enterprise_count": "80"}
    bad = client.post(f"/reports/bases/{rd_base}/quarter",
                      data={**form, "rd_spend_10k_usd": "很多"})
    assert bad.status_code == 303  # post/redirect/get: the base's page says why, once
    page = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert 'data-field="rd_spend_10k_usd"' in page and "研发投入" in page
    assert stored(world, rd_base) == {}
    r = client.post(f"/reports/bases/{rd_base}/quarter",
                    data={**form, "rd_spend_10k_usd": "650.5"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert stored(world, rd_base)[(2007, 1)]["rd_spend_10k_usd"] == "650.5000"
    page = client.get(f"/reports/bases/{rd_base}").get_data(as_text=True)
    row = page[page.index("2007Q1"):]
    assert "650.5" in row[:row.index("</tr>")]
    # not required: a quarter without it is kept without it
    client.post(f"/reports/bases/{rd_base}/quarter", data={**form, "quarter": "2"})
    assert "rd_spend_10k_usd" not in stored(world, rd_base)[(2007, 2)]


def test_the_excel_template_has_the_files_new_column_and_its_upload_is_kept(
        client: Any, world: factories.World, rd_base: int) -> None:
    factories.login(client, "hubei_applicant")
    blank = client.get(f"/reports/bases/{rd_base}/template.xlsx")
    assert blank.status_code == 200
    wb = load_workbook(io.BytesIO(blank.data))
    assert [c.value for c in wb[BASE_SHEET][1]] == [
        "年度", "季度", "出口额（万美元）", "高新技术产品出口额（万美元）", "企业数（个）",
        "研发投入（万美元）"]
    wb[BASE_SHEET].append([2007, 1, 30000, 25000, 80, "很多"])
    out = io.BytesIO()
    wb.save(out)
    bad = client.post(f"/reports/bases/{rd_base}/upload",
                      data={"file": (io.BytesIO(out.getvalue()), "季度.xlsx")},
                      content_type="multipart/form-data")
    assert bad.status_code == 303  # post/redirect/get: the base's page lists the cell
    page = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert f"{BASE_SHEET}!F2" in page and "研发投入" in page
    assert stored(world, rd_base) == {}
    wb[BASE_SHEET]["F2"] = 720.25
    out = io.BytesIO()
    wb.save(out)
    r = client.post(f"/reports/bases/{rd_base}/upload",
                    data={"file": (io.BytesIO(out.getvalue()), "季度.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert stored(world, rd_base)[(2007, 1)]["rd_spend_10k_usd"] == "720.2500"
    # the base's template comes back pre-filled with it
    again = load_workbook(io.BytesIO(client.get(
        f"/reports/bases/{rd_base}/template.xlsx").data))
    assert [c.value for c in again[BASE_SHEET][2]][5] == 720.25


def test_the_api_takes_the_files_new_figure_and_refuses_a_bad_one_by_name(
        api: Any, world: factories.World, rd_base: int) -> None:
    me = api.as_("hubei_applicant")
    url = f"/api/v1/applications/{rd_base}/quarterly-reports"
    quarter = {"year": 2007, "quarter": 2, "exports_10k_usd": "52000",
               "hightech_exports_10k_usd": "31000"}
    bad = me.post(url, json={**quarter, "rd_spend_10k_usd": "-5"})
    assert bad.status_code == 422
    [error] = bad.get_json()["errors"]
    assert error["field"] == "rd_spend_10k_usd" and "研发投入" in error["message_zh"]
    assert me.get(url).get_json() == []
    r = me.post(url, json={**quarter, "rd_spend_10k_usd": "1200"})
    assert r.status_code == 201, r.get_json()
    [got] = me.get(url).get_json()
    assert got["figures"] == {"exports_10k_usd": "52000.0000",
                              "hightech_exports_10k_usd": "31000.0000",
                              "rd_spend_10k_usd": "1200.0000"}
    assert got["exports_10k_usd"] == "52000.0000"


def test_notice_002s_bases_know_no_such_figure(api: Any, world: factories.World) -> None:
    base = factories.approved(world)
    clock.freeze(datetime(2006, 10, 20, 2, tzinfo=UTC))
    try:
        r = api.as_("hubei_applicant").post(
            f"/api/v1/applications/{base}/quarterly-reports",
            json={"year": 2006, "quarter": 3, "exports_10k_usd": "52000",
                  "hightech_exports_10k_usd": "31000", "rd_spend_10k_usd": "1200"})
    finally:
        clock.freeze(None)
    assert r.status_code == 422
    assert [(e["code"], e["field"]) for e in r.get_json()["errors"]] == [
        ("unknown_field", "rd_spend_10k_usd")]
