"""One rule keeps typed text from running as a spreadsheet formula (Hardening 4), and every
module that writes a spreadsheet uses it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from workflow.services import spreadsheets

ROOT = Path(__file__).resolve().parents[2]
WRITES_A_SPREADSHEET = re.compile(r"\bWorkbook\(|\bWriteOnlyCell\(|\bcsv\.writer\(")


@pytest.mark.parametrize("typed", [
    "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/","x")', "+1+1", "-2+3",
    "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "  =1+1"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe_and_reads_back(typed: str) -> None:
    assert spreadsheets.cell(typed) == "'" + typed
    assert spreadsheets.plain(spreadsheets.cell(typed)) == typed


@pytest.mark.parametrize("value", ["武汉市东湖新技术开发区", "027-87654321", "'quoted", "",
                                   12, Decimal("-3.5"), date(2006, 4, 30), None])
def test_numbers_dates_and_ordinary_text_are_left_alone(value: object) -> None:
    assert spreadsheets.cell(value) == value
    assert spreadsheets.plain(value) == value


def test_every_module_that_writes_a_spreadsheet_goes_through_the_one_rule() -> None:
    writers = [p for p in [*(ROOT / "web").rglob("*.py"), *(ROOT / "workflow").rglob("*.py"),
                           *(ROOT / "tasks").rglob("*.py")]
               if WRITES_A_SPREADSHEET.search(p.read_text(encoding="utf-8"))]
    assert {p.name for p in writers} >= {"exports.py", "audit.py", "quarterly_excel.py"}
    for path in writers:
        assert "spreadsheets." in path.read_text(encoding="utf-8"), path.relative_to(ROOT)
