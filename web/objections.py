"""The ministry's objection desk: open objections (异议) from the public notice, each upheld
(the case leaves the notice: objection_upheld) or dismissed, always with a reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file
from flask import url_for as url
from flask_babel import gettext as _

from web import returns
from web.auth import current_user, requires
from web.extensions import uow
from web.i18n import lang
from workflow.errors import DomainError, NotFound, VersionConflict
from workflow.services import notice, objections

bp = Blueprint("objections", __name__)


def _user_id() -> int:
    user = current_user()
    assert user is not None
    return user.id


@bp.get("/objections")
@requires("objections.decide")
def index() -> Any:
    back = returns.shown_once(DESK)  # a refused decision: its reason as typed, and why
    if not back:
        return _render()
    one = int(back["objection_id"])
    return _render({one: back["errors"]}, {one: back["reason"]})


DESK = "objections"  # a refused decision comes back to the desk (web/returns.py)


def _render(errors: dict[int, dict[str, list[str]]] | None = None,
            typed: dict[int, str] | None = None) -> Any:
    items = notice.open_objections(uow(), _user_id())
    return render_template("dashboard/objections.html", items=items, errors=errors or {},
                           typed=typed or {})


def _refused(objection_id: int, reason: str, errors: dict[str, list[str]]) -> Any:
    """Post/redirect/get: the desk again, the reason as typed and why, beside it, once."""
    return returns.send_back(DESK, url("objections.index"), objection_id=objection_id,
                             reason=reason, errors=errors)


@bp.post("/objections/<int:objection_id>/<any(uphold, dismiss):decision>")
@requires("objections.decide")
def decide(objection_id: int, decision: str) -> Any:
    """Uphold or dismiss one objection; a refusal is shown next to its reason field."""
    reason = request.form.get("reason", "")
    try:
        if decision == "uphold":
            version = request.form.get("version", type=int)
            objections.uphold(uow(), _user_id(), objection_id, reason, version)
            flash(_("异议已认定成立，该申报已退出公示。"), "success")
        else:
            objections.dismiss(uow(), _user_id(), objection_id, reason)
            flash(_("异议已驳回，该申报继续公示。"), "success")
    except NotFound:
        flash(_("该异议已被处理或不存在。"), "warning")
    except VersionConflict as err:
        return _refused(objection_id, reason, {"reason": [err.first.message(lang())]})
    except DomainError as err:
        messages: dict[str, list[str]] = {}
        for r in err.refusals:
            messages.setdefault("reason" if r.field in (None, "reason") else r.field,
                                []).append(r.message(lang()))
        return _refused(objection_id, reason, messages)
    return redirect(url("objections.index"))


@bp.get("/objections/<int:objection_id>/evidence")
@requires("objections.decide")
def evidence(objection_id: int) -> Any:
    """The file the objector sent (downloaded, never shown inline)."""
    try:
        found = notice.evidence_of(uow(), _user_id(), objection_id)
    except NotFound:
        return ("", 404)
    path = current_app.config["SETTINGS"].upload_dir / found.stored_name
    return send_file(path, mimetype=found.content_type, as_attachment=True,
                     download_name=found.filename)
