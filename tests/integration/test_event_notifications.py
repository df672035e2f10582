"""Event notifications (issue 17, item 2): after a transition the applicant and the people
whose turn it is are told — in the app, and by mail through the real SMTP server — in
their language, once, as they chose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from tests import factories
from tests.smtp_sink import SmtpServer
from workflow.services import cases, events, mail
from workflow.storage.models import NotificationRow, OutboxRow, UserRow

BASE = "http://eib.test"
RETURNED_AT = datetime(2006, 4, 10, 2, tzinfo=UTC)
LATER = RETURNED_AT + timedelta(minutes=1)


def deliver(world: factories.World, at: datetime, smtp: SmtpServer) -> None:
    """What the worker does: tell the people of new transitions, then send the mail."""
    events.sweep(world.uow(), now=at, base_url=BASE)
    mail.send_due(world.uow(), settings=smtp.settings(world.upload_dir))


def mails_to(smtp: SmtpServer, username: str) -> list[object]:
    return [m for m in smtp.sink.messages if m["To"] == f"{username}@example.gov.cn"]


def notifications_of(world: factories.World, username: str) -> list[NotificationRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(NotificationRow).where(
            NotificationRow.user_id == world.id(username)).order_by(NotificationRow.id)))


def test_a_returned_applicant_gets_a_chinese_mail_with_the_reason_and_a_working_link(
        world: factories.World, smtp: SmtpServer, client: object) -> None:
    app_id = factories.submitted(world)
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None,
               reason="请补充近三年出口增速的统计口径说明", now=RETURNED_AT)
    deliver(world, LATER, smtp)

    returned = [m for m in mails_to(smtp, "hubei_applicant") if "退回修改" in m["Subject"]]
    assert len(returned) == 1
    msg = returned[0]
    assert msg["Subject"] == "【申报进展】武汉光谷光电子信息产业集群：退回修改，当前状态为“草稿”"
    body = msg.get_content()
    assert "理由：请补充近三年出口增速的统计口径说明" in body
    assert "当前状态：草稿" in body and "办理人：hubei_reviewer" in body
    link = f"{BASE}/cases/{app_id}"
    assert f"办理链接：{link}" in body
    factories.login(client, "hubei_applicant")  # the link opens the case for the applicant
    page = client.get(link.removeprefix(BASE))  # type: ignore[attr-defined]
    assert page.status_code == 200 and "武汉光谷光电子信息产业集群" in page.get_data(as_text=True)
    # and the same notice is in the app
    (note,) = [n for n in notifications_of(world, "hubei_applicant") if "退回修改" in n.title]
    assert note.link == link and "请补充近三年出口增速" in note.body
    # the reviewer who returned it is not told of their own action
    assert not [m for m in mails_to(smtp, "hubei_reviewer") if "退回修改" in m["Subject"]]


def test_the_ministry_reviewers_and_the_applicant_are_told_of_a_recommendation(
        world: factories.World, smtp: SmtpServer) -> None:
    factories.recommended(world)
    deliver(world, datetime(2006, 4, 20, 2, 1, tzinfo=UTC), smtp)
    for who in ("mofcom", "mofcom2", "hubei_applicant"):
        subjects = [m["Subject"] for m in mails_to(smtp, who)]
        assert any("已推荐" in s and "推荐" in s for s in subjects), (who, subjects)
    # other provinces' reviewers are not concerned
    assert not mails_to(smtp, "guangdong_reviewer")


def test_someone_who_chose_in_app_only_gets_no_mail_but_the_notice(
        world: factories.World, smtp: SmtpServer) -> None:
    events.set_notify_by_mail(world.uow(), world.id("hubei_applicant"), False)
    app_id = factories.submitted(world)
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None,
               reason="材料不全", now=RETURNED_AT)
    deliver(world, LATER, smtp)
    assert not mails_to(smtp, "hubei_applicant")
    assert [n for n in notifications_of(world, "hubei_applicant") if "退回修改" in n.title]


def test_an_english_speaker_is_told_in_english(world: factories.World,
                                               smtp: SmtpServer) -> None:
    with world.uow() as u:
        u.session.execute(update(UserRow).where(UserRow.username == "hubei_applicant")
                          .values(locale="en"))
        u.commit()
    app_id = factories.submitted(world)
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None,
               reason="材料不全", now=RETURNED_AT)
    deliver(world, LATER, smtp)
    (msg,) = [m for m in mails_to(smtp, "hubei_applicant") if "Return" in m["Subject"]]
    assert "now “Draft”" in msg["Subject"]


def test_each_transition_is_told_once_however_often_the_sweep_runs(
        world: factories.World, smtp: SmtpServer) -> None:
    factories.submitted(world)
    at = datetime(2006, 4, 3, 2, 1, tzinfo=UTC)
    first = events.sweep(world.uow(), now=at, base_url=BASE)
    again = events.sweep(world.uow(), now=at, base_url=BASE)
    assert first >= 1 and again == 0
    with world.uow() as u:
        n = u.session.scalar(select(func.count()).select_from(OutboxRow)
                             .where(OutboxRow.kind == events.KIND_TRANSITION))
    assert n == first


def test_the_applicant_sees_the_return_reason_on_the_edit_page(
        world: factories.World, client: object) -> None:
    app_id = factories.submitted(world)
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None,
               reason="请补充发展方案中的出口目标")
    factories.login(client, "hubei_applicant")
    page = client.get(f"/applications/{app_id}/edit").get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'data-testid="returned-reason"' in page
    assert "hubei_reviewer 于" in page and "请补充发展方案中的出口目标" in page


def test_a_user_chooses_in_app_only_on_their_notifications_page(
        world: factories.World, client: object) -> None:
    factories.login(client, "hubei_applicant")
    page = client.get("/notifications").get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'name="notify_by_mail" value="1" checked' in page  # mail by default
    r = client.post("/notifications/channel", data={"notify_by_mail": "0"})  # type: ignore[attr-defined]
    assert r.status_code == 302
    page = client.get("/notifications").get_data(as_text=True)  # type: ignore[attr-defined]
    assert "通知方式已保存" in page and 'name="notify_by_mail" value="0" checked' in page
    assert not events.notify_by_mail(world.uow(), world.id("hubei_applicant"))
    r = client.post("/notifications/channel", data={"notify_by_mail": "maybe"})  # type: ignore[attr-defined]
    assert "请选择通知方式" in client.get("/notifications").get_data(as_text=True)  # type: ignore[attr-defined]
    assert not events.notify_by_mail(world.uow(), world.id("hubei_applicant"))


def test_the_preference_is_also_set_through_the_api(world: factories.World,
                                                    api: object) -> None:
    me = api.as_("hubei_applicant")  # type: ignore[attr-defined]
    assert me.get("/api/v1/notifications").get_json()["notify_by_mail"] is True
    r = me.put("/api/v1/notifications/settings",
               json={"mail_digest": False, "notify_by_mail": False})
    assert r.status_code == 204
    assert me.get("/api/v1/notifications").get_json()["notify_by_mail"] is False
