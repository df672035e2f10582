"""A call to the API with a bearer token is stateless: the browser's session cookie is
neither read nor written, and a route without a rate limit does no rate-limit work —
while the routes that have one still count, answer with the limit headers and refuse."""

from __future__ import annotations

from typing import Any

from flask import request

from tests import factories
from tests.factories import login

LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def test_a_bearer_call_ignores_the_browser_session_and_leaves_it_as_it_was(
        app: Any, client: Any, api: Any, world: factories.World) -> None:
    login(client, "hubei_reviewer")  # the same browser also holds a session cookie
    # the token is asked for first: that POST carries no token, so it is an ordinary
    # cookie request and may re-sign the (permanent, refreshed) session cookie
    applicant = api.as_("hubei_applicant")
    cookie = client.get_cookie("session")
    assert cookie is not None
    r = applicant.get("/api/v1/tokens")
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers  # nothing written back
    assert "cookie" not in r.headers.get("Vary", "").lower()
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Request-ID"]
    # the token alone says who calls: the reviewer's cookie did not make this the
    # reviewer's token list, nor does the cookie open anything for a bearer call
    assert client.get_cookie("session").value == cookie.value
    sent = {"Cookie": f"session={cookie.value}"}
    with app.test_request_context("/api/v1/tokens",
                                  headers={**sent, "Authorization": "Bearer x"}):
        assert dict(app.session_interface.open_session(app, request)) == {}
    with app.test_request_context("/api/v1/tokens", headers=sent):  # no token: as before
        assert app.session_interface.open_session(app, request)["user_id"] == world.id(
            "hubei_reviewer")
    assert client.get("/tokens").status_code == 200  # the browser is still logged in


def test_an_api_call_with_a_token_is_never_authenticated_by_the_cookie(
        client: Any, world: factories.World) -> None:
    login(client, "hubei_reviewer")
    r = client.get("/api/v1/tokens")  # cookie, no token
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    r = client.get("/api/v1/tokens", headers={"Authorization": "Bearer eib_not-a-token"})
    assert r.status_code == 401 and "Set-Cookie" not in r.headers


def test_only_limited_routes_carry_rate_limit_headers_and_their_budget_still_counts(
        api: Any, world: factories.World) -> None:
    reviewer = api.as_("hubei_reviewer")
    r = reviewer.get("/api/v1/tokens")
    assert r.status_code == 200 and not any(h in r.headers for h in LIMIT_HEADERS)
    remaining = []
    for _ in range(3):  # the login route keeps its limits (10 a minute per user name)
        r = api.client.post("/api/v1/auth/token",
                            json={"username": "hunan_reviewer", "password": "wrong"})
        assert r.status_code == 401
        assert r.headers["X-RateLimit-Limit"] in ("10", "60")
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
    assert remaining == sorted(remaining, reverse=True) and remaining[0] > remaining[-1]
