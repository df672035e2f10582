"""The case page shows criterion (2)'s two halves with their source — the threshold and
the rank the province states on the page (002 §六(二)(2)) — and who prepared the
materials (002 §六(三)); a western cluster's leading enterprises are typed on the edit
page, shown on the case page and printed (002 §六(二)(4))."""

from __future__ import annotations

import re

from tests import factories
from workflow.services import cases
from workflow.storage.models import ApplicationRow


def cluster_post(name: str, version: int, action: str, product: str,
                 *leading: tuple[str, str, str]) -> dict[str, object]:
    """The edit page's fields for a cluster `name` with one product row and its leading
    enterprises (name, city, national rank), as the browser posts them."""
    form = factories.form_data(applicant_name=name, applicant_type="cluster")
    data = {k: v for k, v in form.items() if not isinstance(v, list)}
    data.update({"version": version, "action": action, "products-0-name": product,
                 "products-0-exports_10k_usd": "3000"})
    for i, (firm, city, rank) in enumerate(leading):
        data.update({f"leading_enterprises-{i}-name": firm, f"leading_enterprises-{i}-city": city,
                     f"leading_enterprises-{i}-national_rank": rank})
    return data


def _criterion_two(page: str) -> str:
    m = re.search(r'<tr data-criterion="hightech_exports_threshold".*?</tr>', page, re.S)
    assert m, page[:2000]
    return m.group(0)


def test_the_province_states_the_rank_on_the_case_page_and_both_halves_show(browser, world,
                                                                             frozen):
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    before = _criterion_two(b.text(f"/cases/{app_id}"))
    assert 'data-outcome="pending"' in before
    assert "本地区门槛 50 百万美元" in before and "待省级商务主管部门填报" in before
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version
    r = b.post(f"/cases/{app_id}/review-fields", data={
        "version": version, "locality_rank": "2", "locality_peers": "13",
        "rank_catalogue": "local", "rank_source": "湖北省商务厅《2005年全省高新技术产品出口统计》"})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    after = _criterion_two(b.text(f"/cases/{app_id}"))
    assert 'data-outcome="pass"' in after
    assert "860.00 百万美元 ≥ 本地区门槛 50 百万美元" in after  # the threshold half
    assert "第 2 位（共 13 个）" in after and "地方高新技术产品出口目录" in after  # the rank half
    assert "湖北省商务厅《2005年全省高新技术产品出口统计》" in after
    assert "002 §六(二)(2)" in after  # its source


def test_a_bad_rank_is_said_on_the_page_with_what_was_typed(browser, world, frozen):
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version
    r = b.post(f"/cases/{app_id}/review-fields", data={
        "version": version, "locality_rank": "二", "locality_peers": "13"})
    # post/redirect/get: the case page says why, with what was typed
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/cases/{app_id}")
    page = b.text(r.headers["Location"])
    assert "高新技术产品出口额本地区排名" in page and 'value="二"' in page
    assert "待省级商务主管部门填报" in page  # nothing was saved


def test_the_applicant_sees_the_rank_but_has_no_box_for_it(browser, world, frozen):
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    edit = b.text(f"/applications/{app_id}/edit")
    assert 'name="locality_rank"' not in edit and 'name="applicant_type"' in edit
    page = b.text(f"/cases/{app_id}")
    assert 'data-testid="review-fields"' not in page
    assert "地级市商务主管部门组织申报材料" not in page  # a province-level applicant's draft
    assert "省级商务主管部门组织申报材料" in page


