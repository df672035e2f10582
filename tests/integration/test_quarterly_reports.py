"""Quarterly data, annual reports and reference statistics on a real database (002 §四(四))."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import factories
from workflow.errors import Forbidden, GuardFailed, NotFound, ValidationFailed
from workflow.programme import programme
from workflow.quarterly_data import BASE_SHEET, ENTERPRISE_SHEET, HELP_SHEET
from workflow.services import reports

NOW = datetime(2007, 2, 1, 2, tzinfo=UTC)  # 2007-02-01 10:00 in Beijing
MB = 1024 * 1024


@pytest.fixture
def base(world: factories.World) -> int:
    return factories.approved(world)


def fill(template: bytes, base_rows: list[list[Any]], ent_rows: list[list[Any]] = ()) -> bytes:
    """Fill the generated template the way a user would in Excel."""
    wb = load_workbook(io.BytesIO(template))
    for sheet, rows in ((BASE_SHEET, base_rows), (ENTERPRISE_SHEET, ent_rows)):
        for r in rows:
            wb[sheet].append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(world: factories.World, app_id: int, data: bytes, name: str = "季度数据.xlsx",
           user: str = "hubei_applicant", max_bytes: int = 5 * MB) -> Any:
    return reports.upload_quarters(world.uow(), world.id(user), app_id, name, data, max_bytes,
                                   now=NOW)


def hightech(figures: dict[str, Any]) -> Decimal | None:
    """The high-tech exports in a report's document, as a number."""
    value = figures.get("hightech_exports_10k_usd")
    return None if value is None else Decimal(value)


def current(world: factories.World, app_id: int) -> list[tuple[int, int, Decimal | None]]:
    return [(q.year, q.quarter, hightech(q.figures))
            for q in reports.quarters_of(world.uow(), world.id("hubei_applicant"), app_id)]


def test_a_filled_in_template_round_trips_every_quarter_and_enterprise(
        world: factories.World, base: int) -> None:
    blank = reports.template_for(world.uow(), world.id("hubei_applicant"), base)
    data = fill(blank, [[2006, q, 30000, 25000, 120] for q in (1, 2, 3, 4)],
                [[2006, 1, "武汉光迅科技", 5000, 4500], [2006, 1, "烽火通信", 8000, 7000]])
    stored = upload(world, base, data)
    assert stored == [(2006, q, 1) for q in (1, 2, 3, 4)]
    assert current(world, base) == [(2006, q, Decimal("25000.0000")) for q in (1, 2, 3, 4)]
    q1 = reports.quarters_of(world.uow(), world.id("hubei_reviewer"), base)[0]
    assert [e["name"] for e in q1.enterprises] == ["武汉光迅科技", "烽火通信"]
    assert q1.source == "excel"
    # the next download is pre-filled with what is on file
    again = load_workbook(io.BytesIO(reports.template_for(world.uow(),
                                                          world.id("hubei_applicant"), base)))
    rows = list(again[BASE_SHEET].iter_rows(min_row=2, values_only=True))
    assert [r[:2] for r in rows] == [(2006, q) for q in (1, 2, 3, 4)]
    assert again[BASE_SHEET]["D1"].value == "高新技术产品出口额（万美元）"
    # its notes open with the heading its programme's file gives ([quarterly], 002 §四(四))
    heading = programme().quarterly
    assert heading is not None and again[HELP_SHEET]["A1"].value == heading.heading_zh
    assert "四(四)" in heading.heading_zh


def test_uploading_a_quarter_again_replaces_it_and_keeps_the_old_revision(
        world: factories.World, base: int) -> None:
    blank = reports.template_for(world.uow(), world.id("hubei_applicant"))
    upload(world, base, fill(blank, [[2006, 1, 30000, 25000, 120]]))
    upload(world, base, fill(blank, [[2006, 1, 31000, 26000, 121]]), user="hubei_reviewer")
    assert current(world, base) == [(2006, 1, Decimal("26000.0000"))]
    history = reports.quarter_history(world.uow(), world.id("mofcom"), base, 2006, 1)
    assert [(h.revision, h.is_current, hightech(h.figures)) for h in history] == [
        (1, False, Decimal("25000.0000")), (2, True, Decimal("26000.0000"))]


