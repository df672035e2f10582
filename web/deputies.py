"""Deputies page (代理人): name a colleague to act for you while you are away."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from web import returns
from web.auth import requires
from web.extensions import uow
from web.i18n import lang
from web.views import me
from workflow.errors import DomainError, NotFound
from workflow.services import deputies
from workflow.services.clock import today

bp = Blueprint("deputies", __name__)


def _date(raw: str | None) -> tuple[date | None, bool]:
    """(date, ok): blank is (None, True), malformed is (None, False)."""
    if not raw:
        return None, True
    try:
        return date.fromisoformat(raw), True
    except ValueError:
        return None, False


FORM = "deputies"  # a refused naming comes back to the page (web/returns.py)


def _page(values: dict[str, str] | None = None,
          errors: dict[str, list[str]] | None = None) -> Any:
    user = me()
    return render_template("deputies.html", periods=deputies.periods_of(uow(), user.id),
                           candidates=deputies.candidates(uow(), user.id),
                           values=values or {}, errors=errors or {}, today=today())


@bp.get("/deputies")
@requires("deputies.manage")
def index() -> Any:
    back = returns.shown_once(FORM)
    return _page(back.get("values"), back.get("errors"))


@bp.post("/deputies")
@requires("deputies.manage")
def create() -> Any:
    user = me()
    values = {k: request.form.get(k, "") for k in ("deputy_id", "starts_on", "ends_on")}
    errors: dict[str, list[str]] = {}
    starts_on, ok1 = _date(values["starts_on"])
    ends_on, ok2 = _date(values["ends_on"])
    for name, ok in (("starts_on", ok1), ("ends_on", ok2)):
        if not ok:
            errors[name] = [_("日期格式应为 YYYY-MM-DD")]
    deputy_id = int(values["deputy_id"]) if values["deputy_id"].isdigit() else None
    if not errors:
        try:
            deputies.name_deputy(uow(), user.id, deputy_id, starts_on, ends_on)
        except DomainError as err:
            for r in err.refusals:
                errors.setdefault(r.field or "_form", []).append(r.message(lang()))
    if errors:  # post/redirect/get: the page again, with the dates as typed
        return returns.send_back(FORM, url_for("deputies.index"), values=values,
                                 errors=errors)
    flash(_("已指定代理人"), "success")
    return redirect(url_for("deputies.index"))


@bp.post("/deputies/<int:period_id>/end")
@requires("deputies.manage")
def end(period_id: int) -> Any:
    try:
        deputies.end_period(uow(), me().id, period_id)
    except NotFound:
        return render_template("error.html", status=404,
                               message=_("未找到该记录，或您无权查看")), 404
    flash(_("已取消代理"), "success")
    return redirect(url_for("deputies.index"))
