"""Every error a person can meet is a page of the system in their language — never
Werkzeug's bare English page — and an expired form says what happened and how to go on."""

from __future__ import annotations

from typing import Any

import pytest

from config import Settings
from tests import factories


@pytest.fixture
def csrf_client(settings: Settings, world: factories.World) -> Any:
    from web import create_app

    # CSRF on, as in production
    return create_app({"TESTING": True}, settings=settings).test_client()


def test_a_missing_page_is_the_systems_404_in_chinese_and_in_english(client: Any) -> None:
    r = client.get("/no-such-page")
    page = r.get_data(as_text=True)
    assert r.status_code == 404 and 'data-status="404"' in page and "未找到" in page
    assert "Not Found" not in page and "科技兴贸出口创新基地" in page  # in the layout
    assert "请求编号" in page  # for the administrator, if they call
    client.post("/lang/en")
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "This page does not exist" in page and "该页面不存在" not in page


def test_a_method_the_page_does_not_take_is_explained(client: Any) -> None:
    r = client.put("/notice")
    assert r.status_code == 405 and "不支持该操作" in r.get_data(as_text=True)
    assert "Method Not Allowed" not in r.get_data(as_text=True)


def test_an_expired_form_says_so_in_chinese_and_saves_nothing(csrf_client: Any,
                                                               world: factories.World) -> None:
    r = csrf_client.post("/login", data={"username": "hubei_applicant",
                                         "password": factories.PASSWORD})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "页面已过期" in page and "恢复未保存的内容" in page
    assert "CSRF" not in page and "Bad Request" not in page
    assert "重新登录并回到原来的页面" in page and "/login?next=" in page


def test_a_form_posted_after_the_session_ended_brings_the_user_back_to_its_page(
        csrf_client: Any, world: factories.World) -> None:
    r = csrf_client.post("/cases/1/fire", data={"trigger": "recommend"},
                         headers={"Referer": "http://localhost/cases/1?tab=x"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "/login?next=/cases/1?tab%3Dx" in page.replace("&amp;", "&")


def test_the_api_still_answers_problems_not_pages(client: Any) -> None:
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert r.get_json()["code"] == "not_found"