BAD_ROWS = {
    "text in a number cell": ([[2006, 1, "三万", 25000, 120]], [], "not_a_number", BASE_SHEET, 2, "C"),
    "negative exports": ([[2006, 1, 30000, -5, 120]], [], "negative", BASE_SHEET, 2, "D"),
    "a quarter in the future": ([[2007, 1, 30000, 25000, 120]], [], "quarter_in_future",
                                BASE_SHEET, 2, "B"),
    "a duplicate row": ([[2006, 1, 30000, 25000, 120], [2006, 2, 1, 1, 1],
                         [2006, 1, 30000, 25000, 120]], [], "duplicate_row", BASE_SHEET, 4, "A"),
    "a duplicate enterprise": ([[2006, 1, 30000, 25000, 120]],
                               [[2006, 1, "烽火通信", 8000, 7000], [2006, 1, "烽火通信", 1, 1]],
                               "duplicate_row", ENTERPRISE_SHEET, 3, "A"),
    "high-tech above total exports": ([[2006, 1, 100, 200, 120]], [], "exceeds_exports",
                                      BASE_SHEET, 2, "D"),
    "quarter 5": ([[2006, 5, 100, 50, 1]], [], "invalid_quarter", BASE_SHEET, 2, "B"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS), ids=list(BAD_ROWS))
def test_a_bad_cell_is_named_by_sheet_row_and_column_and_nothing_is_stored(
        world: factories.World, base: int, case: str) -> None:
    rows, ents, code, sheet, row, col = BAD_ROWS[case]
    good = [[2006, 4, 30000, 25000, 120]]  # a good row in the same file is not imported either
    blank = reports.template_for(world.uow(), world.id("hubei_applicant"))
    with pytest.raises(ValidationFailed) as err:
        upload(world, base, fill(blank, good + rows, ents) if sheet == BASE_SHEET or ents
               else fill(blank, good + rows))
    found = [(r.code, r.details.get("sheet"), r.details.get("row"), r.details.get("column"))
             for r in err.value.refusals]
    shift = 1 if sheet == BASE_SHEET else 0  # the good row comes first on the base sheet
    assert (code, sheet, row + shift, col) in found
    assert f"第 {row + shift} 行第 {col} 列" in err.value.refusals[0].zh
    assert current(world, base) == []


def test_every_error_in_a_file_is_listed_at_once(world: factories.World, base: int) -> None:
    blank = reports.template_for(world.uow(), world.id("hubei_applicant"))
    with pytest.raises(ValidationFailed) as err:
        upload(world, base, fill(blank, [[2006, 1, "abc", -1, 1], [2099, 2, 1, 1, 1]]))
    assert sorted(r.field for r in err.value.refusals) == [
        f"{BASE_SHEET}!A3", f"{BASE_SHEET}!C2", f"{BASE_SHEET}!D2"]


