"""出口基地名录 in the web UI: the list and its filters, one base's status over time, the
ministry's import with every bad row named, and the re-certification form that picks its
base from the register."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from tests import factories
from tests.web.test_application_form import _post_fields
from workflow.services import clock

CSV_HEAD = "省级商务主管部门,基地名称,基地类型,认定文号,认定日期,状态,状态日期\n"


def csv_file(*lines: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO((CSV_HEAD + "\n".join(lines) + "\n").encode("utf-8")), "名录.csv"


def test_the_ministry_reads_the_register_in_chinese_filters_it_and_reads_it_in_english(
        browser: Any, world: factories.World) -> None:
    b = browser.login("mofcom")
    page = b.text("/inbox")
    assert 'href="/bases-register/"' in page and "出口基地名录" in page
    page = b.text("/bases-register/")
    assert "武汉国家高新技术产品出口基地" in page and "北京国家医药出口基地" in page
    assert "外经贸技发[2001]101号" in page and "2001年9月20日" in page
    assert "高新技术产品出口基地" in page and "已认定" in page
    only = b.text("/bases-register/?type=software")
    assert "成都国家软件出口基地" in only and "武汉国家高新技术产品出口基地" not in only
    assert 'data-testid="import"' in page  # the ministry may import
    b.post("/lang/en")
    page = b.text("/bases-register/")
    assert "Register of bases" in page and "High-tech product export base" in page
    assert "Designated" in page and "2001-09-20" in page


def test_a_province_reads_its_own_bases_and_may_not_import(
        browser: Any, world: factories.World) -> None:
    b = browser.login("hubei_reviewer")
    page = b.text("/bases-register/")
    assert "武汉国家高新技术产品出口基地" in page and "广州国家高新技术产品出口基地" not in page
    assert 'data-testid="import"' not in page
    r = b.post("/bases-register/import", data={"file": csv_file(
        "湖北省,黄石国家高新技术产品出口基地,高新技术产品出口基地,外经贸技发[2002]238号,2002-07-15,,")},
        content_type="multipart/form-data")
    assert r.status_code == 403
    assert b.get(f"/bases-register/{world.bases['440000']}").status_code == 404


def test_an_import_on_the_page_lists_every_bad_row_and_imports_nothing_then_a_good_one(
        browser: Any, world: factories.World) -> None:
    b = browser.login("mofcom")
    r = b.post("/bases-register/import", content_type="multipart/form-data", data={
        "file": csv_file("湖南省,长沙国家软件出口基地,软件出口基地,商科技发[2005]87号,2005-04-12,,",
                         "湖南省,株洲国家基地,开发区,外经贸技发[2002]238号,2002-07-15,,")})
    assert r.status_code == 303 and r.headers["Location"].endswith("/bases-register/")
    page = b.text(r.headers["Location"])
    assert 'data-field="rows[3].base_type"' in page and "第 3 行“基地类型”" in page
    again = b.text("/bases-register/")  # shown once; nothing was imported
    assert "长沙国家软件出口基地" not in again and 'data-testid="import-errors"' not in again
    r = b.post("/bases-register/import", content_type="multipart/form-data", data={})
    assert r.status_code == 303
    assert 'data-field="file">请选择要导入的文件' in b.text(r.headers["Location"])
    r = b.post("/bases-register/import", content_type="multipart/form-data", data={
        "file": csv_file("湖南省,长沙国家软件出口基地,软件出口基地,商科技发[2005]87号,2005-04-12,,",
                         "湖北省,武汉国家高新技术产品出口基地,高新技术产品出口基地,外经贸技发[2001]101号,"
                         "2001-09-20,已撤销,2006-01-10")})
    assert r.status_code == 302
    page = b.text("/bases-register/")
    assert "已导入 2 行：新增 1 个基地，更新 1 个，0 个未变" in page
    assert "长沙国家软件出口基地" in page
    detail = b.text(f"/bases-register/{world.bases['420000']}")
    assert re.search(r'data-status="revoked" data-decision="import".*?2006年1月10日', detail, re.S)


def test_a_re_certification_form_offers_the_authoritys_own_bases_and_needs_one_to_submit(
        browser: Any, world: factories.World) -> None:
    other_type = factories.add_base(world, "420000", "武汉国家软件出口基地", "software")
    factories.add_base(world, "420000", "黄石国家高新技术产品出口基地", status="revoked")
    b = browser.login("hubei_applicant")
    page = b.text("/applications/new")
    options = re.findall(r'<option value="(\d+)" data-type="(\w+)"', page)
    assert sorted(options) == sorted([(str(world.bases["420000"]), "hightech"),
                                      (str(other_type), "software")])
    assert "广州国家高新技术产品出口基地" not in page and "黄石" not in page
    # a re-certification saved without its base: submitting says what is missing, there
    r = b.post("/applications/new", data=_post_fields(kind="recertification",
                                                      applicant_name="武汉国家高新技术产品出口基地"))
    edit = r.headers["Location"]
    app_id = int(edit.split("/")[2])
    factories.attach_required(world, app_id)
    r = b.post(edit, data=_post_fields(kind="recertification", action="submit", version="1",
                                       applicant_name="武汉国家高新技术产品出口基地"))
    assert r.status_code == 303
    page = b.text(r.headers["Location"])
    assert re.search(r'data-error-for="existing_base_id">重新认定须从出口基地名录中选定', page)
    r = b.post(edit, data=_post_fields(kind="recertification", action="submit", version="2",
                                       existing_base_id=str(world.bases["420000"]),
                                       existing_base_type="software"))
    assert 'data-error-for="existing_base_type">原基地类型与出口基地名录不符' in b.text(
        r.headers["Location"])
    r = b.post(edit, data=_post_fields(kind="recertification", action="submit", version="2",
                                       existing_base_id=str(world.bases["420000"])))
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    case = b.text(f"/cases/{app_id}")
    assert re.search(r'data-testid="named-base"><a href="/bases-register/\d+">'
                     r'武汉国家高新技术产品出口基地</a> （高新技术产品出口基地）', case)


def test_a_province_without_bases_is_told_it_can_only_apply_for_a_new_base(
        browser: Any, world: factories.World) -> None:
    page = browser.login("hunan_applicant").text("/applications/new")
    assert 'data-testid="no-bases"' in page and "只能申报新基地" in page


def test_the_ministry_approves_with_a_document_number_and_the_register_shows_it(
        browser: Any, world: factories.World) -> None:
    app_id = factories.published(world)
    b = browser.login("mofcom2")
    clock.freeze(datetime(2006, 5, 15, 10, tzinfo=clock.CHINA))
    try:
        page = b.text(f"/cases/{app_id}")
        assert 'id="document-approve"' in page and "文号（可选）" in page
        r = b.post(f"/cases/{app_id}/fire", data={"trigger": "approve", "version": "4",
                                                  "document": "商技函[2006]45号"})
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        page = b.text(f"/cases/{app_id}")
        link = re.search(r'href="(/bases-register/\d+)" data-testid="register-entry"', page)
        assert link and "文号：商技函[2006]45号" in page
        entry = b.text(link.group(1))
        assert "武汉光谷光电子信息产业集群" in entry and "科技兴贸出口创新基地" in entry
        assert "商技函[2006]45号" in entry and "2006年5月15日" in entry and "信息" in entry
    finally:
        clock.freeze(None)
