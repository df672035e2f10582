"""The 申报书 form: validation next to each field, drafts saved and resumed, submit, print."""

from __future__ import annotations

import io
import re

from tests import factories


def _post_fields(**over: str) -> dict[str, str]:
    data = {k: str(v) for k, v in factories.form_data().items() if k != "products"}
    data.update({"products-0-name": "光通信设备", "products-0-exports_10k_usd": "3000"})
    data.update(over)
    return data


def _back(b, r, url: str) -> str:
    """A refused POST answers 303 to its form's GET (post/redirect/get): that page."""
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    assert r.headers["Location"] == url
    return b.text(url)


def test_bad_input_is_refused_next_to_each_field_and_what_was_typed_is_kept(browser, world):
    b = browser.login("hubei_applicant")
    r = b.post("/applications/new", data=_post_fields(
        contact_email="not-an-email", export_growth_pct="20000", enterprise_count="-3",
        **{"products-1-name": "", "products-1-exports_10k_usd": "abc"}))
    page = _back(b, r, "/applications/new")
    assert re.search(r'data-error-for="contact_email">电子信箱：电子信箱格式不正确', page)
    assert 'data-error-for="export_growth_pct"' in page
    assert 'data-error-for="enterprise_count">企业数：不能为负数' in page
    assert 'data-error-for="products-1-exports_10k_usd"' in page
    assert 'value="not-an-email"' in page and 'value="abc"' in page  # kept as typed
    assert "申报书" in page and "（亿美元）" in page  # units shown with the fields
    # shown once: a reload is the empty form again
    again = b.text("/applications/new")
    assert 'value="not-an-email"' not in again and "data-error-for" not in again


def test_a_refused_new_application_keeps_every_product_row_and_table_row(browser, world):
    """A 申报书 with many product rows holds far more than a 4 KB session cookie: the
    redirected page still shows every row as typed, with the error beside its cell."""
    b = browser.login("hubei_applicant")
    rows = {f"products-{i}-name": f"第{i}号出口产品（高新技术产品目录内）" * 3 for i in range(60)}
    rows.update({f"products-{i}-exports_10k_usd": str(100 + i) for i in range(60)})
    rows["products-59-exports_10k_usd"] = "一百"
    r = b.post("/applications/new", data=_post_fields(**rows))
    page = _back(b, r, "/applications/new")
    assert len(b.client.get_cookie("session").value) < 4000
    for i in range(60):
        assert f'value="第{i}号出口产品（高新技术产品目录内）' in page
    assert 'value="一百"' in page and 'value="158"' in page
    assert 'data-error-for="products-59-exports_10k_usd"' in page
    assert re.search(r'id="products-59-exports_10k_usd"[^>]*aria-invalid="true"', page)


def test_a_draft_is_saved_resumed_and_submitted_with_its_attachments(browser, world):
    b = browser.login("hubei_applicant")
    r = b.post("/applications/new", data=_post_fields(
        employees="", **{"products-1-name": "激光器", "products-1-exports_10k_usd": "800"}))
    assert r.status_code == 302
    edit = r.headers["Location"]
    page = b.text(edit)
    assert 'value="激光器"' in page and 'name="version" value="1"' in page
    r = b.post(edit, data=_post_fields(employees="", action="submit", version="1"))
    page = _back(b, r, edit)  # employees empty, no attachments: nothing submitted
    assert 'data-error-for="employees">必填' in page
    app_id = int(edit.split("/")[2])
    for kind in ("application_form", "development_plan"):
        r = b.post(f"/cases/{app_id}/attachments", content_type="multipart/form-data",
                   data={"kind": kind, "back": "edit",
                         "file": (io.BytesIO(factories.PDF), f"{kind}.pdf")})
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
    assert "data-error-for" not in b.text(edit)  # the errors were shown once
    version = re.search(r'name="version" value="(\d+)"', b.text(edit)).group(1)
    r = b.post(edit, data=_post_fields(employees="35000", action="submit", version=version))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/cases/{app_id}")
    page = b.text(f"/cases/{app_id}")
    assert "省级审核中" in page
    # the case page's footer cites its programme's document (citation_zh in its file)
    assert "依据商务部关于开展科技兴贸出口创新基地申报工作的通知（商技发〔2006〕6号）" in page


