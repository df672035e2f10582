"""出口基地名录 — the register of export bases: the list with its filters, one base with its
status over time, and (ministry reviewers) the import of the national bases and its
template."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from web import returns
from web.auth import current_user, requires
from web.extensions import uow
from web.security import UPLOAD_LIMIT
from workflow.errors import DomainError, ValidationFailed, refuse
from workflow.register import BaseStatus, BaseType
from workflow.services import bases
from workflow.storage.models import UserRow

bp = Blueprint("bases_register", __name__, url_prefix="/bases-register")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user() -> UserRow:
    user = current_user()
    if user is None:
        abort(401)
    return user


def _filters() -> dict[str, str]:
    """The list's filters from the query string; blank or unknown ones are dropped."""
    a = request.args
    out = {}
    if a.get("authority", "").isdigit() and len(a["authority"]) == 6:
        out["authority"] = a["authority"]
    if a.get("type") in {t.value for t in BaseType}:
        out["base_type"] = a["type"]
    if a.get("status") in {s.value for s in BaseStatus}:
        out["status"] = a["status"]
    return out


IMPORT = "bases_register:import"  # a refused import comes back to the list (web/returns.py)


def _list_page(import_errors: list[Any] | None = None) -> Any:
    user = _user()
    filters = _filters()
    entries = bases.listing(uow(), user.id, **filters)
    everything = bases.listing(uow(), user.id) if filters else entries
    authorities = sorted({e.row.authority for e in everything}, key=lambda a: a.code)
    return render_template(
        "bases_register/index.html", entries=entries, filters=filters,
        authorities=authorities, types=list(BaseType), statuses=list(BaseStatus),
        may_import=bases.may_import(user), import_errors=import_errors or [])


@bp.get("/")
@requires("register.view")
def index() -> Any:
    return _list_page(returns.refusals_of(returns.shown_once(IMPORT).get("import_errors")))


@bp.get("/<int:base_id>")
@requires("register.view")
def base(base_id: int) -> Any:
    try:
        entry = bases.entry(uow(), _user().id, base_id)
    except DomainError as err:
        abort(err.status)
    return render_template("bases_register/base.html", entry=entry)


@bp.get("/decisions/<int:decision_id>/print")
@requires("register.view")
def decision_print(decision_id: int) -> Any:
    """The designation decision (授牌) as a printable page with the bases it designates."""
    try:
        decision = bases.designation_decision(uow(), _user().id, decision_id)
    except DomainError as err:
        abort(err.status)
    return render_template("bases_register/decision_print.html", decision=decision)


@bp.post("/import")
@UPLOAD_LIMIT
@requires("register.import")
def import_file() -> Any:
    file = request.files.get("file")
    name, content = (file.filename or "", file.read()) if file else ("", b"")
    limit = int(current_app.config["SETTINGS"].max_upload_mb) * 1024 * 1024
    try:
        if not name:
            raise ValidationFailed(refuse("required", "请选择要导入的文件",
                                          "choose a file to import", field="file"))
        done = bases.import_file(uow(), _user().id, name, content, limit)
    except DomainError as err:
        if err.status != 422:
            abort(err.status)
        # post/redirect/get: the register again, listing why nothing was imported, once
        return returns.send_back(IMPORT, url_for("bases_register.index"),
                                 import_errors=returns.as_json(err.refusals))
    flash(_("已导入 %(rows)s 行：新增 %(added)s 个基地，更新 %(updated)s 个，%(unchanged)s 个未变",
            rows=done.rows, added=done.added, updated=done.updated, unchanged=done.unchanged),
          "success")
    return redirect(url_for("bases_register.index"))


@bp.get("/template.xlsx")
@requires("register.view")
def template() -> Any:
    try:
        data = bases.template_for(uow(), _user().id)
    except DomainError as err:
        abort(err.status)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": "attachment; filename=bases-register-template.xlsx"})
