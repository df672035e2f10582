"""Every value this system writes into a spreadsheet (the Excel exports, the dashboard, the
pre-filled quarterly template, the audit log's CSV and XLSX) goes through `cell`: text that
Excel, WPS or LibreOffice would take for a formula is written so it stays text.

CSV / formula injection (OWASP): an applicant's address `=cmd|' /C calc'!A0` or a name
starting `=HYPERLINK(` would otherwise run on a reviewer's machine. The OWASP rule: a cell
starting with = + - @, a tab or a carriage return (also after spaces) gets a leading
apostrophe, shown as such, never run. openpyxl writes such a value as a text cell, not a
formula; a CSV carries the apostrophe to whatever opens it.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: Any) -> Any:
    """`value` as it may go into a spreadsheet cell: numbers, dates and ordinary text as
    they are; text a spreadsheet would run as a formula, with a leading apostrophe."""
    if isinstance(value, str) and (value[:1] in FORMULA_START
                                   or value.lstrip(" ")[:1] in FORMULA_START):
        return "'" + value
    return value


def row(values: Any) -> list[Any]:
    """`cell` of each value in a row."""
    return [cell(v) for v in values]


def plain(value: Any) -> Any:
    """The value `cell` was given, read back from a spreadsheet we wrote (the quarterly
    template comes back filled in): the apostrophe `cell` added is dropped."""
    if isinstance(value, str) and value[:1] == "'" and cell(value[1:]) != value[1:]:
        return value[1:]
    return value
