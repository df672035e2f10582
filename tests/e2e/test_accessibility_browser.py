"""Every main screen, for every kind of user, passes axe-core's WCAG 2.1 A and AA checks in
Chromium: each field has a name a screen reader reads, text has enough contrast, landmarks
and headings make sense, the page's language is declared. axe-core is vendored under
tests/e2e/vendor/axe-core (it only runs in these tests; the app never serves it)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests import factories
from tests.e2e.test_walkthrough import VIEWPORT, _uow
from workflow.services import clock, second_factor
from workflow.storage.models import ExportBaseRow

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
T = datetime(2006, 4, 29, 10, tzinfo=clock.CHINA)  # the Hunan case is under public notice
ADMINS = ("sysadmin", "secadmin", "auditor")
APP_NAMES = ("科技兴贸出口创新基地管理系统", "Export Innovation Bases Management System")


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as it is now: rule, impact, where."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE)  # through the DevTools protocol: the page's CSP does not apply
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
        "help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + "
        "n.failureSummary.replace(/\\s+/g, ' '))})))", WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']}\n      " + "\n      ".join(v["nodes"][:6])
            for v in result]


def _login(chromium: Any, base: str, username: str | None, lang: str,
           totp: str | None = None, found: list[str] | None = None) -> Any:
    """A browser tab in `lang`, logged in as `username` (an admin with their second factor;
    the code's page is checked into `found`)."""
    found = [] if found is None else found
    page = chromium.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    if lang == "en":
        page.click("[data-testid=lang-switch]")
    if username:
        page.fill("#username", username)
        page.fill("#password", factories.PASSWORD)
        page.click("main button[type=submit]")
        if totp:
            page.wait_for_selector("#otp")
            found += [f"{username} /login/otp: {v}" for v in axe_violations(page)]
            page.fill("#otp", pyotp.TOTP(totp).at(clock.utcnow()))
            page.click("main button[type=submit]")
        page.wait_for_selector("[data-testid=whoami]")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_main_screen_meets_wcag_a_and_aa(chromium, live_server, lang):
    base = live_server
    world = factories.build_world(_uow(base))
    world.upload_dir = base.settings.upload_dir
    submitted = factories.submitted(world)
    published = factories.published(world, applicant="hunan_applicant",
                                    reviewer="hunan_reviewer", applicant_name="湖南长株潭新材料基地")
    draft = factories.draft(world, applicant_name="武汉生物医药基地", employees=None, address=None)
    approved = factories.approved(world, applicant="sichuan_applicant",
                                  reviewer="sichuan_reviewer", applicant_name="成都新材料基地")
    with world.uow() as u:
        register_entry = u.session.query(ExportBaseRow.id).filter_by(
            name="武汉国家高新技术产品出口基地").scalar()
    screens: dict[str | None, list[str]] = {
        None: ["/login", "/notice", f"/notice/{published}", "/notice/objection-status",
               "/no-such-page"],
        "hubei_applicant": ["/inbox", "/applications/new", f"/applications/{draft}/edit",
                            "/reports/", "/bases-register/", f"/bases-register/{register_entry}",
                            "/notifications", "/tokens", "/account/password"],
        "hubei_reviewer": ["/inbox", f"/cases/{submitted}", f"/applications/{submitted}/print",
                           "/dashboard", "/rounds", "/rounds/2006", "/deputies", "/webhooks"],
        "mofcom": ["/inbox", f"/cases/{published}", f"/cases/{approved}", "/objections",
                   "/rounds/new", f"/reports/bases/{approved}", "/reports/reference",
                   "/reports/assessment", "/reports/programme"],
        "sysadmin": ["/admin/accounts", "/admin/authorities", "/admin/outbox", "/admin/backups"],
        "secadmin": ["/admin/security", "/admin/roles"],
        "auditor": ["/admin/audit"],
    }
    clock.freeze(T)
    secrets = {}
    for admin in ADMINS:
        secrets[admin] = second_factor.new_totp_secret()
        second_factor.enrol_totp(world.uow(), world.id(admin), secrets[admin],
                            pyotp.TOTP(secrets[admin]).at(clock.utcnow()),
                            secret_key=base.settings.secret_key)  # the live server's
    clock.freeze(T + timedelta(seconds=30))  # a fresh code for each admin's login
    found: list[str] = []
    try:
        for user, urls in screens.items():
            page = _login(chromium, base, user, lang, secrets.get(user or ""), found)
            for url in urls:
                response = page.goto(base + url)
                # the screen itself, not a redirection to the login or an error page
                assert page.url == base + url, f"{user} {url} went to {page.url}"
                assert response.status == (404 if url == "/no-such-page" else 200), url
                found += [f"{user or 'public'} {url}: {v}" for v in axe_violations(page)]
                if page.title() in APP_NAMES:  # the tab names the screen too (2.4.2)
                    found.append(f"{user or 'public'} {url}: the title is only the app's name")
            if user == "mofcom":  # the results of a bulk action
                page.goto(f"{base}/inbox")
                page.check("input[data-select-all]")
                page.click("[data-testid=bulk-submit]")
                found += [f"{user} bulk results: {v}" for v in axe_violations(page)]
            if user == "hubei_applicant":  # a form sent incomplete: the errors beside the fields
                page.goto(f"{base}/applications/{draft}/edit")
                page.click("[data-testid=submit]")
                found += [f"{user} form with errors: {v}" for v in axe_violations(page)]
            page.context.close()
    finally:
        clock.freeze(None)
    assert not found, f"{len(found)} accessibility violations:\n  " + "\n  ".join(found)


def test_the_keyboard_can_skip_the_menu_and_always_shows_where_it_is(chromium, live_server):
    from playwright.sync_api import expect  # after the chromium fixture: skips without it

    base = live_server
    factories.build_world(_uow(base))
    page = _login(chromium, base, "hubei_reviewer", "zh")
    page.keyboard.press("Tab")  # the first stop on every page: past the menu, to the content
    skip = page.locator("[data-testid=skip-link]")
    expect(skip).to_be_focused()
    expect(skip).to_have_accessible_name("跳到正文")
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["height"] > 10, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the content, not the menu again
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    outline = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                            "return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert outline[0] != "none" and outline[1] >= 2, f"no visible focus: {outline}"
    page.context.close()


def test_a_form_sent_back_says_what_is_wrong_and_takes_the_keyboard_to_each_field(
        chromium, live_server):
    from playwright.sync_api import expect

    base = live_server
    world = factories.build_world(_uow(base))
    world.upload_dir = base.settings.upload_dir
    draft = factories.draft(world, applicant_name="武汉生物医药基地", employees=None, address=None)
    clock.freeze(T)
    try:
        page = _login(chromium, base, "hubei_applicant", "zh")
        page.goto(f"{base}/applications/{draft}/edit")
        page.click("[data-testid=submit]")
        # the summary is where the keyboard and the screen reader start, and names each field
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        link = summary.locator("a[data-error-link=employees]")
        expect(link).to_have_text("从业人员：必填")
        link.click()
        employees = page.locator("#employees")
        expect(employees).to_be_focused()
        expect(employees).to_have_attribute("aria-invalid", "true")
        expect(employees).to_have_accessible_description("必填")
        # the red star is said in words: needed to submit, not to save a draft
        expect(employees).to_have_accessible_name(re.compile(r"^从业人员（人）\s*（提交时必填）$"))
        # each product row's inputs and button say which row they are on, after adding and
        # removing rows too; removing a row leaves the keyboard in the table
        page.fill("#products-0-name", "光通信设备")
        page.click("[data-add-product]")
        expect(page.locator("#products-1-name")).to_be_focused()
        expect(page.locator("#products-1-name")).to_have_accessible_name("产品名称 2")
        page.fill("#products-1-name", "激光器")
        page.click("#products-0-remove")
        expect(page.locator("#products-0-name")).to_be_focused()
        expect(page.locator("#products-0-name")).to_have_value("激光器")
        expect(page.locator("#products-0-name")).to_have_accessible_name("产品名称 1")
        expect(page.locator("#products-0-remove")).to_have_accessible_name("删除 1")
        page.context.close()
        # the same on the staff's forms: a refused webhook address describes its field
        page = _login(chromium, base, "hubei_reviewer", "en")
        page.goto(f"{base}/webhooks")
        page.fill("#url", "ftp://swt.example.gov.cn/hook")
        page.click("main form button[type=submit]")
        url = page.locator("#url")
        expect(url).to_have_attribute("aria-invalid", "true")
        expect(url).to_have_accessible_description(
            "url: must be an absolute http:// or https:// URL")
        page.context.close()
    finally:
        clock.freeze(None)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_at_320_pixels_wide_only_tables_scroll_sideways(chromium, live_server, lang):
    """A phone, or a desktop zoomed to 400 %, reads every screen without scrolling both ways
    (WCAG 2.1 1.4.10); a wide table scrolls inside its own box."""
    base = live_server
    world = factories.build_world(_uow(base))
    world.upload_dir = base.settings.upload_dir
    submitted = factories.submitted(world)
    draft = factories.draft(world, applicant_name="武汉生物医药基地")
    screens: dict[str | None, list[str]] = {
        None: ["/login", "/notice", "/notice/objection-status"],
        "hubei_applicant": [f"/applications/{draft}/edit", "/reports/", "/bases-register/",
                            "/tokens"],
        "hubei_reviewer": ["/inbox", f"/cases/{submitted}", "/dashboard", "/deputies",
                           "/webhooks", "/rounds"],
        "mofcom": ["/objections", "/reports/programme", "/rounds/new"],
    }
    wider: list[str] = []
    clock.freeze(T)
    try:
        for user, urls in screens.items():
            page = _login(chromium, base, user, lang)
            page.set_viewport_size({"width": 320, "height": 640})
            for url in urls:
                page.goto(base + url)
                assert page.url == base + url, f"{user} {url} went to {page.url}"
                width = page.evaluate("() => document.documentElement.scrollWidth")
                if width > 320:
                    wider.append(f"{user or 'public'} {url}: {width}px")
                # and what scrolls can be scrolled from the keyboard (2.1.1)
                wider += [f"{user or 'public'} {url}: {v}" for v in axe_violations(page)]
            page.context.close()
    finally:
        clock.freeze(None)
    assert not wider, "at 320px wide:\n  " + "\n  ".join(wider)
