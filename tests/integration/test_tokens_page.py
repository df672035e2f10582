"""The /tokens page: a user creates a token (shown once), sees it listed, revokes it."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import login


def test_a_reviewer_creates_uses_and_revokes_a_token_on_the_page(client: Any) -> None:
    login(client, "hubei_reviewer")
    page = client.get("/tokens")
    assert page.status_code == 200 and "个人访问令牌" in page.get_data(as_text=True)
    r = client.post("/tokens", data={"name": "省平台对接", "scope": "read"})
    assert r.status_code == 201
    html = r.get_data(as_text=True)
    token = re.search(r'data-testid="token-value">(eib_[^<]+)<', html).group(1)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["role"] == "provincial_reviewer" and me["token_scope"] == "read"
    listing = client.get("/tokens").get_data(as_text=True)
    assert "省平台对接" in listing and token not in listing  # shown once only
    token_id = re.search(r'data-token="(\d+)"', listing).group(1)
    client.post(f"/tokens/{token_id}/revoke")
    assert "已吊销" in client.get("/tokens").get_data(as_text=True)
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_a_bad_expiry_is_named_and_what_was_typed_is_kept(client: Any) -> None:
    login(client, "hubei_applicant")
    r = client.post("/tokens", data={"name": "我的对接", "expires_on": "2001-01-01"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'data-error-for="expires_on"' in html and 'value="我的对接"' in html