@pytest.mark.parametrize(("name", "content", "code"), [
    ("季度数据.xlsx", factories.PDF, "not_a_spreadsheet"),
    ("季度数据.csv", b"year,quarter\n2006,1\n", "not_a_spreadsheet"),
    ("季度数据.xlsx", b"PK\x03\x04" + b"\x00" * 64, "not_a_spreadsheet"),
])
def test_a_file_that_is_not_a_spreadsheet_is_refused(world: factories.World, base: int,
                                                     name: str, content: bytes,
                                                     code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        upload(world, base, content, name=name)
    assert err.value.first.code == code
    assert err.value.first.field == "file"
    assert current(world, base) == []


def test_a_file_over_the_size_limit_is_refused(world: factories.World, base: int) -> None:
    blank = reports.template_for(world.uow(), world.id("hubei_applicant"))
    data = fill(blank, [[2006, 1, 30000, 25000, 120]])
    with pytest.raises(ValidationFailed) as err:
        upload(world, base, data, max_bytes=len(data) - 1)
    assert err.value.first.code == "file_too_large"
    assert current(world, base) == []


def test_a_workbook_without_the_template_sheets_is_refused(world: factories.World,
                                                           base: int) -> None:
    from openpyxl import Workbook

    wb, out = Workbook(), io.BytesIO()
    wb.save(out)
    with pytest.raises(ValidationFailed) as err:
        upload(world, base, out.getvalue())
    assert {r.code for r in err.value.refusals} == {"missing_sheet"}


def test_the_web_form_checks_each_field_and_keeps_nothing_on_error(
        world: factories.World, base: int) -> None:
    with pytest.raises(ValidationFailed) as err:
        reports.submit_quarter(world.uow(), world.id("hubei_applicant"), base,
                               {"year": "2006", "quarter": "2", "exports_10k_usd": "abc",
                                "hightech_exports_10k_usd": "-3",
                                "enterprises": [{"name": "烽火通信", "exports_10k_usd": "x",
                                                 "hightech_exports_10k_usd": "1"}]}, now=NOW)
    assert sorted(r.field for r in err.value.refusals) == [
        "enterprises[0].exports_10k_usd", "exports_10k_usd", "hightech_exports_10k_usd"]
    assert current(world, base) == []
    rev = reports.submit_quarter(world.uow(), world.id("hubei_applicant"), base,
                                 {"year": "2006", "quarter": "2", "exports_10k_usd": "300",
                                  "hightech_exports_10k_usd": "200"}, now=NOW)
    assert rev == 1 and current(world, base) == [(2006, 2, Decimal("200.0000"))]


def test_only_the_base_and_its_province_file_data(world: factories.World, base: int) -> None:
    form = {"year": 2006, "quarter": 1, "exports_10k_usd": 3, "hightech_exports_10k_usd": 2}
    with pytest.raises(NotFound):
        reports.submit_quarter(world.uow(), world.id("hunan_applicant"), base, form, now=NOW)
    with pytest.raises(Forbidden):
        reports.submit_quarter(world.uow(), world.id("mofcom"), base, form, now=NOW)
    draft = factories.draft(world, "hunan_applicant")
    with pytest.raises(GuardFailed) as err:
        reports.submit_quarter(world.uow(), world.id("hunan_applicant"), draft, form, now=NOW)
    assert err.value.first.code == "not_a_designated_base"


def test_annual_report_is_stored_with_its_file_and_refiling_keeps_history(
        world: factories.World, base: int, tmp_path: Path) -> None:
    data = {"year": "2006", "summary": "全年高新技术产品出口 10 亿美元", "next_year_plan": "扩大软件外包",
            "policies_in_force": "1", "project_funding_10k_cny": "800"}
    first = reports.submit_annual_report(world.uow(), world.id("hubei_applicant"), base, data,
                                         "2006年度工作报告.pdf", factories.PDF, tmp_path, MB,
                                         now=NOW)
    second = reports.submit_annual_report(world.uow(), world.id("hubei_reviewer"), base,
                                          {**data, "project_funding_10k_cny": "900"},
                                          "2006年度工作报告-修订.pdf", factories.PDF, tmp_path, MB,
                                          now=NOW)
    [on_file] = reports.annual_reports_of(world.uow(), world.id("mofcom"), base)
    assert (on_file.id, on_file.revision, on_file.project_funding_10k_cny) == (
        second, 2, Decimal("900.0000"))
    assert first != second and on_file.policies_in_force is True
    assert len(list(tmp_path.iterdir())) == 2


def test_annual_report_with_bad_summary_or_file_stores_nothing(
        world: factories.World, base: int, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as err:
        reports.submit_annual_report(world.uow(), world.id("hubei_applicant"), base,
                                     {"year": "2099", "summary": "", "next_year_plan": "x",
                                      "project_funding_10k_cny": "-1"},
                                     "r.pdf", factories.PDF, tmp_path, MB, now=NOW)
    assert {r.field for r in err.value.refusals} == {"year", "summary",
                                                     "project_funding_10k_cny"}
    with pytest.raises(ValidationFailed) as err:
        reports.submit_annual_report(world.uow(), world.id("hubei_applicant"), base,
                                     {"year": "2006", "summary": "s", "next_year_plan": "p"},
                                     "r.pdf", b"not a pdf", tmp_path, MB, now=NOW)
    assert err.value.first.code == "content_mismatch"
    assert reports.annual_reports_of(world.uow(), world.id("mofcom"), base) == []
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_the_ministry_enters_reference_statistics_and_provinces_cannot(
        world: factories.World) -> None:
    data = {"national_hightech_exports_100m_usd": "2815", "national_hightech_growth_pct": "29",
            "region_export_growth_pct": {"east": "27.1", "central": "30", "west": "33.2",
                                         "northeast": "24"}}
    reports.save_reference_stats(world.uow(), world.id("mofcom"), 2006, data, now=NOW)
    rows = {r.year: r for r in reports.reference_stats(world.uow(), world.id("hubei_reviewer"))}
    assert rows[2006].national_hightech_growth_pct == Decimal("29.00")
    assert rows[2006].region_export_growth_pct["west"] == "33.20"
    with pytest.raises(Forbidden):
        reports.save_reference_stats(world.uow(), world.id("hubei_reviewer"), 2006, data,
                                     now=NOW)
    with pytest.raises(ValidationFailed) as err:
        reports.save_reference_stats(world.uow(), world.id("mofcom"), 2006,
                                     {"national_hightech_growth_pct": "很多"}, now=NOW)
    assert err.value.first.field == "national_hightech_growth_pct"
