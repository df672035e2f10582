"""The rows of an imported register of bases: what is read, and every error with its row
and column, nothing taken while any row is wrong."""

from __future__ import annotations

from datetime import date, datetime

from workflow.register import ImportRow, counts_as_existing, read_rows

AUTHORITIES = {"420000": "420000", "湖北省": "420000", "210200": "210200", "大连市": "210200"}
TODAY = date(2006, 3, 1)
HEAD = ["省级商务主管部门", "基地名称", "基地类型", "认定文号", "认定日期", "状态", "状态日期", "备注"]


def read(*rows: list[object]) -> tuple[list[ImportRow], list[str]]:
    found, errors = read_rows([HEAD, *rows], AUTHORITIES, TODAY)
    return found, [f"{e.field}:{e.code}" for e in errors]


def test_a_sheet_of_national_bases_is_read_with_names_labels_and_dates_as_people_type_them() -> None:
    found, errors = read(
        ["湖北省", "武汉国家高新技术产品出口基地", "高新技术产品出口基地", "外经贸技发[2001]459号",
         datetime(2001, 9, 20), None, None, None],
        [210200, " 大连国家软件出口基地 ", "国家软件出口基地", "商科技发[2003]256号", "2003年11月18日",
         "限期整改", "2005/12/1", "整改中"])
    assert errors == []
    wuhan, dalian = found
    assert (wuhan.authority_code, wuhan.base_type, wuhan.designated_on, wuhan.status,
            wuhan.status_since) == ("420000", "hightech", date(2001, 9, 20), "designated",
                                    date(2001, 9, 20))
    assert (dalian.authority_code, dalian.name, dalian.base_type, dalian.status,
            dalian.status_since, dalian.note) == ("210200", "大连国家软件出口基地", "software",
                                                  "rectifying", date(2005, 12, 1), "整改中")


def test_columns_may_come_in_any_order_and_the_optional_ones_may_be_missing() -> None:
    head = ["认定日期", "基地名称", "省级商务主管部门", "认定文号", "基地类型"]
    found, errors = read_rows([head, ["2004-06-08", "天津国家医药出口基地", "420000", "商科技发[2004]112号",
                                      "pharmaceutical"]], AUTHORITIES, TODAY)
    assert errors == [] and found[0].base_type == "pharmaceutical"
    assert found[0].status == "designated"


def test_every_bad_cell_is_named_by_its_row_and_column_and_nothing_is_taken() -> None:
    good = ["湖北省", "武汉国家高新技术产品出口基地", "高新技术产品出口基地", "外经贸技发[2001]459号",
            "2001-09-20"]
    found, errors = read(
        good,
        ["湖南省", "长沙国家软件出口基地", "软件出口基地", "商科技发[2003]256号", "2003-11-18"],
        ["湖北省", "", "出口创新基地", "外经贸技发[2001]1号", "2001-02-30"],
        ["湖北省", "宜昌国家医药出口基地", "医药出口基地", "商科技发[2004]1号", "2004-06-08",
         "暂停", "2003-01-01"],
        ["湖北省", "襄阳国家软件出口基地", "软件出口基地", "商科技发[2007]1号", "2007-01-01"],
        good)
    assert found == []
    assert errors == [
        "rows[3].authority:unknown_authority",
        "rows[4].name:required", "rows[4].base_type:invalid_base_type",
        "rows[4].designated_on:invalid_date",
        "rows[5].status:invalid_status", "rows[5].status_since:before_designation",
        "rows[6].designated_on:date_in_future",
        "rows[7].name:duplicate_row",
    ]


def test_the_words_of_an_error_say_the_row_and_the_column_in_chinese_and_english() -> None:
    _, errors = read_rows([HEAD, ["湖北省", "武汉", "高新技术产品出口基地", "x", "2001-13-01"]],
                          AUTHORITIES, TODAY)
    [e] = errors
    assert e.zh.startswith("第 2 行“认定日期”") and e.en.startswith("row 2, Designated on")
    assert e.details == {"row": 2, "column": "认定日期", "value": "2001-13-01"}


def test_a_sheet_without_a_required_column_is_refused_before_any_row() -> None:
    _, errors = read_rows([["基地名称", "基地类型"], ["武汉", "软件出口基地"]], AUTHORITIES, TODAY)
    assert [e.field for e in errors] == ["columns.authority", "columns.designation_document",
                                         "columns.designated_on"]
    assert "缺少“省级商务主管部门”列" in errors[0].zh


def test_export_innovation_bases_are_not_imported_they_enter_on_approval() -> None:
    _, errors = read(["湖北省", "武汉光谷", "科技兴贸出口创新基地", "x", "2006-01-01"])
    assert errors == ["rows[2].base_type:invalid_base_type"]


def test_an_empty_sheet_is_an_error() -> None:
    assert read()[1] == ["file:empty_upload"]


def test_a_revoked_base_is_no_longer_an_existing_base() -> None:
    # 002 §六(三): "已有…基地" — a base whose designation was revoked is not one
    assert counts_as_existing("designated") and counts_as_existing("rectifying")
    assert not counts_as_existing("revoked")
