"""Webhooks page (管理 Webhook): register a URL (its signing secret shown once), list,
delete, see the latest deliveries and retry a failed one — the same service as
/api/v1/webhooks; provincial and ministry reviewers only (docs/webhooks.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from web.auth import requires
from web.extensions import settings, uow
from web.i18n import lang
from web.views import me
from workflow.errors import ValidationFailed
from workflow.services import webhooks

bp = Blueprint("webhooks_page", __name__)


def _page(values: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
          created: webhooks.Created | None = None, status: int = 200) -> Any:
    rows = webhooks.list_visible(uow(), me().id)  # Forbidden (403 page) for other roles
    return render_template("webhooks.html", rows=rows, values=values or {},
                           errors=errors or {}, created=created), status


@bp.get("/webhooks")
@requires("webhooks.manage")
def index() -> Any:
    return _page()


@bp.post("/webhooks")
@requires("webhooks.manage")
def create() -> Any:
    values = {"url": request.form.get("url", "").strip()}
    errors: dict[str, list[str]] = {}
    try:
        made = webhooks.create(uow(), me().id, values["url"], settings=settings())
    except ValidationFailed as err:
        for r in err.refusals:
            errors.setdefault(r.field or "_form", []).append(r.message(lang()))
    else:
        return _page(created=made, status=201)
    # answered in place, not by post/redirect/get (issue 17), as is the webhook made: its
    # signing secret is shown in this answer only and never kept to show again
    return _page(values, errors, status=422)


@bp.post("/webhooks/<int:webhook_id>/delete")
@requires("webhooks.manage")
def delete(webhook_id: int) -> Any:
    webhooks.delete(uow(), me().id, webhook_id)  # another authority's: the 404 page
    flash(_("Webhook 已删除，不会再向它发送通知"), "success")
    return redirect(url_for("webhooks_page.index"))


@bp.get("/webhooks/<int:webhook_id>")
@requires("webhooks.manage")
def deliveries(webhook_id: int) -> Any:
    # another authority's webhook: the 404 page
    hook, rows = webhooks.with_deliveries(uow(), me().id, webhook_id)
    return render_template("webhook_deliveries.html", hook=hook, rows=rows,
                           retryable=webhooks.RETRYABLE)


@bp.post("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/retry")
@requires("webhooks.manage")
def retry(webhook_id: int, delivery_id: int) -> Any:
    try:
        webhooks.retry(uow(), me().id, webhook_id, delivery_id)
    except ValidationFailed as err:  # no longer failed or dead
        flash(err.first.message(lang()), "error")
    else:
        flash(_("已重新排队，将尽快再次发送"), "success")
    return redirect(url_for("webhooks_page.deliveries", webhook_id=webhook_id))
