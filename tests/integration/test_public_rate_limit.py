"""The objection form is rate-limited per IP (Flask-Limiter): the N+1st POST within the
window gets a 429 page in the visitor's language, and nothing more is stored."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from config import Settings
from tests import factories
from workflow.services import clock
from workflow.storage.models import ObjectionRow


@pytest.fixture
def under_notice(world: factories.World) -> Any:
    app_id = factories.published(world)
    clock.freeze(datetime(2006, 5, 8, 2, tzinfo=UTC))
    yield app_id
    clock.freeze(None)


def objection(n: int) -> dict[str, str]:
    return {"name": f"公众{n}", "contact": "13800138000", "text": "对该基地的数据有疑问"}


def stored(world: factories.World) -> int:
    with world.uow() as u:
        return int(u.session.scalar(select(func.count()).select_from(ObjectionRow)) or 0)


def test_the_fourth_objection_from_one_ip_within_the_hour_is_refused_with_429(
        app: Any, world: factories.World, under_notice: int) -> None:
    app.config["OBJECTION_RATE_LIMIT"] = "3 per hour"
    client = app.test_client()
    for n in range(3):
        assert client.post(f"/notice/{under_notice}", data=objection(n)).status_code == 302
    r = client.post(f"/notice/{under_notice}", data=objection(4))
    assert r.status_code == 429
    assert "提交过于频繁" in r.get_data(as_text=True)
    assert stored(world) == 3
    # reading the notice is never limited, and another address may still object
    assert client.get(f"/notice/{under_notice}").status_code == 200
    other = client.post(f"/notice/{under_notice}", data=objection(5),
                        environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 302 and stored(world) == 4


def test_the_429_page_is_in_english_for_an_english_visitor(
        app: Any, world: factories.World, under_notice: int) -> None:
    app.config["OBJECTION_RATE_LIMIT"] = "1 per hour"
    client = app.test_client()
    client.post("/lang/en")
    client.post(f"/notice/{under_notice}", data=objection(1))
    r = client.post(f"/notice/{under_notice}", data=objection(2))
    assert r.status_code == 429
    assert "Too many submissions" in r.get_data(as_text=True)


def test_the_default_limit_is_five_per_hour(app: Any, world: factories.World,
                                            under_notice: int) -> None:
    client = app.test_client()
    codes = [client.post(f"/notice/{under_notice}", data={}).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]  # bad input counts too: it still costs a request


def test_an_earlier_app_with_limits_switched_off_does_not_switch_them_off_for_the_next(
        settings: Settings, world: factories.World, under_notice: int) -> None:
    from web import create_app

    create_app({"TESTING": True, "RATELIMIT_ENABLED": False},  # e.g. the API fuzzing server
               settings=settings)
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                         "OBJECTION_RATE_LIMIT": "1 per hour"}, settings=settings).test_client()
    client.post(f"/notice/{under_notice}", data=objection(1))
    assert client.post(f"/notice/{under_notice}", data=objection(2)).status_code == 429


def test_limits_are_kept_in_redis_when_configured(
        settings: Settings, world: factories.World, redis_url: str, under_notice: int) -> None:
    import redis

    from web import create_app

    settings = replace(settings, ratelimit_storage_uri=redis_url)
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    first = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                        "OBJECTION_RATE_LIMIT": "2 per hour"}, settings=settings).test_client()
    for n in range(2):
        first.post(f"/notice/{under_notice}", data=objection(n), environ_base={"REMOTE_ADDR": ip})
    # a second worker process (a new app on the same Redis) sees the same count
    second = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                         "OBJECTION_RATE_LIMIT": "2 per hour"}, settings=settings).test_client()
    r = second.post(f"/notice/{under_notice}", data=objection(3), environ_base={"REMOTE_ADDR": ip})
    assert r.status_code == 429
    keys = redis.Redis.from_url(redis_url).keys(f"*{ip}*")
    assert keys
    redis.Redis.from_url(redis_url).delete(*keys)
