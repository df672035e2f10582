"""Token creation is rate-limited: 20 an hour per user, on the /tokens page and over
/api/v1/tokens alike (one budget); the 21st gets a 429 — problem+json over the API, the
page with what was typed over the web — and no token is made (ASVS 5.0 V2.4, V6.3)."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.factories import login


def token_names(api: Any, username: str) -> list[str]:
    return [t["name"] for t in api.as_(username).get("/api/v1/tokens").get_json()]


def test_the_twenty_first_token_request_in_an_hour_gets_429_problem_json(
        api: Any, world: factories.World) -> None:
    hubei = api.as_("hubei_reviewer")
    for _ in range(20):  # refused input still spends the budget
        assert hubei.post("/api/v1/tokens", json={"name": ""}).status_code == 422
    r = hubei.post("/api/v1/tokens", json={"name": "省平台对接"})
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["code"] == "rate_limited" and body["detail"] == "请求过于频繁，请稍后再试"
    assert int(r.headers["Retry-After"]) > 0
    assert "省平台对接" not in token_names(api, "hubei_reviewer")
    assert hubei.get("/api/v1/tokens").status_code == 200  # reading is not limited
    other = api.as_("hubei_reviewer2")  # a colleague at the same address has their own budget
    assert other.post("/api/v1/tokens", json={"name": "省平台对接"}).status_code == 201


def test_the_page_and_the_api_share_one_budget_and_the_page_answers_429_keeping_the_input(
        client: Any, api: Any, world: factories.World) -> None:
    login(client, "hubei_applicant")
    for _ in range(10):
        assert client.post("/tokens", data={"name": "x", "expires_on": "明天"}
                           ).status_code == 422
    for _ in range(10):
        assert api.as_("hubei_applicant").post("/api/v1/tokens", json={"name": ""}
                                               ).status_code == 422
    r = client.post("/tokens", data={"name": "我的对接", "scope": "read"})
    html = r.get_data(as_text=True)
    assert r.status_code == 429 and r.mimetype == "text/html"
    assert "创建令牌过于频繁" in html and 'value="我的对接"' in html
    assert 'data-testid="token-value"' not in html
    assert "我的对接" not in token_names(api, "hubei_applicant")
    assert client.get("/tokens").status_code == 200


def test_the_429_page_speaks_english_to_an_english_user(client: Any,
                                                         world: factories.World) -> None:
    login(client, "hunan_reviewer")
    client.post("/lang/en")
    for _ in range(20):
        client.post("/tokens", data={"name": ""})
    r = client.post("/tokens", data={"name": "feed"})
    assert r.status_code == 429
    assert "Too many tokens created" in r.get_data(as_text=True)
