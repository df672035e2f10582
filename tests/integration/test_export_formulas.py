"""What an applicant types never runs as a formula in a reviewer's spreadsheet (Hardening 4):
an address `=cmd|' /C calc'!A0` and a name starting `=HYPERLINK(` come out of every export
as text cells (a leading apostrophe, OWASP), and no export holds a single formula cell.
The pre-filled quarterly template comes back unchanged when re-uploaded."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest

from tests import factories
from tests.factories import login
from workflow.quarterly_data import ENTERPRISE_SHEET
from workflow.services import audit, clock, reports

ADDRESS = "=cmd|' /C calc'!A0"
NAME = '=HYPERLINK("http://evil.example/","点击查看申报材料")'


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))  # not read-only: cells keep their type


def formula_cells(wb: openpyxl.Workbook) -> list[str]:
    return [f"{ws.title}!{c.coordinate}={c.value}" for ws in wb.worksheets
            for r in ws.iter_rows() for c in r if c.data_type == "f"]


def text_cell(wb: openpyxl.Workbook, typed: str, times: int = 1) -> Any:
    """The first of the `times` cells holding what was typed (neutralised), each checked to
    be text."""
    found = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r
             if isinstance(c.value, str) and c.value.endswith(typed)]
    assert len(found) == times, [c.value for c in found]
    assert all(c.data_type == "s" for c in found)
    return found[0]


def test_the_application_list_export_writes_typed_formulas_as_text(
        client: Any, world: factories.World) -> None:
    factories.submitted(world, applicant_name=NAME, address=ADDRESS)
    login(client, "hubei_reviewer")
    r = client.get("/exports/applications.xlsx?tab=all")
    assert r.status_code == 200
    wb = workbook(r.data)
    assert formula_cells(wb) == []
    assert text_cell(wb, ADDRESS).value == "'" + ADDRESS
    # the applicant's name: in the list, and on its product's row of the products sheet
    assert text_cell(wb, NAME, times=2).value == "'" + NAME
    header = [c.value for c in wb.active[1]]
    assert text_cell(wb, ADDRESS).column == header.index("地址") + 1


def test_the_audit_exports_write_a_typed_user_name_as_text(
        client: Any, world: factories.World) -> None:
    # a failed login records the user name as typed: the auditor's export carries it
    client.post("/login", data={"username": NAME, "password": "wrong-password-1"})
    rows = list(csv.reader(io.StringIO(audit.export_csv(
        world.uow(), world.id("auditor"), {"event": "login_failed"}).decode("utf-8-sig"))))
    assert rows[1][rows[0].index("actor_name")] == "'" + NAME
    wb = workbook(audit.export_xlsx(world.uow(), world.id("auditor"),
                                    {"event": "login_failed"}))
    assert formula_cells(wb) == []
    assert text_cell(wb, NAME).value == "'" + NAME


@pytest.fixture
def in_2007() -> Any:
    clock.freeze(datetime(2007, 2, 1, 10, 0, tzinfo=clock.CHINA))
    yield
    clock.freeze(None)


def test_the_prefilled_template_writes_a_typed_enterprise_name_as_text_and_reads_it_back(
        client: Any, world: factories.World, in_2007: Any) -> None:
    base = factories.approved(world)
    me = world.id("hubei_applicant")
    reports.submit_quarter(world.uow(), me, base, {
        "year": 2006, "quarter": 4, "exports_10k_usd": "300", "hightech_exports_10k_usd": "200",
        "enterprises": [{"name": NAME, "exports_10k_usd": "10",
                         "hightech_exports_10k_usd": "5"}]})
    login(client, "hubei_applicant")
    r = client.get(f"/reports/bases/{base}/template.xlsx")
    assert r.status_code == 200
    wb = workbook(r.data)
    assert formula_cells(wb) == []
    cell = text_cell(wb, NAME)
    assert cell.parent.title == ENTERPRISE_SHEET and cell.value == "'" + NAME
    # uploaded again as it came, the enterprise keeps the name it was given
    r = client.post(f"/reports/bases/{base}/upload",
                    data={"file": (io.BytesIO(r.data), "季度数据.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    [q4] = reports.quarters_of(world.uow(), me, base)
    assert (q4.revision, [e["name"] for e in q4.enterprises]) == (2, [NAME])
