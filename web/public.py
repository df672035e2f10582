"""The public notice (网上公示, no login) and the objection form (异议).

002 §六(三): the ministry publishes the recommended names online before approving them.
Anyone may object while a case's notice runs; the objection POST is rate-limited per IP.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import TooManyRequests
from wtforms import StringField, TextAreaField

from web.extensions import client_ip, limiter, uow
from web.i18n import lang
from workflow.errors import NotFound, ValidationFailed
from workflow.register import BaseStatus, BaseType
from workflow.services import bases, objections
from workflow.services import notice as public_notice

bp = Blueprint("public", __name__)
DEFAULT_OBJECTION_LIMIT = "5 per hour"


class ObjectionForm(FlaskForm):
    """Name, contact, text and an optional file; the rules live in the service."""

    name = StringField()
    contact = StringField()
    text = TextAreaField()
    file = FileField()


def objection_limit() -> str:
    """Per-IP limit on filing objections (config OBJECTION_RATE_LIMIT, e.g. "5 per hour")."""
    return str(current_app.config.get("OBJECTION_RATE_LIMIT") or DEFAULT_OBJECTION_LIMIT)


@bp.get("/notice")
def notice() -> Any:
    """Per round, the cases under notice with their key figures and working days left."""
    notices = public_notice.current_notices(uow())
    return render_template("public/notice.html", notices=notices,
                           wordings=public_notice.wordings(notices))


@bp.get("/register")
def register() -> Any:
    """出口基地名录, public: every base with its designation date, type and status now (the
    decision and its date behind a rectification or revocation); no applicant's figures."""
    base_type = request.args.get("type") or None
    status = request.args.get("status") or None
    try:
        entries = bases.public_register(uow(), base_type=base_type, status=status)
    except ValidationFailed:
        entries, base_type, status = bases.public_register(uow()), None, None
    return render_template("public/register.html", entries=entries, base_type=base_type,
                           status=status, types=list(BaseType), statuses=list(BaseStatus))


@bp.route("/notice/<int:app_id>", methods=["GET", "POST"])
@limiter.limit(objection_limit, methods=["POST"])
def case(app_id: int) -> Any:
    try:
        shown = public_notice.public_case(uow(), app_id)
    except NotFound:
        abort(404)
    form = ObjectionForm()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():  # only the CSRF token can fail here
            errors["_form"] = [str(m) for ms in form.errors.values() for m in ms]
            status = 400
        elif not shown.open_for_objections:
            abort(404)
        else:
            try:
                number = objections.file_objection(
                    uow(), app_id, form.name.data or "", form.contact.data or "",
                    form.text.data or "", ip=client_ip(), evidence=_evidence(form))
            except ValidationFailed as err:
                for r in err.refusals:
                    errors.setdefault(r.field or "_form", []).append(r.message(lang()))
                # answered in place, not by post/redirect/get (issue 17): the public has no
                # account to keep the typing under, and its evidence file cannot be kept
                status = 422
            except NotFound:
                abort(404)  # the notice ended meanwhile
            else:
                session["objection_filed"] = {"app_id": app_id, "number": number}
                return redirect(url_for("public.filed", app_id=app_id))
    return render_template("public/case.html", case=shown, form=form, errors=errors), status


@bp.get("/notice/<int:app_id>/filed")
def filed(app_id: int) -> Any:
    """The confirmation page with the objection's confirmation number."""
    done = session.get("objection_filed") or {}
    if done.get("app_id") != app_id:
        return redirect(url_for("public.case", app_id=app_id))
    try:
        shown: public_notice.PublicCase | None = public_notice.public_case(uow(), app_id)
    except NotFound:
        shown = None  # the notice moved on meanwhile; the number still stands
    return render_template("public/filed.html", case=shown, number=done["number"])


def lookup_limit() -> str:
    """Per-IP limit on looking objections up (config OBJECTION_LOOKUP_RATE_LIMIT): the
    confirmation number is the only key, so guessing is slowed down."""
    return str(current_app.config.get("OBJECTION_LOOKUP_RATE_LIMIT") or "30 per hour")


@bp.get("/notice/objection-status")
@limiter.limit(lookup_limit, exempt_when=lambda: not request.args.get("number"))
def objection_status() -> Any:
    """异议处理结果查询: the person who filed an objection looks its status up with the
    confirmation number — open, or decided (upheld / dismissed) with the date and reason."""
    number = (request.args.get("number") or "").strip()
    found, error, status = None, None, 200
    if number:
        try:
            found = objections.status_of(uow(), number)
        except ValidationFailed as err:
            error, status = err.first.message(lang()), 422
        except NotFound:
            error, status = _("未找到该确认编号的异议，请核对后重试"), 404
    return render_template("public/objection_status.html", number=number, found=found,
                           error=error), status


@bp.errorhandler(429)
def too_many(err: TooManyRequests) -> Any:
    body = render_template("public/rate_limited.html", limit=str(err.description or ""))
    resp = Response(body, status=429, mimetype="text/html")
    retry = getattr(err, "retry_after", None)
    if retry:
        resp.headers["Retry-After"] = str(int(retry))
    return resp


def _evidence(form: ObjectionForm) -> objections.EvidenceUpload | None:
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    settings = current_app.config["SETTINGS"]
    return objections.EvidenceUpload(
        filename=upload.filename, data=upload.read(), upload_dir=settings.upload_dir,
        max_bytes=settings.max_upload_mb * 1024 * 1024)
