"""The webhook rules that need no database: the signature, the retry schedule, the URL
check, and how far the scan's cursor may move."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config import for_tests
from workflow.errors import ValidationFailed
from workflow.services import webhooks
from workflow.storage.models import WebhookRow

T = datetime(2006, 4, 3, 2, tzinfo=UTC)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"event":"case.transitioned"}'
    expected = hmac.new(b"k3y", b"1143943200." + body, hashlib.sha256).hexdigest()
    assert webhooks.signature("k3y", 1143943200, body) == f"sha256={expected}"


def test_a_receiver_refuses_a_changed_body_a_wrong_secret_or_an_old_timestamp() -> None:
    body, ts = b'{"a":1}', 1_800_000_000
    good = webhooks.signature("s", ts, body)
    assert webhooks.verify("s", str(ts), body, good, now=ts + 10)
    assert not webhooks.verify("s", str(ts), b'{"a":2}', good, now=ts + 10)
    assert not webhooks.verify("t", str(ts), body, good, now=ts + 10)
    assert not webhooks.verify("s", str(ts), body, good, now=ts + 301)  # a replay
    assert not webhooks.verify("s", "soon", body, good, now=ts)


def test_retries_wait_1_5_30_minutes_2_and_12_hours_then_the_delivery_is_dead() -> None:
    waits = [webhooks.outcome(n, 503, "HTTP 503", T)["next_attempt_at"] - T for n in range(1, 6)]
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                     timedelta(hours=2), timedelta(hours=12)]
    last = webhooks.outcome(6, None, "ConnectionRefusedError", T)
    assert last["status"] == "dead" and "after 6 attempts" in last["last_error"]
    assert webhooks.outcome(1, 204, None, T)["status"] == "delivered"
    assert len(webhooks.outcome(1, 500, "x" * 5000, T)["last_error"]) == 500


@pytest.mark.parametrize("url, production, allowed, code", [
    ("https://swt.hubei.gov.cn/eib", True, "", None),
    ("http://127.0.0.1:8080/hook", True, "127.0.0.1", None),  # an internal receiver …
    ("http://localhost/hook", True, "localhost", None),
    ("http://[::1]/hook", True, "::1", None),
    ("http://10.20.0.7/hook", True, "10.20.0.0/16", None),
    ("http://hooks.internal/eib", True, "hooks.internal", None),  # … named: http allowed
    ("http://127.0.0.1:8080/hook", False, "", "destination_not_allowed"),
    ("http://localhost/hook", False, "", "destination_not_allowed"),
    ("http://[::1]/hook", False, "", "destination_not_allowed"),
    ("http://[::ffff:127.0.0.1]/hook", False, "", "destination_not_allowed"),
    ("http://0.0.0.0:5432/", False, "", "destination_not_allowed"),
    ("http://10.20.0.7/hook", False, "10.30.0.0/16", "destination_not_allowed"),
    ("http://192.168.1.1/admin", False, "", "destination_not_allowed"),
    ("http://172.16.0.1/", False, "", "destination_not_allowed"),
    ("http://100.64.0.1/", False, "", "destination_not_allowed"),
    ("http://169.254.169.254/latest/meta-data/", False, "", "destination_not_allowed"),
    ("http://[fe80::1]/hook", False, "", "destination_not_allowed"),
    ("http://[fd00::1]/hook", False, "", "destination_not_allowed"),
    ("http://swt.hubei.gov.cn/eib", False, "", None),
    ("http://swt.hubei.gov.cn/eib", True, "", "https_required"),
    ("ftp://swt.hubei.gov.cn/eib", False, "", "invalid_url"),
    ("https://", False, "", "invalid_url"),
    ("https://a:b@swt.hubei.gov.cn/", False, "", "credentials_in_url"),
    ("https://x.cn/" + "a" * 500, False, "", "too_long"),
    ("  ", False, "", "required"),
])
def test_webhook_urls_are_public_http_or_https_and_https_in_production(
        url: str, production: bool, allowed: str, code: str | None, tmp_path: Path) -> None:
    settings = for_tests(tmp_path, env="production" if production else "development",
                         webhook_allowed_hosts=(allowed,) if allowed else ())
    if code is None:
        assert webhooks.check_url(url, settings) == url.strip()
        return
    with pytest.raises(ValidationFailed) as refused:
        webhooks.check_url(url, settings)
    assert (refused.value.first.code, refused.value.first.field) == (code, "url")


def test_the_cursor_stays_below_transitions_that_may_still_commit_until_they_settle() -> None:
    hook = WebhookRow(last_history_id=10, mark_id=10, mark_at=T)
    webhooks._advance(hook, top=25, seen_up_to=25, now=T + timedelta(seconds=30),
                      settle=timedelta(seconds=60))
    assert (hook.last_history_id, hook.mark_id) == (10, 10)  # mark 10: nothing to move over
    webhooks._advance(hook, top=25, seen_up_to=25, now=T + timedelta(seconds=61),
                      settle=timedelta(seconds=60))
    assert (hook.last_history_id, hook.mark_id) == (10, 25)  # 11…25 may still have gaps
    webhooks._advance(hook, top=40, seen_up_to=40, now=T + timedelta(seconds=100),
                      settle=timedelta(seconds=60))
    assert hook.last_history_id == 10  # the mark is 39 s old
    webhooks._advance(hook, top=40, seen_up_to=40, now=T + timedelta(seconds=122),
                      settle=timedelta(seconds=60))
    assert (hook.last_history_id, hook.mark_id) == (25, 40)
    webhooks._advance(hook, top=90, seen_up_to=30, now=T + timedelta(seconds=300),
                      settle=timedelta(seconds=60))
    assert (hook.last_history_id, hook.mark_id) == (30, 40)  # a full batch ended at 30

