"""What a city entry and a list of cities must satisfy (workflow.authorities): GB/T 2260
codes under their province, a province or autonomous region as parent, a region of their
own or their province's — every bad row named with its row and field, none taken."""

from __future__ import annotations

from typing import Any

import pytest

from workflow.authorities import Known, check_city, check_rows, city_kind
from workflow.regions import AUTHORITIES, Region

KNOWN = {a.code: Known(a.code, a.name_zh, a.name_en, None, a.kind, a.region)
         for a in AUTHORITIES}
KNOWN["420100"] = Known("420100", "武汉市", "Wuhan", "420000", "prefecture_city",
                        Region.CENTRAL)
KNOWN["422800"] = Known("422800", "恩施土家族苗族自治州", "Enshi", "420000",
                        "autonomous_prefecture", Region.WEST, region_overridden=True)
HEAD = ["代码", "名称", "上级代码", "英文名称", "地区"]


def refused(rows: list[list[Any]]) -> list[tuple[str, str | None, int | None]]:
    checked = check_rows([HEAD, *rows], KNOWN)
    assert (checked.new, checked.changed, checked.unchanged) == ([], [], [])
    return [(e.code, e.field, e.details.get("row")) for e in checked.errors]


def test_a_list_of_new_cities_takes_their_provinces_region_unless_given_their_own() -> None:
    checked = check_rows([HEAD, ["420500", "宜昌市", "420000", "Yichang", ""],
                          ["433100", "湘西土家族苗族自治州", "430000", "Xiangxi", "西部"],
                          ["152900", "阿拉善盟", "150000", "", "west"]], KNOWN)
    assert checked.errors == []
    yichang, xiangxi, alxa = checked.new
    assert (yichang.region, yichang.effective_region(Region.CENTRAL)) == (None, Region.CENTRAL)
    assert (xiangxi.region, xiangxi.kind) == (Region.WEST, "autonomous_prefecture")
    assert (alxa.kind, alxa.parent_code) == ("league", "150000")


def test_every_bad_row_is_named_with_its_row_and_field_and_none_is_taken() -> None:
    assert refused([
        ["420500", "宜昌市", "420000", "", ""],  # fine, but not taken with the others
        ["4205", "宜昌市", "420000", "", ""],
        ["420501", "宜昌市西陵区", "420000", "", ""],
        ["430100", "长沙市", "420000", "", ""],
        ["210200", "大连市", "210000", "", ""],  # a 计划单列市: province-level already
        ["110100", "市辖区", "110000", "", ""],  # municipalities have no cities
        ["420700", "鄂州市", "", "", ""],
        ["420700", "鄂州市", "420100", "", ""],  # a city is no parent
        ["420800", "", "420000", "", ""],
        ["420900", "孝感市", "420000", "", "华中"],
        ["420500", "宜昌市", "420000", "", ""],
        ["420100", "武汉市", "430000", "", ""],
    ]) == [("invalid_code", "code", 3), ("not_a_prefecture_code", "code", 4),
           ("code_outside_parent", "code", 5), ("code_taken", "code", 6),
           ("parent_takes_no_cities", "parent", 7), ("required", "parent", 8),
           ("unknown_parent", "parent", 9), ("required", "name_zh", 10),
           ("invalid_region", "region", 11), ("duplicate_code", "code", 12),
           ("code_outside_parent", "code", 13)]


def test_an_error_says_in_chinese_and_english_which_row() -> None:
    [error] = check_rows([HEAD, ["430100", "长沙市", "420000", "", ""]], KNOWN).errors
    assert error.zh == "第 2 行 430100 不在湖北省（42）的代码范围内"
    assert error.en == "row 2: 430100 is not under Hubei (42xxxx)"
    assert error.details == {"row": 2, "value": "430100"}


def test_a_city_on_file_is_brought_up_to_date_and_an_unchanged_one_is_left() -> None:
    checked = check_rows([HEAD, ["420100", "武汉市", "420000", "Wuhan", ""],
                          ["422800", "恩施州", "420000", "Enshi", "west"]], KNOWN)
    assert [c.code for c in checked.unchanged] == ["420100"]
    assert [(c.code, c.name_zh) for c in checked.changed] == [("422800", "恩施州")]
    dropped = check_rows([HEAD, ["422800", "恩施土家族苗族自治州", "420000", "Enshi", ""]],
                         KNOWN)
    assert [c.code for c in dropped.changed] == ["422800"]  # back to Hubei's region


def test_english_headings_numbers_typed_as_numbers_and_blank_rows_are_read() -> None:
    checked = check_rows([["code", "name", "parent"], [420500.0, "宜昌市", 420000], [],
                          [None, "", None], ["420600", "襄阳市", "420000"]], KNOWN)
    assert checked.errors == [] and [c.code for c in checked.new] == ["420500", "420600"]


@pytest.mark.parametrize("head,missing", [
    (["代码", "名称"], ["parent"]), (["city", "province"], ["code", "name_zh", "parent"])])
def test_a_missing_column_is_named(head: list[str], missing: list[str]) -> None:
    checked = check_rows([head, ["420500", "宜昌市"]], KNOWN)
    assert [(e.code, e.field) for e in checked.errors] == [("missing_column", m)
                                                           for m in missing]


def test_an_empty_list_is_refused() -> None:
    assert [e.code for e in check_rows([], KNOWN).errors] == ["empty_upload"]
    assert [e.code for e in check_rows([HEAD, []], KNOWN).errors] == ["empty_upload"]


def test_a_single_entry_may_not_take_a_code_on_file() -> None:
    city, errors = check_city({"code": "420100", "name_zh": "武汉市", "parent": "420000"},
                              KNOWN)
    assert city is None and [(e.code, e.field) for e in errors] == [("code_taken", "code")]
    city, errors = check_city({"code": "420100", "name_zh": "武汉", "parent": "420000"},
                              KNOWN, editing="420100")
    assert errors == [] and city is not None and city.name_zh == "武汉"


@pytest.mark.parametrize("name,kind", [("武汉市", "prefecture_city"),
                                       ("恩施土家族苗族自治州", "autonomous_prefecture"),
                                       ("阿里地区", "prefecture"), ("锡林郭勒盟", "league")])
def test_the_kind_of_a_city_is_read_from_its_name(name: str, kind: str) -> None:
    assert city_kind(name) == kind
