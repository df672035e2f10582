"""Working a case together (issue 17, item 3): claim / assign / release, and comments with
@-mentions. The case page shows both in their own sections (`case_sections`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from web.auth import current_user, requires
from web.extensions import settings, uow
from web.i18n import lang
from workflow import permissions
from workflow.errors import DomainError, NotFound
from workflow.services import claims, comments

bp = Blueprint("collaboration", __name__)


def case_sections(user_id: int, app_id: int) -> dict[str, Any]:
    """What the case page's assignment and comment sections show."""
    typed = getattr(g, "comment_typed", None) or {}
    claim = claims.panel(uow(), user_id, app_id)
    return {
        "holder": claim.holder,
        "assign_to": claim.assign_to,
        "claim_history": claim.history,
        "comments": comments.of_case(uow(), user_id, app_id),
        "comment_typed": typed,
        "comment_errors": getattr(g, "comment_errors", None) or {},
    }


def _me() -> Any:
    user = current_user()
    assert user is not None
    return user


def _back(app_id: int) -> Any:
    return redirect(url_for("views.case", app_id=app_id) + "#assignment")


def _act(app_id: int, call: Any, done: Any) -> Any:
    """Run a claim service call; its refusal or `done(result)` flashed, back to the case."""
    try:
        got = call()
    except NotFound:
        raise
    except DomainError as err:
        flash(err.first.message(lang()), "error")
        return _back(app_id)
    flash(done(got), "success")
    return _back(app_id)


@bp.post("/cases/<int:app_id>/claim")
@requires("case.claim", after_scope=True)
def claim(app_id: int) -> Any:
    return _act(app_id, lambda: claims.assign(uow(), _me().id, app_id,
                                              take_over=request.form.get("take_over") == "1"),
                lambda got: _("您已认领此申报：%(name)s 办理中", name=got.name))


@bp.post("/cases/<int:app_id>/assign")
@requires("case.claim", after_scope=True)
def assign(app_id: int) -> Any:
    raw = request.form.get("assignee", "")
    return _act(app_id, lambda: claims.assign(uow(), _me().id, app_id,
                                              int(raw) if raw.isdigit() else -1),
                lambda got: _("已指派给 %(name)s", name=got.name))


@bp.post("/cases/<int:app_id>/unassign")
@requires("case.claim", after_scope=True)
def unassign(app_id: int) -> Any:
    return _act(app_id, lambda: claims.unassign(uow(), _me().id, app_id),
                lambda _got: _("已释放此申报，目前无人认领"))


@bp.post("/cases/<int:app_id>/comments")
@requires("case.comment", after_scope=True)
def comment(app_id: int) -> Any:
    user = _me()
    typed = {k: request.form.get(k, "") for k in ("body", "visibility", "field")}
    if not permissions.allowed(user, "case.internal"):
        typed["visibility"] = "applicant"
    try:
        comments.post(uow(), user.id, app_id, typed["body"], typed["visibility"] or "internal",
                      typed["field"] or None, base_url=settings().base_url)
    except NotFound:
        raise
    except DomainError as err:
        from web.views import _refused_at

        errors: dict[str, list[str]] = {}
        for r in err.refusals:
            errors.setdefault(r.field or "body", []).append(r.message(lang()))
        # post/redirect/get: the case page again, the comment as typed, each error by its field
        return _refused_at(app_id, comment_typed=typed, comment_errors=errors)
    from tasks.mail import nudge

    nudge()
    flash(_("评论已发表"), "success")
    return redirect(url_for("views.case", app_id=app_id) + "#comments")
