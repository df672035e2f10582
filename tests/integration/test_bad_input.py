"""Bad input gets a clean 400 naming the field, never a 500 (Hardening 5): NUL in a query
string, a form field or a JSON string (PostgreSQL refuses NUL in a bound string), JSON
nested 100,000 deep (Python's parser gives up with a RecursionError); and a password may not
hold NUL or other control characters."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.factories import PASSWORD, login
from workflow.services import passwords

PROBLEM = "application/problem+json"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def page_refuses(r: Any, words: str) -> None:
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "text/html"
    assert words in r.get_data(as_text=True)


def problem(r: Any, code: str, field: str, location: str) -> dict[str, Any]:
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == PROBLEM
    body = r.get_json(force=True)
    assert body["status"] == 400 and body["code"] == code
    first = body["errors"][0]
    assert (first["code"], first["field"], first["location"]) == (code, field, location)
    assert first["message_zh"].startswith(f"{field}：") and first["message_en"]
    return body


def test_a_nul_in_the_inbox_search_is_a_400_naming_the_field(
        client: Any, world: factories.World) -> None:
    factories.submitted(world)
    login(client, "hubei_reviewer")
    page_refuses(client.get("/inbox?q=%00"), "q：含有不允许的字符（如 NUL）")
    page_refuses(client.get("/exports/applications.xlsx?q=a%00b"), "q：含有不允许的字符")
    client.post("/lang/en")
    page_refuses(client.get("/inbox?state=draft&q%00=x"),
                 "contains characters that are not allowed (e.g. NUL)")
    assert client.get("/inbox?q=光谷").status_code == 200  # the search itself still works


def test_a_nul_in_a_form_field_is_a_400_naming_it_and_nothing_is_saved(
        client: Any, world: factories.World) -> None:
    app_id = factories.draft(world)
    login(client, "hubei_applicant")
    r = client.post(f"/applications/{app_id}/edit",
                    data={**factories.form_data(address="武汉\x00东湖"), "version": "1"})
    page_refuses(r, "address：含有不允许的字符")
    assert "武汉市东湖新技术开发区" in client.get(f"/applications/{app_id}/edit").get_data(
        as_text=True)
    page_refuses(client.post("/login", data={"username": "hubei\x00", "password": "x"}),
                 "username：含有不允许的字符")


def test_a_nul_anywhere_in_an_api_call_is_a_400_problem_naming_the_field(
        api: Any, world: factories.World) -> None:
    me = api.as_("hubei_applicant")
    problem(me.get("/api/v1/applications?q=a%00b"), "invalid_characters", "q", "query")
    problem(me.post("/api/v1/applications", json=factories.form_data(address="武汉\u0000")),
            "invalid_characters", "address", "json")
    problem(me.post("/api/v1/applications", json=factories.form_data(
        products=[{"name": "光通信\x00设备", "exports_10k_usd": "1"}])),
        "invalid_characters", "products[0].name", "json")
    assert me.get("/api/v1/applications").get_json()["total"] == 0


@pytest.mark.parametrize("levels", [100_000, 500])
def test_json_nested_deeper_than_any_body_is_a_400_problem(api: Any, world: factories.World,
                                                           levels: int) -> None:
    body = deep(levels)
    r = api.client.post("/api/v1/auth/token", data=body, content_type="application/json")
    problem(r, "json_too_deep", "_body", "json")
    me = api.as_("hubei_applicant")
    r = me.post("/api/v1/applications", data='{"address": ' + body + "}",
                content_type="application/json")
    body_problem = problem(r, "json_too_deep", "_body" if levels > 900 else "address", "json")
    assert me.get("/api/v1/applications").get_json()["total"] == 0
    assert "嵌套" in body_problem["errors"][0]["message_zh"]


def test_deep_json_to_a_page_is_a_400_page(client: Any, world: factories.World) -> None:
    r = client.post("/login", data=deep(100_000), content_type="application/json")
    page_refuses(r, "请求体嵌套过深")


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\t", "\n", "\x7f"])
def test_a_password_with_a_control_character_is_refused(bad: str) -> None:
    problems = passwords.password_problems(f"Mine-own{bad}2006", "hubei_reviewer")
    assert [p.code for p in problems] == ["password_control_characters"]
    assert "控制字符" in problems[0].zh and "control characters" in problems[0].en


def test_the_password_page_refuses_a_control_character_and_nul(
        client: Any, world: factories.World) -> None:
    login(client, "hubei_reviewer")
    r = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Mine-own\x072006",
        "confirm": "Mine-own\x072006"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-code="password_control_characters"' in html
    assert "密码不能包含控制字符" in html
    page_refuses(client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Mine-own\x002006",
        "confirm": "Mine-own\x002006"}), "new_password：含有不允许的字符")
    client.post("/logout")
    r = client.post("/login", data={"username": "hubei_reviewer", "password": PASSWORD})
    assert r.status_code == 302  # the old password still works
