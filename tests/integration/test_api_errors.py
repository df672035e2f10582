"""Every error under /api is RFC 9457 problem+json with a stable code — never HTML."""

from __future__ import annotations

from typing import Any

from tests import factories
from workflow.services import tokens

PROBLEM = "application/problem+json"


def bearer(world: factories.World, username: str, scope: str = "read_write") -> dict[str, str]:
    """A personal API token for any user (admins log in with TOTP, so not via the API)."""
    made = tokens.create(world.uow(), world.id(username), f"test {username}", scope)
    return {"Authorization": f"Bearer {made.token}"}


def problem_of(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == PROBLEM
    body = r.get_json(force=True)
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"/api/v1/problems/{code}" and body["title"]
    assert "<html" not in r.get_data(as_text=True).lower()
    assert "Traceback" not in r.get_data(as_text=True)
    return body


def test_unknown_routes_methods_and_media_types_answer_problem_json(api: Any) -> None:
    problem_of(api.get("/api/v1/no-such-thing"), 404, "not_found")
    r = api.client.delete("/api/v1/auth/token")
    problem_of(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]
    r = api.client.post("/api/v1/auth/token", data="username=x", content_type="text/plain")
    problem_of(r, 415, "unsupported_media_type")
    r = api.client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    problem_of(r, 400, "invalid_json")


def test_a_body_over_the_upload_limit_is_413(api: Any) -> None:
    big = b"x" * (api.client.application.config["MAX_CONTENT_LENGTH"] + 10)
    r = api.client.post("/api/v1/auth/token", data=big, content_type="application/json")
    problem_of(r, 413, "payload_too_large")


def test_missing_or_wrong_token_is_401_with_a_bearer_challenge(api: Any) -> None:
    r = api.client.get("/api/v1/applications")
    problem_of(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = api.client.get("/api/v1/applications", headers={"Authorization": "Bearer eib_nope"})
    problem_of(r, 401, "unauthorized")


def test_request_validation_names_each_field_with_its_own_code(api: Any) -> None:
    r = api.client.post("/api/v1/auth/token", json={"username": 7})
    body = problem_of(r, 422, "validation_error")
    by_field = {e["field"]: e for e in body["errors"]}
    assert by_field["username"]["code"] == "not_text"
    assert by_field["password"]["code"] == "required"
    assert by_field["password"]["message_zh"].endswith("必填")


def test_domain_validation_is_422_with_the_forms_field_codes_and_saves_nothing(
        api: Any, world: factories.World) -> None:
    me = api.as_("hubei_applicant")
    r = me.post("/api/v1/applications",
                json=factories.form_data(contact_email="not-an-email", employees=-3))
    body = problem_of(r, 422, "validation_error")
    codes = {e["field"]: e["code"] for e in body["errors"]}
    assert codes == {"contact_email": "invalid_email", "employees": "negative"}
    assert me.get("/api/v1/applications").get_json()["total"] == 0


def test_nul_characters_are_refused_before_they_reach_the_database(api: Any) -> None:
    me = api.as_("hubei_applicant")
    r = me.get("/api/v1/applications?q=a%00b")
    body = problem_of(r, 400, "invalid_characters")
    assert body["errors"][0] == {**body["errors"][0], "code": "invalid_characters", "field": "q"}
    r = me.post("/api/v1/applications", json=factories.form_data(address="武汉\u0000"))
    assert problem_of(r, 400, "invalid_characters")["errors"][0]["field"] == "address"


def test_guard_invalid_trigger_conflict_and_forbidden_have_their_codes(
        api: Any, world: factories.World) -> None:
    app_id = factories.draft(world)
    me = api.as_("hubei_applicant")
    url = f"/api/v1/applications/{app_id}"
    body = problem_of(me.post(f"{url}/transitions", json={"trigger": "submit", "version": 1}),
                      422, "guard_failed")
    assert {e["code"] for e in body["errors"]} >= {"missing_attachment"} or body["errors"]
    problem_of(api.as_("mofcom").post(f"{url}/transitions",
                                      json={"trigger": "approve", "version": 1}),
               422, "invalid_trigger")
    ok = me.patch(url, json={"contact_person": "李四", "version": 1})
    assert ok.status_code == 200 and ok.get_json()["version"] == 2
    stale = me.patch(url, json={"contact_person": "王五", "version": 1})
    body = problem_of(stale, 409, "version_conflict")
    assert body["errors"][0]["details"] == {"expected": 1, "current": 2}
    problem_of(api.client.get(url, headers=bearer(world, "sysadmin")), 403, "forbidden")


def test_an_unexpected_crash_is_a_500_problem_without_a_traceback(api: Any) -> None:
    app = api.client.application

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/_boom", "boom", boom)
    r = api.client.get("/api/v1/_boom")
    body = problem_of(r, 500, "internal_error")
    assert "secret internals" not in r.get_data(as_text=True)
    assert body["detail"] == "服务器内部错误，已记录"


def test_a_count_too_large_for_the_database_is_422_not_a_crash(api: Any) -> None:
    me = api.as_("hubei_applicant")
    r = me.post("/api/v1/applications", json=factories.form_data(enterprise_count=99999999999))
    body = problem_of(r, 422, "validation_error")
    assert body["errors"][0] == {**body["errors"][0], "field": "enterprise_count",
                                 "code": "too_large"}
