"""Supervision by the provinces (002 §六(三), §四(四)): ad hoc reports on a base, on the
case page; and /supervision — a province's periodic assessment of the bases in its scope,
reported to the ministry, and the ministry's view of every province's report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from web import returns
from web.auth import current_user, requires
from web.extensions import settings, uow
from web.i18n import lang
from workflow import permissions
from workflow.errors import DomainError, NotFound
from workflow.permissions import Scope
from workflow.services import assessment, supervision
from workflow.services.clock import today

bp = Blueprint("supervision", __name__)


def case_section(user_id: int, app_id: int) -> dict[str, Any]:
    """What the case page's section of ad hoc reports shows."""
    return {"case_reports": supervision.reports_of(uow(), user_id, app_id),
            "may_report": supervision.may_report(uow(), user_id, app_id),
            "report_kinds": supervision.KINDS,
            "report_typed": getattr(g, "report_typed", None) or {},
            "report_errors": getattr(g, "report_errors", None) or {}}


def _me() -> Any:
    user = current_user()
    assert user is not None
    return user


@bp.post("/cases/<int:app_id>/reports")
@requires("case.report", after_scope=True)
def file_report(app_id: int) -> Any:
    typed = {k: request.form.get(k, "") for k in ("kind", "title", "body")}
    try:
        supervision.file_report(uow(), _me().id, app_id, typed["kind"], typed["title"],
                                typed["body"], base_url=settings().base_url)
    except NotFound:
        raise
    except DomainError as err:
        from web.views import _refused_at

        errors: dict[str, list[str]] = {}
        for r in err.refusals:
            errors.setdefault(r.field or "body", []).append(r.message(lang()))
        # post/redirect/get: the case page again, what was typed stays, each error by its field
        return _refused_at(app_id, report_typed=typed, report_errors=errors)
    from tasks.mail import nudge

    nudge()
    flash(_("重要信息已报送，商务部和省级审核人员将收到通知"), "success")
    return redirect(url_for("views.case", app_id=app_id) + "#case-reports", 303)


def _period() -> int:
    raw = request.values.get("period", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else \
        assessment.default_period(today())


@bp.get("/supervision")
@requires("supervision.view")
def index() -> Any:
    user = _me()
    period = _period()
    if permissions.scope_of(user, "supervision.view") is Scope.NATIONAL:
        return render_template("supervision/ministry.html", period=period,
                               reports=supervision.assessments(uow(), user.id, period),
                               suggestion_zh=supervision.SUGGESTION_ZH,
                               suggestion_en=supervision.SUGGESTION_EN)
    back = returns.shown_once(ASSESSMENT)  # a refused report: what was typed, and why
    typed = back.get("typed") or {}
    if typed:  # JSON keeps the bases' ids as text
        typed["items"] = {int(k): v for k, v in (typed.get("items") or {}).items()}
    return _province_page(user.id, period, typed=typed, errors=back.get("errors"))


ASSESSMENT = "supervision"  # a refused assessment comes back to the page (web/returns.py)


def _province_page(user_id: int, period: int, *, typed: dict[str, Any] | None = None,
                   errors: dict[str, list[str]] | None = None) -> Any:
    try:
        bases = supervision.bases_for_review(uow(), user_id, period)
        sent = supervision.assessments(uow(), user_id, period)
    except DomainError as err:
        return render_template("error.html", status=403, message=err.first.message(lang())), 403
    return render_template("supervision/province.html", period=period, bases=bases,
                           sent=sent[0][0] if sent else None, typed=typed or {},
                           errors=errors or {}, suggestion_zh=supervision.SUGGESTION_ZH,
                           suggestion_en=supervision.SUGGESTION_EN)


@bp.post("/supervision")
@requires("supervision.submit")
def submit() -> Any:
    user = _me()
    period = _period()
    items: dict[int, dict[str, str]] = {}
    for key, value in request.form.items():
        head, _sep, tail = key.partition("-")
        if head in ("suggestion", "findings") and tail.isdigit():
            items.setdefault(int(tail), {})[head] = value
    summary = request.form.get("summary", "")
    try:
        row = supervision.submit_assessment(uow(), user.id, period, summary, items,
                                            base_url=settings().base_url)
    except DomainError as err:
        errors: dict[str, list[str]] = {}
        for r in err.refusals:
            errors.setdefault(r.field or "_form", []).append(r.message(lang()))
        typed = {"summary": summary, "items": items}
        return returns.send_back(ASSESSMENT, url_for("supervision.index", period=period),
                                 typed=typed, errors=errors)
    from tasks.mail import nudge

    nudge()
    flash(_("%(period)s 年度基地评估报告已报送商务部（第 %(rev)s 版）", period=period,
            rev=row.revision), "success")
    return redirect(url_for("supervision.index", period=period), 303)
