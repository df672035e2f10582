"""The quarterly template's columns come from the programme's file (`[[quarterly.columns]]`,
002 §四(四)): the download, the upload and the page use them; a programme without quarterly
data (Guangdong's) has no template; a wrong column is named in the error. Real database,
real workbooks, the parse in its child process."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.factories import login
from workflow.errors import GuardFailed, ValidationFailed
from workflow.form import Field
from workflow.programme import programme
from workflow.quarterly_data import BASE_SHEET, ENTERPRISE_SHEET, Columns
from workflow.services import clock, quarterly_excel, reports

NOW = datetime(2007, 2, 1, 2, tzinfo=UTC)
COLUMNS = programme().quarterly.columns  # type: ignore[union-attr]


def headings(data: bytes) -> dict[str, list[Any]]:
    wb = load_workbook(io.BytesIO(data))
    return {name: [c.value for c in wb[name][1]] for name in (BASE_SHEET, ENTERPRISE_SHEET)}


def test_notice_002s_template_has_the_columns_its_file_defines(
        client: Any, world: factories.World) -> None:
    login(client, "hubei_applicant")
    r = client.get("/reports/template.xlsx")
    assert r.status_code == 200
    got = headings(r.data)
    assert got == {
        BASE_SHEET: ["年度", "季度", "出口额（万美元）", "高新技术产品出口额（万美元）", "企业数（个）"],
        ENTERPRISE_SHEET: ["年度", "季度", "企业名称", "出口额（万美元）",
                           "高新技术产品出口额（万美元）"]}
    # …each one from the definition, in its order
    assert got[BASE_SHEET][2:] == [f"{f.zh}（{f.unit_zh}）" for f in COLUMNS.base]
    notes = load_workbook(io.BytesIO(r.data))["填表说明"]["A4"].value
    assert "高新技术产品出口额不得大于出口额" in notes  # the file's not_more_than


def test_guangdongs_list_has_no_quarterly_template(client: Any, world: factories.World) -> None:
    with pytest.raises(GuardFailed) as err:
        reports.template_for(world.uow(), world.id("guangdong_reviewer"),
                             code="guangdong-2006-59")
    assert err.value.first.code == "no_quarterly_data"
    assert "不报送季度数据" in err.value.first.zh
    login(client, "guangdong_reviewer")
    assert client.get("/reports/template.xlsx?programme=guangdong-2006-59").status_code \
        == err.value.status
    assert client.get("/reports/template.xlsx?programme=no-such-programme").status_code == 404


def test_a_wrong_column_heading_is_named_with_the_one_the_file_defines(
        world: factories.World) -> None:
    base = factories.approved(world)
    wb = load_workbook(io.BytesIO(reports.template_for(world.uow(), world.id("hubei_applicant"),
                                                       base)))
    wb[BASE_SHEET]["C1"] = "出口总额（万美元）"  # not the file's heading
    wb[BASE_SHEET].append([2006, 1, 30000, 25000, 120])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ValidationFailed) as err:
        reports.upload_quarters(world.uow(), world.id("hubei_applicant"), base, "季度.xlsx",
                                out.getvalue(), 5 * 1024 * 1024, now=NOW)
    bad = err.value.first
    assert (bad.code, bad.field) == ("bad_header", f"{BASE_SHEET}!C1")
    assert "表头应为“出口额（万美元）”" in bad.zh and "C" in bad.en
    assert reports.quarters_of(world.uow(), world.id("hubei_applicant"), base) == []


def test_the_quarter_page_asks_for_the_files_columns_in_english_too(
        client: Any, world: factories.World) -> None:
    base = factories.approved(world)
    clock.freeze(NOW)
    try:
        login(client, "hubei_applicant")
        client.post("/lang/en")
        page = client.get(f"/reports/bases/{base}").get_data(as_text=True)
        assert "High-tech exports (USD 10k)" in page and "Number of enterprises" in page
        assert 'name="ent_hightech_exports_10k_usd"' in page
        r = client.post(f"/reports/bases/{base}/quarter", data={
            "year": "2006", "quarter": "4", "exports_10k_usd": "30000",
            "hightech_exports_10k_usd": "25000", "enterprise_count": "",
            "ent_name": ["烽火通信", ""], "ent_exports_10k_usd": ["8000", ""],
            "ent_hightech_exports_10k_usd": ["7000", ""]})
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
    finally:
        clock.freeze(None)
    [q] = reports.quarters_of(world.uow(), world.id("hubei_reviewer"), base)
    assert (q.year, q.quarter, q.figures) == (2006, 4, {
        "exports_10k_usd": "30000.0000", "hightech_exports_10k_usd": "25000.0000"})
    assert q.enterprises == [{"name": "烽火通信", "exports_10k_usd": "8000.0000",
                              "hightech_exports_10k_usd": "7000.0000"}]


def test_a_programme_with_another_enterprise_column_reads_it_from_the_upload() -> None:
    # a file that also asks each key enterprise for its R&D spending, not required
    extra = Field("rd_spending_10k_usd", "研发投入", "R&D spending", "money", "万美元",
                  "USD 10k", required=False)
    cols = replace(COLUMNS, enterprise=(*COLUMNS.enterprise, extra))
    assert isinstance(cols, Columns)
    wb = load_workbook(io.BytesIO(quarterly_excel.template("测试模板", cols)))
    assert wb[ENTERPRISE_SHEET]["F1"].value == "研发投入（万美元）"
    wb[BASE_SHEET].append([2006, 1, 30000, 25000, None])
    wb[ENTERPRISE_SHEET].append([2006, 1, "烽火通信", 8000, 7000, 650.5])
    wb[ENTERPRISE_SHEET].append([2006, 1, "长飞光纤", 3000, 2000, "很多"])
    out = io.BytesIO()
    wb.save(out)
    quarters, errors = quarterly_excel.read_workbook(out.getvalue(), date(2007, 2, 1), cols)
    assert quarters == []  # nothing is taken while one cell is wrong…
    assert [(e.code, e.field) for e in errors] == [("not_a_number", f"{ENTERPRISE_SHEET}!F3")]
    assert "研发投入" in errors[0].zh
    wb[ENTERPRISE_SHEET]["F3"] = None  # …and once it is put right, every row is
    out = io.BytesIO()
    wb.save(out)
    [q], errors = quarterly_excel.read_workbook(out.getvalue(), date(2007, 2, 1), cols)
    assert errors == []
    assert q.enterprises == [
        {"name": "烽火通信", "exports_10k_usd": "8000.0000",
         "hightech_exports_10k_usd": "7000.0000", "rd_spending_10k_usd": "650.5000"},
        {"name": "长飞光纤", "exports_10k_usd": "3000.0000",
         "hightech_exports_10k_usd": "2000.0000", "rd_spending_10k_usd": None}]
