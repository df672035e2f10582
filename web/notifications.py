"""In-app notifications (通知, one per reminder mail) with the digest preference, and the
system admin's outbox (发信队列) with retry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from web.auth import current_user, requires
from web.citations import programmes_in_use
from web.extensions import uow
from web.i18n import lang
from workflow.errors import DomainError
from workflow.services import events, reminders
from workflow.services import outbox as outbox_service

bp = Blueprint("notifications", __name__)

STATUS_ZH = {"pending": "待发送", "held": "待汇总", "sending": "发送中", "sent": "已发送",
             "failed": "发送失败（将重试）", "dead": "已放弃（永久失败）", "digested": "已并入每日汇总",
             "cancelled": "已取消（事由已消除）"}


@bp.get("/notifications")
@requires("account.own")
def index() -> Any:
    user = current_user()
    assert user is not None
    unread_only = request.args.get("unread") == "1"
    # the programmes this user works in (a Guangdong reviewer: notice 002's and its own)
    choices = programmes_in_use()
    chosen = request.args.get("programme") or None
    if chosen not in {p.code for p in choices}:
        chosen = None
    inbox = reminders.notifications(uow(), user.id, unread_only=unread_only,
                                    programme=chosen)
    return render_template("notifications.html", inbox=inbox, unread_only=unread_only,
                           programme_choices=choices if len(choices) > 1 else [],
                           chosen=chosen, notify_by_mail=events.notify_by_mail(uow(), user.id))


@bp.post("/notifications/read")
@requires("account.own")
def read() -> Any:
    user = current_user()
    assert user is not None
    raw = request.form.getlist("id")
    ids: list[int] | None = None
    if request.form.get("all") != "1":
        try:
            ids = [int(x) for x in raw]
        except ValueError:
            abort(400)
    reminders.mark_read(uow(), user.id, ids)
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/preference")
@requires("account.own")
def preference() -> Any:
    user = current_user()
    assert user is not None
    choice = request.form.get("mail_digest")
    if choice not in ("0", "1"):
        abort(400)
    reminders.set_mail_digest(uow(), user.id, choice == "1")
    flash(_("邮件提醒方式已保存"))
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/channel")
@requires("account.own")
def channel() -> Any:
    """In-app only, or in-app and by mail (transitions of one's cases, mentions)."""
    user = current_user()
    assert user is not None
    choice = request.form.get("notify_by_mail")
    if choice not in ("0", "1"):
        flash(_("请选择通知方式"), "error")
        return redirect(url_for("notifications.index"))
    events.set_notify_by_mail(uow(), user.id, choice == "1")
    flash(_("通知方式已保存"))
    return redirect(url_for("notifications.index"))


@bp.get("/admin/outbox")
@requires("mail.admin")
def outbox() -> Any:
    user = current_user()
    assert user is not None
    filters = {k: (request.args.get(k) or "").strip()[:100] for k in ("status", "kind", "q")}
    before = request.args.get("before", type=int)
    errors: list[Any] = []
    try:
        page = outbox_service.outbox_page(uow(), user.id, status=filters["status"] or None,
                                          kind=filters["kind"] or None, q=filters["q"] or None,
                                          before_id=before)
    except DomainError as err:
        errors = list(err.refusals)
        page = outbox_service.outbox_page(uow(), user.id)
    return render_template("admin/outbox.html", page=page, filters=filters, errors=errors,
                           statuses=outbox_service.STATUSES, status_zh=STATUS_ZH,
                           kinds=reminders.kind_labels(lang()),
                           retryable=outbox_service.RETRYABLE, lang=lang(),
                           done=request.args.get("done"))


@bp.post("/admin/outbox/<int:outbox_id>/retry")
@requires("mail.admin")
def retry(outbox_id: int) -> Any:
    user = current_user()
    assert user is not None
    try:
        outbox_service.retry(uow(), user.id, outbox_id)
    except DomainError as err:
        flash(err.first.message(lang()), "error")
        return redirect(url_for("notifications.outbox"))
    from tasks.mail import nudge

    nudge()
    return redirect(url_for("notifications.outbox", done="retry"))