def test_saving_over_a_newer_version_says_so_and_keeps_the_typing(browser, world):
    app_id = factories.draft(world)
    b = browser.login("hubei_applicant")
    assert b.post(f"/applications/{app_id}/edit", data=_post_fields(version="1")).status_code \
        == 302
    r = b.post(f"/applications/{app_id}/edit",
               data=_post_fields(version="1", address="我刚输入的新地址"))
    page = _back(b, r, f"/applications/{app_id}/edit")
    assert 'data-testid="conflict"' in page and 'value="我刚输入的新地址"' in page
    assert 'name="version" value="2"' in page  # saving again now goes over the newer one
    again = b.text(f"/applications/{app_id}/edit")  # a reload: the saved draft
    assert 'data-testid="conflict"' not in again and "我刚输入的新地址" not in again


def test_print_view_lays_out_the_official_form_one_section_per_page(browser, world):
    app_id = factories.submitted(world)
    page = browser.login("hubei_applicant").text(f"/applications/{app_id}/print")
    assert "2006年科技兴贸工程出口创新基地申报书" in page
    assert "第一项：基地基本情况" in page and "2005 年度" in page
    assert page.count('class="sheet"') == 4
    assert "application_form.pdf" in page
    # the papers' list cites the rule its programme's file names (002 §六(三))
    assert "依据商技发〔2006〕6号 第六条第三款" in page


def test_submitting_says_every_problem_at_once_each_naming_its_field(browser, world):
    """One round of validation: a malformed figure, a blank required field and a figure
    above its total are all said on the first submit, each by its field; "35%" is a
    percentage as typed."""
    b = browser.login("hubei_applicant")
    r = b.post("/applications/new", data=_post_fields(employees=""))
    edit = r.headers["Location"]
    r = b.post(edit, data=_post_fields(contact_email="not-an-email", contact_person="",
                                       export_growth_pct="35%", employees="", action="submit",
                                       version="1"))
    page = _back(b, r, edit)
    assert 'data-error-for="contact_email">电子信箱：电子信箱格式不正确' in page
    assert 'data-error-for="contact_person">联系人：必填' in page
    assert 'data-error-for="employees">从业人员：必填' in page
    assert 'data-error-for="export_growth_pct"' not in page  # 35% is 35 %
    r = b.post(edit, data=_post_fields(hightech_exports_100m_usd="20", exports_100m_usd="12.3",
                                       version="1"))
    assert "高新技术产品出口额不能大于出口额" in _back(b, r, edit)


def test_this_years_round_may_still_be_chosen_once_next_years_has_opened(browser, world, api,
                                                                         frozen):
    # 2006-04-21: the ministry opens the 2007 round while the 2006 round runs until its
    # 30 April deadline; a new application may still go into 2006's
    ministry = api.as_("mofcom")
    assert ministry.post("/api/v1/rounds", json={
        "year": 2007, "submission_deadline": "2007-04-30",
        "approval_deadline": "2007-05-31"}).status_code == 201
    assert ministry.post("/api/v1/rounds/2007/open").status_code == 200
    b = browser.login("hubei_applicant")
    page = b.text("/applications/new")
    links = re.findall(r'<a href="(/applications/new\?[^"]+)"', page)
    assert len(links) == 2, links
    this_year = next(u for u in links if "year=2006" in u).replace("&amp;", "&")
    assert 'data-round="2006"' in b.text(this_year)
    r = b.post(this_year, data={**_post_fields(), "programme": "mofcom-2006-6",
                                "year": "2006"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    app_id = int(re.search(r"/applications/(\d+)/edit", r.headers["Location"]).group(1))
    assert 'data-round="2006"' in b.text(f"/applications/{app_id}/edit")
