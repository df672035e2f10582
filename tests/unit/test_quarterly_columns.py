"""The quarterly data's columns are the programme's (`[[quarterly.columns]]`, 002 §四(四)):
loaded and checked with errors that name the file and the key, and used to check a row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.definitions import definition, refused
from workflow.programme import (
    PROGRAMMES_DIR,
    DefinitionError,
    digest,
    frozen,
    load,
    parse,
    programme,
)
from workflow.quarterly_data import check_quarter, check_values, read_figures, stored_figures

SOURCE = PROGRAMMES_DIR / "mofcom-2006-6.toml"




def test_notice_002_reports_the_bases_and_their_key_enterprises_exports_each_quarter() -> None:
    cols = programme().quarterly.columns  # type: ignore[union-attr]
    assert cols is not None
    assert [(f.name, f.zh, f.unit_zh, f.required) for f in cols.base] == [
        ("exports_10k_usd", "出口额", "万美元", True),
        ("hightech_exports_10k_usd", "高新技术产品出口额", "万美元", True),
        ("enterprise_count", "企业数", "个", False)]
    assert [f.name for f in cols.enterprise_sheet] == [
        "year", "quarter", "name", "exports_10k_usd", "hightech_exports_10k_usd"]
    assert [f.en for f in cols.base] == ["Exports", "High-tech exports", "Number of enterprises"]


def test_a_limit_in_the_file_refuses_a_row_naming_both_figures() -> None:
    cols = programme().quarterly.columns  # type: ignore[union-attr]
    assert cols is not None
    clean, errors = check_values(
        {"year": 2006, "quarter": 1, "exports_10k_usd": "100", "hightech_exports_10k_usd": "150"},
        cols.base_sheet, date(2007, 1, 10), limits=cols.limits_of("base"))
    assert [(e.code, e.field) for e in errors] == [("exceeds_exports", "hightech_exports_10k_usd")]
    assert "高新技术产品出口额：不能大于出口额" in errors[0].zh
    assert "cannot exceed exports" in errors[0].en
    assert clean["hightech_exports_10k_usd"] == Decimal("150")


def _with_column(i: int, **change: Any) -> dict[str, Any]:
    data = definition()
    column = data["quarterly"]["columns"][i]
    for key, value in change.items():
        if value is None:
            column.pop(key)
        else:
            column[key] = value
    return data


@pytest.mark.parametrize(("i", "change", "message"), [
    (0, {"colour": "red"}, "quarterly.columns[0] (exports_10k_usd).colour: is not a column "
     "setting"),
    (0, {"zh": ""}, "quarterly.columns[0] (exports_10k_usd).zh: must be a non-empty text"),
    (0, {"sheet": "annual"}, "quarterly.columns[0] (exports_10k_usd).sheet: unknown sheet "
     "'annual' (one of base, enterprise)"),
    (0, {"type": "date"}, "quarterly.columns[0] (exports_10k_usd).type: unknown type 'date'"),
    (0, {"key": "quarter"}, "quarterly.columns[0] (quarter).key: 'quarter' keys the rows"),
    (0, {"key": "exports usd"}, "quarterly.columns[0] (exports usd).key: 'exports usd' is not "
     "a name"),
    (2, {"key": "enterprises"}, "quarterly.columns[2] (enterprises).key: 'enterprises' is "
     "the quarter's list of key enterprises"),
    (1, {"key": "exports_10k_usd", "not_more_than": None}, "quarterly.columns[1] "
     "(exports_10k_usd).key: 'exports_10k_usd' is defined twice for the base sheet"),
    (0, {"unit_en": None}, "quarterly.columns[0] (exports_10k_usd).unit_zh: unit_zh and "
     "unit_en go together"),
    (2, {"required": "no"}, "quarterly.columns[2] (enterprise_count).required: must be true "
     "or false"),
    (1, {"not_more_than": "imports_10k_usd"}, "quarterly.columns[1] "
     "(hightech_exports_10k_usd).not_more_than: 'imports_10k_usd' is not a figure of the "
     "base sheet"),
])
def test_each_wrong_column_is_named_with_its_file_and_key(
        i: int, change: dict[str, Any], message: str) -> None:
    assert refused(_with_column(i, **change)).startswith(f"broken.toml: {message}")


def test_an_enterprise_column_may_have_any_key_it_is_kept_in_the_enterprises_row() -> None:
    data = definition()
    data["quarterly"]["columns"].append({"key": "rd_spending_10k_usd", "sheet": "enterprise",
                                         "zh": "研发投入", "en": "R&D spending",
                                         "type": "money", "unit_zh": "万美元",
                                         "unit_en": "USD 10k", "required": False})
    cols = parse(Path("ok.toml"), data).quarterly.columns  # type: ignore[union-attr]
    assert cols is not None and "rd_spending_10k_usd" in [f.name for f in cols.enterprise]


def test_a_base_column_may_have_any_key_and_is_kept_in_the_reports_document() -> None:
    data = definition()
    data["quarterly"]["columns"].append({"key": "rd_spend_10k_usd", "sheet": "base",
                                         "zh": "研发投入", "en": "R&D spending",
                                         "type": "money", "unit_zh": "万美元",
                                         "unit_en": "USD 10k", "required": False})
    cols = parse(Path("ok.toml"), data).quarterly.columns  # type: ignore[union-attr]
    assert cols is not None and [f.name for f in cols.base][-1] == "rd_spend_10k_usd"
    quarter, errors = check_quarter({"year": 2006, "quarter": 1, "exports_10k_usd": "300",
                                     "hightech_exports_10k_usd": "200",
                                     "rd_spend_10k_usd": "12.5"}, cols, date(2007, 2, 1))
    assert errors == [] and quarter is not None
    doc = stored_figures(quarter.figures)
    assert doc == {"exports_10k_usd": "300.0000", "hightech_exports_10k_usd": "200.0000",
                   "rd_spend_10k_usd": "12.5000"}
    assert read_figures(doc, cols.base)["rd_spend_10k_usd"] == Decimal("12.5")
    # a figure filed before its column became a number is shown as it was filed
    assert read_figures({"rd_spend_10k_usd": "约 12 万"}, cols.base) == {
        "rd_spend_10k_usd": "约 12 万"}


def test_a_key_no_column_defines_is_refused_by_name() -> None:
    cols = programme().quarterly.columns  # type: ignore[union-attr]
    assert cols is not None
    quarter, errors = check_quarter({"year": 2006, "quarter": 1, "exports_10k_usd": "300",
                                     "hightech_exports_10k_usd": "200",
                                     "rd_spend_10k_usd": "12.5"}, cols, date(2007, 2, 1))
    assert quarter is None
    assert [(e.code, e.field) for e in errors] == [("unknown_field", "rd_spend_10k_usd")]
    assert "rd_spend_10k_usd" in errors[0].zh


def test_no_base_column_is_refused() -> None:
    data = definition()
    data["quarterly"]["columns"] = [c for c in data["quarterly"]["columns"]
                                    if c["sheet"] == "enterprise"]
    assert refused(data) == "broken.toml: quarterly.columns: no column is on the base sheet"


def test_a_file_with_quarterly_data_says_what_a_base_reports(tmp_path: Path) -> None:
    text = SOURCE.read_text(encoding="utf-8")
    start = text.index("[[quarterly.columns]]")
    end = text.index("# ---", start)
    bare = tmp_path / "bare.toml"
    bare.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load(bare)
    assert str(err.value).startswith("bare.toml: quarterly.columns: the [[quarterly.columns]] "
                                     "tables are missing")


def test_a_round_opened_before_the_columns_were_in_the_file_takes_the_files() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    start = text.index("[[quarterly.columns]]")
    older = text[:start] + text[text.index("# ---", start):]  # as rounds froze it before
    then = frozen(digest(older), older)
    assert then.quarterly is not None and then.quarterly.heading_zh.startswith("科技兴贸")
    assert then.quarterly.columns == programme().quarterly.columns  # type: ignore[union-attr]
