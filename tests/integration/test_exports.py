"""Excel exports: the filtered list (same scope and filters as the inbox, every page) and
the dashboard tables, with Chinese headers and units, dates as dates, numbers as numbers."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest

from tests import factories
from tests.factories import login
from web import exports


def workbook(r: Any) -> openpyxl.Workbook:
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.mimetype == exports.XLSX
    return openpyxl.load_workbook(io.BytesIO(r.data))


def test_export_of_a_filtered_list_has_chinese_headers_units_and_typed_cells(
        client: Any, world: factories.World) -> None:
    mine = factories.submitted(world)
    factories.submitted(world, "hubei_applicant2", applicant_name="襄阳汽车零部件出口基地",
                        hightech_exports_100m_usd="2.5")
    factories.submitted(world, "hunan_applicant", applicant_name="长沙工程机械出口创新基地")
    factories.draft(world, applicant_name="湖北草稿")
    login(client, "hubei_reviewer")
    r = client.get("/exports/applications.xlsx?tab=all&state=provincially_reviewed&q=光谷")
    cd = r.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + quote("申报列表_") in cd
    ws = workbook(r).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert "高新技术产品出口额（亿美元）" in header and "出口增速（%）" in header
    assert "状态" in header and "申请单位全称" in header
    body = rows[1:]
    assert [row[0] for row in body] == [mine]  # the Hunan case and the draft are out of scope
    row = dict(zip(header, body[0], strict=True))
    assert row["申请单位全称"] == "武汉光谷光电子信息产业集群"
    assert row["省级商务主管部门"] == "湖北省" and row["状态"] == "省级审核中"
    assert row["高新技术产品出口额（亿美元）"] == pytest.approx(8.6)
    assert isinstance(row["高新技术产品出口额（亿美元）"], float | int)
    assert isinstance(row["当前环节截止日期"], datetime | date)  # an Excel date, not text
    assert row["当前环节截止日期"].date() == date(2006, 4, 30)


def test_export_walks_every_page(client: Any, world: factories.World,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [factories.submitted(world, applicant_name=f"基地{i}") for i in range(3)]
    monkeypatch.setattr(exports, "PAGE", 1)  # three pages of one
    login(client, "mofcom")
    ws = workbook(client.get("/exports/applications.xlsx?tab=all")).active
    assert sorted(r[0] for r in ws.iter_rows(min_row=2, values_only=True)) == sorted(ids)


def test_without_a_tab_the_export_is_the_inbox_default_what_waits_on_me(
        client: Any, world: factories.World) -> None:
    factories.submitted(world)  # waits on the province, not on the ministry
    published = factories.published(world, "hunan_applicant", "hunan_reviewer",
                                    applicant_name="长沙工程机械出口创新基地")
    login(client, "mofcom")
    ws = workbook(client.get("/exports/applications.xlsx")).active
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == [published]


def test_an_empty_result_still_gives_a_workbook_with_its_header(
        client: Any, world: factories.World) -> None:
    login(client, "hunan_reviewer")
    ws = workbook(client.get("/exports/applications.xlsx?tab=all&state=approved")).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 1 and rows[0][0] == "编号"


def test_dashboard_export_has_one_sheet_per_table_with_the_goals(
        client: Any, world: factories.World) -> None:
    factories.approved(world)
    login(client, "mofcom")
    wb = workbook(client.get("/dashboard.xlsx"))
    assert wb.sheetnames[:3] == ["工作目标", "按状态统计", "按地区统计"]
    goals = {r[0]: r[1] for r in wb["工作目标"].iter_rows(min_row=2, values_only=True)}
    assert goals["已认定基地（家）"] == 1 and goals["目标基地数（家）"] == 100
    assert goals["占全国比重（%）"] == "无法计算"  # no national figure entered for 2005
    trends = list(wb["各年度趋势"].iter_rows(values_only=True))
    assert trends[0][0] == "申报年度" and trends[1][0] == 2006
    assert "已认定基地高新技术产品出口额（亿美元）" in next(
        wb["按省级商务主管部门统计"].iter_rows(values_only=True))


def test_the_forms_tables_each_have_a_sheet_whose_rows_name_their_case(
        client: Any, world: factories.World) -> None:
    # 002 §六(二)(4): a cluster's leading enterprises; the annex's main export products
    cluster = factories.submitted(
        world, "hubei_applicant", applicant_type="cluster", applicant_name="武汉光谷产业集群",
        products=[{"name": "光通信设备", "exports_10k_usd": "3000"},
                  {"name": "激光器", "exports_10k_usd": "1200.5"}],
        leading_enterprises=[{"name": "烽火通信科技股份有限公司", "city": "420100",
                              "national_rank": "3", "exports_10k_usd": "9000"}])
    region = factories.submitted(world, "hubei_applicant2", applicant_name="襄阳出口基地")
    login(client, "hubei_reviewer")
    wb = workbook(client.get("/exports/applications.xlsx?tab=all"))
    assert wb.sheetnames == ["申报列表", "主要出口产品", "龙头企业"]
    assert wb.active.title == "申报列表"
    products = list(wb["主要出口产品"].iter_rows(values_only=True))
    assert products[0] == ("编号", "申请单位全称", "主要出口产品", "主要出口产品出口额（万美元）")
    assert sorted(products[1:]) == sorted([
        (cluster, "武汉光谷产业集群", "光通信设备", 3000),
        (cluster, "武汉光谷产业集群", "激光器", 1200.5),
        (region, "襄阳出口基地", "光通信设备", 3000)])
    leaders = list(wb["龙头企业"].iter_rows(values_only=True))
    head = leaders[0]
    assert head[:2] == ("编号", "申请单位全称") and "企业名称" in "".join(map(str, head))
    assert len(leaders) == 2  # the region's case has no leading enterprises
    row = dict(zip(head, leaders[1], strict=True))
    assert row["编号"] == cluster and row["申请单位全称"] == "武汉光谷产业集群"
    assert "烽火通信科技股份有限公司" in row.values() and 3 in row.values()
    assert "武汉市" in row.values() and "420100" not in row.values()  # a picked city by name
