"""A refused form kept for the page its browser is sent back to (post/redirect/get): read
once, only by the session that posted it, forgotten unseen after a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests import factories
from workflow.services import clock, form_returns
from workflow.storage.models import FormReturnRow

TYPED = {"values": {"address": "武汉市东湖新技术开发区", "products": [
    {"name": f"产品{i}", "exports_10k_usd": str(i)} for i in range(100)]},
    "errors": {"contact_email": ["电子信箱：电子信箱格式不正确"]}}


def test_what_was_kept_is_read_once_by_the_session_that_posted_it(
        world: factories.World) -> None:
    me = world.id("hubei_applicant")
    form_returns.keep(world.uow(), me, "sid-a", "application:new", TYPED)
    # another of my sessions, another user, another form: nothing
    assert form_returns.take(world.uow(), me, "sid-b", "application:new") is None
    assert form_returns.take(world.uow(), world.id("wuhan_applicant"), "sid-a",
                             "application:new") is None
    assert form_returns.take(world.uow(), me, "sid-a", "application:7") is None
    assert form_returns.take(world.uow(), me, "sid-a", "application:new") == TYPED
    assert form_returns.take(world.uow(), me, "sid-a", "application:new") is None


def test_a_second_refusal_replaces_the_first(world: factories.World) -> None:
    me = world.id("hubei_applicant")
    form_returns.keep(world.uow(), me, "sid-a", "deputies", {"values": {"ends_on": "1"}})
    form_returns.keep(world.uow(), me, "sid-a", "deputies", {"values": {"ends_on": "2"}})
    assert form_returns.take(world.uow(), me, "sid-a", "deputies") == {"values": {"ends_on": "2"}}


def test_an_unseen_refusal_is_forgotten_after_two_hours(world: factories.World) -> None:
    me = world.id("hubei_applicant")
    start = datetime(2026, 5, 1, 9, tzinfo=UTC)
    try:
        clock.freeze(start)
        form_returns.keep(world.uow(), me, "sid-a", "application:new", TYPED)
        form_returns.keep(world.uow(), me, "sid-a", "deputies", {"values": {}})
        clock.freeze(start + form_returns.KEPT_FOR + timedelta(minutes=1))
        assert form_returns.take(world.uow(), me, "sid-a", "application:new") is None
        # a later refusal by anyone clears the expired rows too
        form_returns.keep(world.uow(), world.id("hunan_applicant"), "sid-c", "deputies", {})
        with world.uow() as u:
            left = [(r.user_id, r.form) for r in u.session.scalars(select(FormReturnRow))]
        assert left == [(world.id("hunan_applicant"), "deputies")]
    finally:
        clock.freeze(None)
