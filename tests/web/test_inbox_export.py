"""The inbox's "导出 Excel" link exports exactly the list on screen (tab and filters)."""

from __future__ import annotations

import html
import io
import re

from openpyxl import load_workbook

from tests import factories


def _export_href(page: str) -> str:
    return html.unescape(re.search(r'href="([^"]+)" data-testid="export-xlsx"', page).group(1))


def test_the_export_link_carries_the_tab_and_the_filters_on_screen(browser, world, frozen):
    factories.submitted(world)
    factories.submitted(world, applicant_name="襄阳汽车零部件出口基地")
    b = browser.login("hubei_reviewer")
    href = _export_href(b.text("/inbox?tab=all&q=襄阳&kind=new_base&cursor="))
    assert href.startswith("/exports/applications.xlsx?")
    assert "tab=all" in href and "kind=new_base" in href and "cursor" not in href
    r = b.get(href)
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    names = [row[11] for row in rows[1:]]
    assert rows[0][11] == "申请单位全称" and names == ["襄阳汽车零部件出口基地"]


def test_the_export_link_reads_in_english_and_defaults_to_what_waits_on_me(browser, world):
    page = browser.login("hubei_reviewer", lang="en").text("/inbox")
    assert re.search(r'data-testid="export-xlsx" download>Export to Excel</a>', page)
    assert _export_href(page) == "/exports/applications.xlsx?tab=waiting"


def test_a_choice_is_exported_in_its_words_not_its_key(browser, world, frozen):
    # 申报主体 is a choice of the form (002 §六): the sheet says 地区（地级市、开发区）, as
    # the case page does, not the stored key "region"
    factories.submitted(world, applicant_type="region")
    b = browser.login("hubei_reviewer")
    r = b.get("/exports/applications.xlsx?tab=all")
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    column = rows[0].index("申报主体")
    assert [row[column] for row in rows[1:]] == ["地区（地级市、开发区）"]
