"""The /webhooks page: a reviewer registers a URL (the secret shown once), sees only their
scope's webhooks, deletes one, reads its deliveries and retries a failed one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from tests import factories
from tests.integration.test_webhooks import loopback_app
from workflow.services import webhooks
from workflow.storage.models import WebhookDeliveryRow, WebhookRow

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
CLOSED = "http://127.0.0.1:9/x"  # nothing listens: the connection is refused


@pytest.fixture
def app(settings: Settings, world: factories.World) -> Any:
    """CLOSED is on loopback, which webhooks may reach only when the settings allow it."""
    return loopback_app(settings)


def main(html: str) -> str:
    return re.split(r"<main\b[^>]*>", html, maxsplit=1)[1].split("</main>", 1)[0]


def hook_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-webhook="(\d+)"', html)]


def stored(world: factories.World) -> list[WebhookRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(WebhookRow).order_by(WebhookRow.id)))


def failed_delivery(browser: Any, world: factories.World) -> tuple[int, int]:
    """A hubei webhook to a closed port and one delivery of it that failed (the worker
    runs with the app's settings)."""
    browser.login("hubei_reviewer").post("/webhooks", data={"url": CLOSED})
    [hook] = stored(world)
    factories.submitted(world)
    webhooks.scan(world.uow())
    settings = browser.client.application.config["SETTINGS"]
    assert webhooks.deliver_due(world.uow(), settings=settings).failed == 1
    with world.uow() as u:
        [delivery] = u.session.scalars(select(WebhookDeliveryRow)).all()
        return hook.id, delivery.id


def test_a_reviewer_registers_a_webhook_and_sees_the_secret_only_once(browser, world):
    b = browser.login("hubei_reviewer")
    page = b.text("/webhooks")
    assert "管理 Webhook" in page and 'href="/webhooks"' in page  # the nav link too
    r = b.post("/webhooks", data={"url": "https://swt.hubei.example/eib/hook"})
    html = r.get_data(as_text=True)
    assert r.status_code == 201
    secret = re.search(r'data-testid="webhook-secret">([^<]+)<', html).group(1)
    assert len(secret) >= 40 and "X-EIB-Signature" in html and "离开本页后将无法再次查看" in html
    [row] = stored(world)
    assert row.url == "https://swt.hubei.example/eib/hook" and secret not in row.secret
    listing = b.text("/webhooks")
    assert "https://swt.hubei.example/eib/hook" in listing and hook_ids(listing) == [row.id]
    assert secret not in listing and 'data-testid="webhook-secret"' not in listing


def test_a_bad_url_is_named_under_the_field_with_what_was_typed_and_nothing_stored(
        browser, world):
    b = browser.login("hubei_reviewer")
    r = b.post("/webhooks", data={"url": "ftp://files.example/hook"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'data-error-for="url">URL：应为 http:// 或 https://', html)
    assert 'value="ftp://files.example/hook"' in html
    assert stored(world) == []


def test_a_province_sees_only_its_own_webhooks_and_anothers_is_not_found(browser, world):
    browser.login("hubei_reviewer").post("/webhooks", data={"url": "https://hubei.example/h"})
    [hubei] = stored(world)
    b = browser.login("hunan_reviewer")
    b.post("/webhooks", data={"url": "https://hunan.example/h"})
    listing = b.text("/webhooks")
    assert "https://hunan.example/h" in listing and "https://hubei.example/h" not in listing
    assert hubei.id not in hook_ids(listing)
    assert b.get(f"/webhooks/{hubei.id}").status_code == 404
    assert b.post(f"/webhooks/{hubei.id}/delete").status_code == 404
    assert len(stored(world)) == 2 and stored(world)[0].deleted_at is None
    ministry = browser.login("mofcom").text("/webhooks")  # the ministry sees every one
    assert "https://hubei.example/h" in ministry and "https://hunan.example/h" in ministry


def test_a_reviewer_deletes_a_webhook(browser, world):
    b = browser.login("hubei_reviewer")
    b.post("/webhooks", data={"url": "https://hubei.example/h"})
    [row] = stored(world)
    r = b.post(f"/webhooks/{row.id}/delete")
    assert r.status_code == 302 and r.headers["Location"].endswith("/webhooks")
    page = b.text("/webhooks")
    assert "Webhook 已删除" in page and "https://hubei.example/h" not in page
    assert stored(world)[0].deleted_at is not None
    assert b.get(f"/webhooks/{row.id}").status_code == 404


def test_a_failed_delivery_is_shown_with_its_error_and_a_retry_queues_it_again(browser, world):
    hook_id, delivery_id = failed_delivery(browser, world)
    b = browser.login("hubei_reviewer2")  # a colleague manages the province's webhooks too
    page = b.text(f"/webhooks/{hook_id}")
    row = re.search(rf'<tr data-delivery="{delivery_id}" data-status="failed">.*?</tr>', page,
                    flags=re.S).group(0)
    # what came back (no HTTP answer), not the socket's words: no port scanner
    assert "发送失败（将重试）" in row and "no HTTP answer" in row
    assert "refused" not in row.lower() and "errno" not in row.lower()
    assert f"/webhooks/{hook_id}/deliveries/{delivery_id}/retry" in row
    r = b.post(f"/webhooks/{hook_id}/deliveries/{delivery_id}/retry")
    assert r.status_code == 302
    page = b.text(f"/webhooks/{hook_id}")
    assert "已重新排队" in page and 'data-status="pending"' in page and "待发送" in page
    assert "/retry" not in page  # a pending delivery has no retry button
    with world.uow() as u:
        again = u.session.get(WebhookDeliveryRow, delivery_id)
        assert (again.status, again.attempts) == ("pending", 0)
    b.post(f"/webhooks/{hook_id}/deliveries/{delivery_id}/retry")  # not failed any more
    assert "只有发送失败或已放弃的投递可以重试" in b.text(f"/webhooks/{hook_id}")


def test_a_url_on_the_servers_own_network_is_refused_under_the_field(
        browser, world):
    b = browser.login("hubei_reviewer")
    r = b.post("/webhooks", data={"url": "http://169.254.169.254/latest/meta-data/"})
    assert r.status_code == 422
    assert re.search(r'data-error-for="url">URL：不得指向本机、内网或链路本地地址',
                     r.get_data(as_text=True))
    assert stored(world) == []


def test_an_applicant_gets_the_403_page_and_no_link(browser, world):
    b = browser.login("hubei_applicant")
    r = b.get("/webhooks")
    assert r.status_code == 403
    assert "只有省级和商务部审核人员可以管理 Webhook" in r.get_data(as_text=True)
    assert b.post("/webhooks", data={"url": "https://x.example/h"}).status_code == 403
    assert stored(world) == []
    assert 'href="/webhooks"' not in b.text("/tokens")


def test_the_pages_work_in_english_with_no_chinese_left(browser, world):
    hook_id, delivery_id = failed_delivery(browser, world)
    b = browser.login("hubei_reviewer", lang="en")
    listing = main(b.text("/webhooks"))
    assert "Manage webhooks" in listing and "Hubei" in listing
    assert not CJK.findall(listing), CJK.findall(listing)
    r = b.post("/webhooks", data={"url": "https://hubei.example/en"})
    created = main(r.get_data(as_text=True))
    assert "signing secret" in created and not CJK.findall(created), CJK.findall(created)
    r = b.post("/webhooks", data={"url": "nonsense"})
    bad = main(r.get_data(as_text=True))
    assert 'data-error-for="url">url: must be an absolute' in bad
    assert not CJK.findall(bad), CJK.findall(bad)
    deliveries = main(b.text(f"/webhooks/{hook_id}"))
    assert "Failed (will retry)" in deliveries and "Retry" in deliveries
    assert not CJK.findall(deliveries), CJK.findall(deliveries)
    b.post(f"/webhooks/{hook_id}/deliveries/{delivery_id}/retry")
    retried = main(b.text(f"/webhooks/{hook_id}"))
    assert "Queued again" in retried and "Pending" in retried and not CJK.findall(retried)