def test_a_western_cluster_types_its_leading_enterprises_and_the_pages_show_them(
        browser, world, frozen):
    app_id = factories.draft(world, "chengdu_applicant", applicant_name="成都电子信息产业集群")
    b = browser.login("chengdu_applicant")
    data = cluster_post("成都电子信息产业集群", 1, "save", "笔记本电脑",
                        ("英特尔产品（成都）有限公司", "成都市", "3"))
    data.update({"leading_enterprises-1-name": "", "leading_enterprises-1-city": ""})
    r = b.post(f"/applications/{app_id}/edit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    edit = b.text(f"/applications/{app_id}/edit")
    assert 'value="英特尔产品（成都）有限公司"' in edit
    page = b.text(f"/cases/{app_id}")
    assert 'data-table="leading_enterprises"' in page and "英特尔产品（成都）有限公司" in page
    assert "产业集群（龙头企业及配套企业）" in page
    assert "龙头企业所在地级市商务主管部门组织申报材料" in page
    printed = b.text(f"/applications/{app_id}/print")
    assert 'data-section="leading_enterprises"' in printed and "英特尔产品（成都）有限公司" in printed


def test_an_unranked_leading_enterprise_is_marked_in_its_row_on_submit(browser, world, frozen):
    app_id = factories.draft(world, "chengdu_applicant", applicant_name="成都电子信息产业集群")
    factories.attach_required(world, app_id, "chengdu_applicant")
    b = browser.login("chengdu_applicant")
    version = cases.load(world.uow(), world.id("chengdu_applicant"), app_id).row.version
    data = cluster_post("成都电子信息产业集群", version, "submit", "笔记本电脑",
                        ("英特尔产品（成都）有限公司", "成都市", ""))
    r = b.post(f"/applications/{app_id}/edit", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    page = b.text(r.headers["Location"])
    assert "龙头企业第 1 行 · " in page
    assert re.search(r'id="leading_enterprises-0-national_rank"[^>]*aria-invalid="true"', page)
    assert cases.load(world.uow(), world.id("chengdu_applicant"), app_id).row.state == "drafted"


def test_wuhans_bureau_saving_a_cluster_of_xiangyang_sees_why_beside_the_city(
        browser, world, frozen):
    # 002 §六(三): a cluster's materials come from its leading enterprise's city
    app_id = factories.draft(world, "wuhan_applicant", applicant_name="武汉汽车产业集群")
    b = browser.login("wuhan_applicant")
    data = cluster_post("武汉汽车产业集群", 1, "save", "汽车", ("东风汽车股份有限公司", "襄阳市", "3"))
    r = b.post(f"/applications/{app_id}/edit", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    page = b.text(r.headers["Location"])
    assert "龙头企业第 1 行 · 龙头企业所在地级市：所列龙头企业均不在武汉市（襄阳市）" in page
    assert re.search(r'id="leading_enterprises-0-city"[^>]*aria-invalid="true"', page)
    beside = re.search(r'<div class="errors" id="leading_enterprises-0-city-errors">(.*?)</div>',
                       page, re.S)
    assert beside and "002 §六(三)" in beside.group(1)
    assert 'value="襄阳市"' in page  # what was typed comes back
    kept = cases.load(world.uow(), world.id("wuhan_applicant"), app_id)
    assert kept.row.version == 1 and kept.case.values["applicant_type"] == "region"
    data.update({"leading_enterprises-1-name": "东风汽车集团有限公司",
                 "leading_enterprises-1-city": "武汉", "leading_enterprises-1-national_rank": "1"})
    assert b.post(f"/applications/{app_id}/edit", data=data).status_code == 302


def test_the_case_page_says_why_a_cluster_of_another_city_cannot_be_submitted(
        browser, world, frozen):
    # a draft whose document names only Xiangyang (saved before the rule): submit is refused
    app_id = factories.draft(world, "wuhan_applicant", applicant_name="武汉汽车产业集群")
    factories.attach_required(world, app_id, "wuhan_applicant")
    with world.uow() as u:
        row = u.session.get(ApplicationRow, app_id)
        row.form = {**row.form, "applicant_type": "cluster", "leading_enterprises": [
            {"name": "东风汽车股份有限公司", "city": "襄阳市", "national_rank": 3}]}
        u.commit()
    page = browser.login("wuhan_applicant").text(f"/cases/{app_id}")
    why = re.search(r'<li data-refused="submit">.*?</li>', page, re.S)
    assert why and "所列龙头企业均不在武汉市（襄阳市）" in why.group(0)


# --- the leading enterprise's city is picked from the province's cities (002 §六(三)) ---------

def _city_select(page: str, i: int = 0) -> str:
    m = re.search(rf'<select id="leading_enterprises-{i}-city".*?</select>', page, re.S)
    assert m, page[:2000]
    return m.group(0)


def test_a_citys_bureau_picks_its_leading_enterprises_city_from_its_provinces_cities(
        browser, world, frozen):
    app_id = factories.draft(world, "wuhan_applicant", applicant_name="武汉光电子产业集群")
    b = browser.login("wuhan_applicant")
    listed = _city_select(b.text(f"/applications/{app_id}/edit"))
    assert re.findall(r'<option value="(\d+)"', listed) == ["420100", "420600", "422800"]
    assert ">湖北省武汉市</option>" in listed and ">湖北省恩施土家族苗族自治州</option>" in listed
    assert "成都" not in listed and "广州" not in listed  # another province's cities
    data = cluster_post("武汉光电子产业集群", 1, "save", "光纤", ("烽火通信科技股份有限公司", "420100", "2"))
    assert b.post(f"/applications/{app_id}/edit", data=data).status_code == 302
    saved = cases.load(world.uow(), world.id("wuhan_applicant"), app_id).case.values
    assert saved["leading_enterprises"][0]["city"] == "420100"  # the code is kept
    assert re.search(r'<option value="420100" selected>湖北省武汉市</option>',
                     _city_select(b.text(f"/applications/{app_id}/edit")))
    row = re.search(r'<table data-table="leading_enterprises">.*?</table>',
                    b.text(f"/cases/{app_id}"), re.S)
    assert row and "湖北省武汉市" in row.group(0) and "420100" not in row.group(0)
    printed = re.search(r'data-section="leading_enterprises".*?</section>',
                        b.text(f"/applications/{app_id}/print"), re.S)
    assert printed and "湖北省武汉市" in printed.group(0) and "420100" not in printed.group(0)


def test_the_list_of_cities_is_in_english_when_the_user_switches(browser, world, frozen):
    app_id = factories.draft(world, "wuhan_applicant", applicant_name="武汉光电子产业集群")
    b = browser.login("wuhan_applicant", lang="en")
    listed = _city_select(b.text(f"/applications/{app_id}/edit"))
    assert ">Wuhan, Hubei</option>" in listed and ">Enshi, Hubei</option>" in listed


def test_another_provinces_city_is_refused_beside_the_row_and_stays_picked(
        browser, world, frozen):
    app_id = factories.draft(world, "wuhan_applicant", applicant_name="武汉光电子产业集群")
    b = browser.login("wuhan_applicant")
    data = cluster_post("武汉光电子产业集群", 1, "save", "光纤", ("成都某企业", "510100", "2"))
    r = b.post(f"/applications/{app_id}/edit", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    page = b.text(r.headers["Location"])
    beside = re.search(r'<div class="errors" id="leading_enterprises-0-city-errors">(.*?)</div>',
                       page, re.S)
    assert beside and "所列龙头企业均不在武汉市（成都市）" in beside.group(1)
    picked = _city_select(page)
    assert 'aria-invalid="true"' in picked
    assert re.search(r'<option value="510100" selected>四川省成都市</option>', picked)
    kept = cases.load(world.uow(), world.id("wuhan_applicant"), app_id)
    assert kept.row.version == 1 and kept.case.values["leading_enterprises"] == []


def test_a_city_typed_before_the_list_stays_on_offer_and_is_kept_on_re_save(
        browser, world, frozen):
    app_id = factories.draft(world, "enshi_applicant", applicant_name="恩施硒茶产业集群")
    with world.uow() as u:  # saved as free text, before the list
        row = u.session.get(ApplicationRow, app_id)
        row.form = {**row.form, "applicant_type": "cluster", "leading_enterprises": [
            {"name": "恩施某茶业", "city": "恩施州", "national_rank": 4}]}
        u.commit()
    b = browser.login("enshi_applicant")
    listed = _city_select(b.text(f"/applications/{app_id}/edit"))
    assert re.search(r'<option value="恩施州" selected>恩施州</option>', listed)
    version = cases.load(world.uow(), world.id("enshi_applicant"), app_id).row.version
    data = cluster_post("恩施硒茶产业集群", version, "save", "硒茶", ("恩施某茶业", "恩施州", "4"))
    assert b.post(f"/applications/{app_id}/edit", data=data).status_code == 302  # 恩施州 names it
    saved = cases.load(world.uow(), world.id("enshi_applicant"), app_id).case.values
    assert saved["leading_enterprises"][0]["city"] == "恩施州"


def test_a_municipality_has_no_cities_to_list_and_its_city_is_typed(browser, world, frozen):
    app_id = factories.draft(world, "beijing_applicant", applicant_name="北京")
    page = browser.login("beijing_applicant").text(f"/applications/{app_id}/edit")
    assert '<select id="leading_enterprises-0-city"' not in page
    assert re.search(r'<input type="text" id="leading_enterprises-0-city"', page)


def test_criterion_two_reads_with_english_punctuation_in_english(browser, world, frozen):
    # the rank half joined its parts with "；" and "：" in English too
    app_id = factories.submitted(world)
    b = browser.login("hubei_reviewer")
    version = cases.load(world.uow(), world.id("hubei_reviewer"), app_id).row.version
    assert b.post(f"/cases/{app_id}/review-fields", data={
        "version": version, "locality_rank": "1", "locality_peers": "17",
        "rank_catalogue": "national", "rank_source": "Hubei statistics 2005"}).status_code == 302
    english = browser.login("hubei_reviewer", lang="en")
    row = re.sub(r"<[^>]+>", "", _criterion_two(english.text(f"/cases/{app_id}")))
    assert "Rank in the locality: No. 1 of 17; " in row
    assert "; source: Hubei statistics 2005; " in row
    assert not re.search("[；：（），]", row), row


def test_growth_without_reference_statistics_shows_a_dash_not_a_dash_per_cent(browser, world,
                                                                              frozen):
    # criterion (3) with no national or local figure entered: "—", not "—%"
    from sqlalchemy import delete

    from workflow.storage.models import ReferenceStatRow
    with world.uow() as u:
        u.session.execute(delete(ReferenceStatRow))
        u.commit()
    app_id = factories.submitted(world)
    page = browser.login("hubei_reviewer").text(f"/cases/{app_id}")
    row = re.sub(r"<[^>]+>", "", re.search(
        r'<tr data-criterion="three_year_growth".*?</tr>', page, re.S).group(0))
    assert "全国高新技术产品出口 —；本地区出口 —" in row and "—%" not in row


def test_the_applicant_type_shows_its_default_a_region_until_another_is_chosen(
        browser, world, frozen):
    # a blank 申报主体 is taken as a region (the file's default); the page said 请选择
    app_id = factories.draft(world, "wuhan_applicant")
    b = browser.login("wuhan_applicant")
    select = re.search(r'<select id="applicant_type".*?</select>',
                       b.text(f"/applications/{app_id}/edit"), re.S)
    assert select, "no applicant type on the edit page"
    assert re.search(r'<option value="region" selected>', select.group(0))
    assert 'value=""' not in select.group(0)  # no 请选择: a blank is a region anyway
    data = cluster_post("武汉光电子产业集群", 1, "save", "光纤", ("烽火通信科技股份有限公司", "420100", "2"))
    assert b.post(f"/applications/{app_id}/edit", data=data).status_code == 302
    select = re.search(r'<select id="applicant_type".*?</select>',
                       b.text(f"/applications/{app_id}/edit"), re.S)
    assert select and re.search(r'<option value="cluster" selected>', select.group(0))
