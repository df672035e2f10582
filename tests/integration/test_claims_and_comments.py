"""Claim / assign / release a case and comment on it with @-mentions (issue 17, item 3),
through the case page, the inbox and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from tests import factories
from workflow.services import cases, comments
from workflow.storage.models import NotificationRow, OutboxRow


def page(client: Any, url: str) -> str:
    return client.get(url).get_data(as_text=True)  # type: ignore[no-any-return]


def notes_of(world: factories.World, username: str) -> list[NotificationRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(NotificationRow).where(
            NotificationRow.user_id == world.id(username)).order_by(NotificationRow.id)))


def test_a_reviewer_claims_a_case_and_the_inbox_shows_who_has_it(
        world: factories.World, client: Any) -> None:
    app_id = factories.submitted(world)
    factories.login(client, "hubei_reviewer")
    r = client.post(f"/cases/{app_id}/claim")
    assert r.status_code == 302
    case = page(client, f"/cases/{app_id}")
    assert "您已认领此申报：hubei_reviewer 办理中" in case
    assert 'data-testid="holder"' in case and "<strong>hubei_reviewer</strong>" in case
    assert "hubei_reviewer 认领" in case  # in the case's claim history
    inbox = page(client, "/inbox?mine=1")
    assert "武汉光谷光电子信息产业集群" in inbox and '<td data-testid="assignee">hubei_reviewer' in inbox
    client.post("/logout")
    factories.login(client, "hubei_reviewer2")
    assert "武汉光谷光电子信息产业集群" not in page(client, "/inbox?mine=1")
    other = page(client, f"/cases/{app_id}")
    assert "此申报由 hubei_reviewer 认领办理中" in other  # the warning; actions stay
    assert 'data-trigger="return_for_revision"' in other


def test_claiming_a_held_case_needs_an_explicit_take_over(world: factories.World,
                                                          api: Any) -> None:
    app_id = factories.submitted(world)
    first = api.as_("hubei_reviewer").post(f"/api/v1/applications/{app_id}/claim", json={})
    assert first.status_code == 200 and first.get_json()["assignee_name"] == "hubei_reviewer"
    second = api.as_("hubei_reviewer2")
    refused = second.post(f"/api/v1/applications/{app_id}/claim", json={})
    assert refused.status_code == 422
    assert "hubei_reviewer" in refused.get_data(as_text=True)
    assert "claimed_by_other" in refused.get_data(as_text=True)
    took = second.post(f"/api/v1/applications/{app_id}/claim", json={"take_over": True})
    assert took.get_json()["assignee_name"] == "hubei_reviewer2"
    got = second.get(f"/api/v1/applications/{app_id}/assignment").get_json()
    assert got["assignee_name"] == "hubei_reviewer2"


def test_assign_only_to_a_colleague_and_release(world: factories.World, api: Any) -> None:
    app_id = factories.submitted(world)
    lead = api.as_("hubei_reviewer")
    bad = lead.post(f"/api/v1/applications/{app_id}/assign",
                    json={"assignee_id": world.id("guangdong_reviewer")})
    assert bad.status_code == 422 and "assignee" in bad.get_data(as_text=True)
    ok = lead.post(f"/api/v1/applications/{app_id}/assign",
                   json={"assignee_id": world.id("hubei_reviewer2")})
    assert ok.get_json()["assignee_name"] == "hubei_reviewer2"
    lead.post(f"/api/v1/applications/{app_id}/unassign")
    assert lead.get(f"/api/v1/applications/{app_id}/assignment").get_json()[
        "assignee_id"] is None


def test_an_assignment_ends_when_the_case_moves_on_to_another_role(
        world: factories.World, api: Any) -> None:
    app_id = factories.submitted(world)
    api.as_("hubei_reviewer").post(f"/api/v1/applications/{app_id}/claim", json={})
    factories.files.attach(world.uow(), world.id("hubei_reviewer"), app_id,
                           "recommendation_letter", "letter.pdf", factories.PDF,
                           world.upload_dir, 10 * 1024 * 1024)
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "recommend", None,
               now=datetime(2006, 4, 20, 2, tzinfo=UTC))  # within the round (not late)
    got = api.as_("mofcom").get(f"/api/v1/applications/{app_id}/assignment").get_json()
    assert got["assignee_id"] is None
    # and an applicant cannot claim
    denied = api.as_("hubei_applicant").post(f"/api/v1/applications/{app_id}/claim", json={})
    assert denied.status_code == 403


def test_a_mention_notifies_the_colleague_and_internal_notes_stay_internal(
        world: factories.World, api: Any) -> None:
    app_id = factories.submitted(world)
    r = api.as_("hubei_reviewer").post(f"/api/v1/applications/{app_id}/comments", json={
        "body": "@hubei_reviewer2 请复核出口增速口径", "visibility": "internal"})
    assert r.status_code == 201, r.get_data(as_text=True)
    (note,) = notes_of(world, "hubei_reviewer2")
    assert note.title == "【提及】hubei_reviewer 在“武汉光谷光电子信息产业集群”的评论中提到了您"
    assert "请复核出口增速口径" in note.body and note.link.endswith(f"/cases/{app_id}#comments")
    with world.uow() as u:
        (mail,) = u.session.scalars(select(OutboxRow).where(OutboxRow.kind == "mention"))
    assert mail.recipient_email == "hubei_reviewer2@example.gov.cn"
    # the applicant sees only remarks addressed to them
    api.as_("hubei_reviewer").post(f"/api/v1/applications/{app_id}/comments", json={
        "body": "请补充产业集群龙头企业名单", "visibility": "applicant",
        "field": "characteristic_industry"})
    seen = api.as_("hubei_applicant").get(f"/api/v1/applications/{app_id}/comments").get_json()
    assert [c["body"] for c in seen] == ["请补充产业集群龙头企业名单"]
    assert any("给您留了意见" in n.title for n in notes_of(world, "hubei_applicant"))
    # an applicant cannot be mentioned in an internal note they could not read
    hidden = api.as_("hubei_reviewer").post(f"/api/v1/applications/{app_id}/comments", json={
        "body": "@hubei_applicant 看一下", "visibility": "internal"})
    assert hidden.status_code == 422 and "mention_cannot_see" in hidden.get_data(as_text=True)


def test_bad_comments_are_refused_naming_the_field_and_keep_the_typed_text(
        world: factories.World, client: Any) -> None:
    app_id = factories.submitted(world)
    factories.login(client, "hubei_reviewer")
    r = client.post(f"/cases/{app_id}/comments",
                    data={"body": "@nobody_here 请看第三项", "visibility": "internal"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/cases/{app_id}")
    html = page(client, r.headers["Location"])
    assert 'data-error-for="body"' in html and "没有用户名为 @nobody_here 的用户" in html
    assert "@nobody_here 请看第三项</textarea>" in html
    r = client.post(f"/cases/{app_id}/comments", data={"body": "   ", "visibility": "internal"})
    assert r.status_code == 303 and "评论内容不能为空" in page(client, r.headers["Location"])
    long = "长" * (comments.MAX_CHARS + 1)
    r = client.post(f"/cases/{app_id}/comments", data={"body": long, "visibility": "internal"})
    assert r.status_code == 303 and "评论不得超过 2000 字" in page(client, r.headers["Location"])
    assert long not in page(client, f"/cases/{app_id}")  # shown once

    assert "暂无评论" in page(client, f"/cases/{app_id}")  # nothing was written


def test_a_case_not_waiting_on_the_reviewer_offers_no_claim(world: factories.World,
                                                            client: Any) -> None:
    app_id = factories.recommended(world)
    factories.login(client, "hubei_reviewer")
    assert 'data-testid="assignment"' not in page(client, f"/cases/{app_id}")
    client.post("/logout")
    factories.login(client, "mofcom")
    assert 'data-testid="claim"' in page(client, f"/cases/{app_id}")


def test_another_province_cannot_see_or_claim_the_case(world: factories.World,
                                                       api: Any) -> None:
    app_id = factories.submitted(world)
    other = api.as_("guangdong_reviewer")
    assert other.get(f"/api/v1/applications/{app_id}/assignment").status_code == 404
    assert other.post(f"/api/v1/applications/{app_id}/claim", json={}).status_code == 404
    assert other.get(f"/api/v1/applications/{app_id}/comments").status_code == 404
