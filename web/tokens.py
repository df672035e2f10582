"""Personal API tokens page (个人访问令牌): create (shown once), list, revoke — the same
service as /api/v1/tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from web.auth import requires
from web.extensions import uow
from web.i18n import lang
from web.security import TOKEN_LIMIT
from web.views import me
from workflow.errors import DomainError
from workflow.services import tokens
from workflow.services.clock import local_date, real_utcnow

bp = Blueprint("tokens", __name__)


def _page(values: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
          created: tokens.Created | None = None, status: int = 200) -> Any:
    user = me()
    rows = tokens.list_own(uow(), user.id)
    now = real_utcnow()  # token expiry is security: the machine's date, not APP_NOW's
    return render_template("tokens.html", rows=rows, now=now, values=values or {},
                           errors=errors or {}, created=created, today=local_date(now),
                           scopes=tokens.SCOPES), status


@bp.get("/tokens")
@requires("account.own")
def index() -> Any:
    return _page()


@bp.post("/tokens")
@requires("account.own")
@TOKEN_LIMIT
def create() -> Any:
    user = me()
    values = {k: request.form.get(k, "").strip() for k in ("name", "scope", "expires_on")}
    errors: dict[str, list[str]] = {}
    expires_on = None
    if values["expires_on"]:
        try:
            expires_on = date.fromisoformat(values["expires_on"])
        except ValueError:
            errors["expires_on"] = [_("日期格式应为 YYYY-MM-DD")]
    if not errors:
        try:
            made = tokens.create(uow(), user.id, values["name"], values["scope"] or "read_write",
                                 expires_on)
        except DomainError as err:
            for r in err.refusals:
                errors.setdefault(r.field or "_form", []).append(r.message(lang()))
        else:
            return _page(created=made, status=201)
    # answered in place, not by post/redirect/get (issue 17), as is the token made: it is
    # shown in this answer only and never kept to show again
    return _page(values, errors, status=422)


@bp.errorhandler(429)
def too_many(err: TooManyRequests) -> Any:
    """Over the token-creation limit: the page again with what was typed, nothing made."""
    values = {k: request.form.get(k, "").strip() for k in ("name", "scope", "expires_on")}
    resp = make_response(_page(values, {"_form": [_("创建令牌过于频繁，请一小时后再试")]},
                               status=429))
    retry = getattr(err, "retry_after", None)
    if retry:
        resp.headers["Retry-After"] = str(int(retry))
    return resp


@bp.post("/tokens/<int:token_id>/revoke")
@requires("account.own")
def revoke(token_id: int) -> Any:
    try:
        tokens.revoke(uow(), me().id, token_id)
    except DomainError as err:
        flash(err.first.message(lang()), "error")
    else:
        flash(_("令牌已吊销"), "success")
    return redirect(url_for("tokens.index"))
