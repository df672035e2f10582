"""The 申报书 for applicants: new, edit (draft saved and resumed), submit, print."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict

from web import keep, returns
from web.auth import current_user, requires
from web.extensions import uow
from web.i18n import lang, state_label, trigger_label
from web.security import UPLOAD_LIMIT
from web.views import _refused_at, me, not_found_page
from workflow import form, permissions
from workflow.applicants import preparer
from workflow.errors import (
    DomainError,
    NotFound,
    ValidationFailed,
    VersionConflict,
    refuse,
)
from workflow.programme import Programme
from workflow.roles import Role
from workflow.rules import EXISTING_BASE_TYPES, NEW_BASE_FIELDS_2006
from workflow.services import bases, cases, catalog, events, files, worklist
from workflow.states import State

bp = Blueprint("forms", __name__)

PRODUCT_KEY = re.compile(r"^products-(\d{1,3})-(name|exports_10k_usd)$")
MAX_PRODUCTS = 200
BLANK_ROWS = 2  # empty rows a document table offers beyond those filled (more after saving)


bp.register_error_handler(NotFound, not_found_page)


TABLE_KEY = re.compile(r"^([a-z_]{1,40})-(\d{1,3})-([a-z0-9_]{1,40})$")


def form_data(posted: MultiDict[str, str], the_form: form.FormDef) -> dict[str, Any]:
    """The service's input from the posted form: the applicant's fields, kind, product rows
    and the document's tables (a cluster's leading enterprises), rows in order."""
    data: dict[str, Any] = {f.name: posted.get(f.name, "")
                            for f in the_form.filled_by(form.APPLICANT)}
    data["kind"] = posted.get("kind") or the_form.kinds[0].key
    data["industry_field"] = posted.get("industry_field", "")
    data["existing_base_type"] = posted.get("existing_base_type", "")
    data["existing_base_id"] = posted.get("existing_base_id", "")
    rows: dict[int, dict[str, str]] = {}
    for key, value in posted.items():
        m = PRODUCT_KEY.match(key)
        if m and int(m.group(1)) < MAX_PRODUCTS:
            rows.setdefault(int(m.group(1)), {})[m.group(2)] = value
    data["products"] = [rows[i] for i in sorted(rows)]
    tables: dict[str, dict[int, dict[str, str]]] = {t.name: {} for t in the_form.tables}
    for key, value in posted.items():
        m = TABLE_KEY.match(key)
        if m and m.group(1) in tables and int(m.group(2)) < MAX_PRODUCTS:
            tables[m.group(1)].setdefault(int(m.group(2)), {})[m.group(3)] = value
    for name, got in tables.items():
        data[name] = [got[i] for i in sorted(got)]
    return data


CASE_INPUTS = frozenset({"kind", "industry_field", "existing_base_id", "existing_base_type",
                         "products"})


def errors_by_field(err: DomainError, the_form: form.FormDef) -> dict[str, list[str]]:
    """Refusals keyed by the form input they belong to (products[1].name → products-1-name);
    one about no input of the form (the round, the authority) heads the form."""
    out: dict[str, list[str]] = {}
    for r in err.refusals:
        for name in r.details.get("fields", []) if r.code == "incomplete_form" else []:
            out.setdefault(_input_of(name, the_form), []).append(_("必填"))
        out.setdefault(_input_of(r.field, the_form), []).append(r.message(lang()))
    return out


def _input_of(name: str | None, the_form: form.FormDef) -> str:
    """The form input a refusal's field names: products[1].name → products-1-name, a
    table's missing rows → its first row's first cell, anything else of no input → _form."""
    tables = {t.name: t for t in (the_form.rows, *the_form.tables) if t is not None}
    if name in tables:
        return f"{name}-0-{tables[name].fields[0].name}"
    m = re.match(r"^(\w+)\[(\d+)\](?:\.(\w+))?$", name or "")
    if m and m.group(1) in tables:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3) or tables[m.group(1)].fields[0].name}"
    return name if name and name in CASE_INPUTS | set(the_form.by_name) else "_form"


def _still_missing(the_form: form.FormDef, data: dict[str, Any]) -> dict[str, list[str]]:
    """The required fields left blank in what was typed (submitting needs them), each with
    its message naming it — said with the format errors, not a round later."""
    def filled(rows: Any) -> list[dict[str, Any]]:
        return [r for r in rows or [] if any((v or "").strip() for v in r.values())]
    typed: dict[str, Any] = {k: v for k, v in data.items() if isinstance(v, str) and v.strip()}
    typed.update({t.name: filled(data.get(t.name)) for t in the_form.tables})
    out: dict[str, list[str]] = {}
    for r in the_form.missing(str(data.get("kind") or ""), typed, filled(data.get("products"))):
        out.setdefault(_input_of(r.field, the_form), []).append(r.message(lang()))
    return out


def _values_of(row: Any, the_form: form.FormDef, saved: dict[str, Any]) -> dict[str, Any]:
    """A saved draft as the form shows it."""
    data: dict[str, Any] = {}
    for f in the_form.fields:
        v = saved.get(f.name)
        if v is None:
            data[f.name] = ""
        elif f.kind in ("money", "pct"):
            data[f.name] = format(v.normalize(), "f")
        else:
            data[f.name] = str(v)
    data["kind"] = row.kind
    data["industry_field"] = row.industry_field or ""
    data["existing_base_type"] = row.existing_base_type or ""
    data["existing_base_id"] = str(row.existing_base_id or "")
    data["products"] = [{"name": p.name, "exports_10k_usd": "" if p.exports_10k_usd is None
                         else format(p.exports_10k_usd.normalize(), "f")} for p in row.products]
    for t in the_form.tables:
        data[t.name] = [{c: "" if v is None else format(v.normalize(), "f")
                         if isinstance(v, Decimal) else str(v) for c, v in r.items()}
                        for r in saved.get(t.name) or []]
    return data


def _render(values: dict[str, Any], *, row: Any = None, errors: dict[str, list[str]] | None = None,
            conflict: bool = False, attachments: list[Any] | None = None,
            upload_error: str | None = None, upload_kind: str | None = None,
            returned: Any = None) -> Any:
    products = values.get("products") or []
    if not products:
        products = [{"name": "", "exports_10k_usd": ""}]
    # the round it goes into: named on the form, its own fields for new bases
    rnd = (catalog.drafting_round(uow(), me().id, row.round.year, row.round.programme)
           if row is not None else _new_round())
    choices = catalog.drafting_rounds(uow(), me().id) if row is None else []
    programme = _programme_of(row, rnd)
    shown = programme.form  # its round's programme's form, read once
    return render_template(
        "application_form.html", values=values, products=products, row=row,
        errors=errors or {}, conflict=conflict, attachments=attachments or [],
        upload_kinds=_upload_kinds(row), upload_error=upload_error,
        submit_needs=[a.kind for a in programme.required_attachments("submit")],
        # the submit button says what the programme's own `submit` step says
        submit_label=trigger_label("submit", programme),
        upload_kind=upload_kind, round=rnd,
        industry_fields=rnd.rules.new_base_fields if rnd else NEW_BASE_FIELDS_2006,
        base_types=EXISTING_BASE_TYPES, base_choices=bases.choices(uow(), me().id),
        fields=shown.filled_by(form.APPLICANT), sections=shown.sections, rows=shown.rows,
        kinds=shown.kinds, tables=shown.tables, blank_rows=BLANK_ROWS,
        choices=choices,
        # a `city` field's list: the province's cities; a value not among them (typed
        # before, or through the API) stays on offer, by its name if it is a code on file
        city_choices=catalog.city_choices(uow(), me().id, row.authority_id if row else None),
        city_names=catalog.city_names(uow(), shown.cities_named(values)),
        returned=returned)


@bp.route("/applications/new", methods=["GET", "POST"])
@requires("case.create")
def new_application() -> Any:
    user = me()
    if request.method == "GET":
        back = returns.shown_once(NEW_FORM)
        if back:  # a refused POST's typing and errors (post/redirect/get)
            return _render(back.get("values") or {}, errors=back.get("errors"))
        return _render({"kind": the_form().kinds[0].key, "products": []})
    data = form_data(request.form, the_form())
    data["programme"] = _chosen()
    data["round_year"] = _chosen_year()
    try:
        app_id = cases.create_draft(uow(), user.id, data)
    except DomainError as err:
        return returns.send_back(NEW_FORM, url_for("forms.new_application",
                                                   programme=data["programme"],
                                                   year=data["round_year"]),
                                 values=data, errors=errors_by_field(err, the_form()))
    keep.saved("application:new", f"application:{app_id}")
    flash(_("草稿已保存。可以继续填写、上传附件，完成后提交。"), "success")
    return redirect(url_for("forms.edit_application", app_id=app_id))


# The forms whose refused POSTs come back to their GET (web/returns.py): a new
# application's (it has no id yet) and each draft's.
NEW_FORM = "application:new"


def draft_form(app_id: int) -> str:
    return f"application:{app_id}"


def edit_page(app_id: int, *, values: dict[str, Any] | None = None,
              errors: dict[str, list[str]] | None = None,
              conflict: bool = False, upload_error: str | None = None,
              upload_kind: str | None = None) -> Any:
    """The form of a draft: what was typed (if given) over what is saved."""
    user = me()
    loaded = cases.load(uow(), user.id, app_id)
    row = loaded.row
    if not permissions.allowed(loaded.actor, "case.edit_draft") \
            or row.state != State.DRAFTED.value:
        return redirect(url_for("views.case", app_id=app_id))
    attachments = worklist.attachment_files(uow(), user.id, app_id)
    saved = loaded.case.values
    return _render(values if values is not None else _values_of(row, the_form(row), saved),
                   row=row, errors=errors, conflict=conflict, attachments=attachments,
                   upload_error=upload_error, upload_kind=upload_kind,
                   returned=events.why_here(uow(), user.id, app_id))


@bp.route("/applications/<int:app_id>/edit", methods=["GET", "POST"])
@UPLOAD_LIMIT  # only a POST that carries a file counts
@requires("case.view", after_scope=True)  # a reviewer is sent to the case page
def edit_application(app_id: int) -> Any:
    if request.method == "GET":
        # what a refused POST left (its typing, errors, conflict, refused upload), once
        back = returns.shown_once(draft_form(app_id))
        return edit_page(app_id, values=back.get("values"), errors=back.get("errors"),
                         conflict=bool(back.get("conflict")),
                         upload_error=back.get("upload_error"),
                         upload_kind=back.get("upload_kind"))
    user = me()
    loaded = cases.load(uow(), user.id, app_id)
    data = form_data(request.form, the_form(loaded.row))
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    action = request.form.get("action")
    file = request.files.get("file")
    kind = request.form.get("kind_of_file", "")
    wants_upload = action == "upload" or (file is not None and bool(file.filename))
    not_uploaded = _("附件未上传：请先修改标红的项目，再重新选择文件") if wants_upload else None
    back_to = url_for("forms.edit_application", app_id=app_id)
    try:
        version = cases.update_draft(uow(), user.id, app_id, data, version)
    except VersionConflict:
        return returns.send_back(draft_form(app_id), back_to, values=data, conflict=True,
                                 upload_error=not_uploaded, upload_kind=kind)
    except NotFound:
        raise
    except DomainError as err:
        errors = errors_by_field(err, the_form(loaded.row))
        if action == "submit":  # one round: what submitting needs is said now as well
            for field, messages in _still_missing(the_form(loaded.row), data).items():
                errors.setdefault(field, messages)
        return returns.send_back(draft_form(app_id), back_to, values=data, errors=errors,
                                 upload_error=not_uploaded, upload_kind=kind)
    keep.saved(f"application:{app_id}")
    if wants_upload:
        # the draft was saved first in this same POST: nothing typed is lost to an upload
        error = _attach(user.id, app_id, kind, file)
        if error is not None:
            flash(_("草稿已保存"), "success")
            return upload_refused_at(app_id, error, kind)
        flash(_("已上传：%(name)s", name=file.filename if file else ""), "success")
    if action != "submit":
        flash(_("草稿已保存"), "success")
        return redirect(url_for("forms.edit_application", app_id=app_id)
                        + ("#attachments" if wants_upload else ""))
    try:
        fired = cases.fire(uow(), user.id, app_id, "submit", version)
    except VersionConflict:
        return returns.send_back(draft_form(app_id), back_to, values=data, conflict=True)
    except DomainError as err:
        # the draft is saved; what the submit guard misses is shown next to each field
        return returns.send_back(draft_form(app_id), back_to, values=data,
                                 errors=errors_by_field(err, the_form(loaded.row)))
    # in the case's programme's words (粤府办[2006]59号's cases go to the 省商务厅)
    flash(_("已办理：%(action)s。当前状态：%(state)s",
            action=trigger_label("submit", loaded.case.programme),
            state=state_label(fired.to_state, loaded.case.programme)), "success")
    return redirect(url_for("views.case", app_id=app_id))


def upload_refused_at(app_id: int, message: str, kind: str) -> Any:
    """An upload from the draft's form refused (post/redirect/get, issue 17): the refusal
    and the kind chosen come back beside the file field of the form, once, as its other
    errors do (web/returns.py); the file field takes the focus itself (autofocus). A case
    the user may not see is not found, as its form would be."""
    cases.load(uow(), me().id, app_id)
    return returns.send_back(draft_form(app_id),
                             url_for("forms.edit_application", app_id=app_id),
                             upload_error=message[:500], upload_kind=kind[:100])


def _attach(user_id: int, app_id: int, kind: str, file: FileStorage | None) -> str | None:
    """Store the chosen file on the draft; the refusal's words if it was not stored."""
    settings = current_app.config["SETTINGS"]
    try:
        if file is None or not file.filename:
            raise ValidationFailed(refuse("required", "请选择要上传的文件",
                                          "choose a file to upload", field="file"))
        files.attach(uow(), user_id, app_id, kind, file.filename, file.read(),
                     settings.upload_dir, settings.max_upload_mb * 1024 * 1024)
    except NotFound:
        raise
    except DomainError as err:
        return err.first.message(lang())
    return None


@bp.get("/applications/<int:app_id>/print")
@requires("case.view", after_scope=True)
def print_application(app_id: int) -> Any:
    user = me()
    loaded = cases.load(uow(), user.id, app_id)
    attachments = worklist.attachments_of(uow(), user.id, app_id)
    prog = loaded.case.programme
    # notice 002's form has its official layout (its annex); any other programme's form is
    # laid out from its definition, section by section
    layout = ("application_print.html" if prog.form == catalog.default_programme().form
              else "application_print_fields.html")
    return render_template(layout, row=loaded.row, attachments=attachments,
                           values=loaded.case.values,
                           city_names=catalog.city_names(
                               uow(), prog.form.cities_named(loaded.case.values)),
                           kinds=[a.kind for a in loaded.case.programme.attachments],
                           programme=loaded.case.programme)


def _programme_of(row: Any, rnd: Any) -> Programme:
    """A draft's programme, or that of the round a new draft goes into."""
    if row is not None:
        return catalog.programme_of(row.round)
    return rnd.programme if rnd is not None else catalog.default_programme()


def _upload_kinds(row: Any) -> list[str]:
    """What the applicant may attach to a saved draft: its programme's kinds for drafts."""
    if row is None:
        return []
    return [a.kind for a in catalog.programme_of(row.round).attachable(Role.APPLICANT, row.state)]


def the_form(row: Any = None) -> form.FormDef:
    """The form of a draft's programme (of the round it is in), or the form a new draft
    gets: that of the round it will go into."""
    return _programme_of(row, None if row is not None else _new_round()).form


def _chosen() -> str | None:
    """The programme the applicant chose for a new application (several rounds are open
    to them: notice 002's and their province's own)."""
    return (request.values.get("programme") or "").strip()[:60] or None


def _chosen_year() -> int | None:
    """The round's year the applicant chose for a new application (this year's round
    may still run when next year's opens); none: the newest open one."""
    year = (request.values.get("year") or "").strip()
    return int(year) if year.isdigit() and len(year) == 4 else None


def _new_round() -> catalog.Round | None:
    """The round a new application goes into: the programme and year chosen, else the
    newest open round (of the chosen programme)."""
    year, code = _chosen_year(), _chosen()
    chosen = next((r for r in catalog.drafting_rounds(uow(), me().id)
                   if r.row.year == year and code in (None, r.row.programme)), None)
    return chosen or catalog.drafting_round(uow(), me().id, None, code)


@bp.post("/cases/<int:app_id>/review-fields")
@requires("case.view", after_scope=True)  # whose fields: the programme's `filled_by`
def review_fields(app_id: int) -> Any:
    """A reviewer states the form's fields their role fills in (002 §六(二)(2): the
    province's statement of the applicant's rank in its locality)."""
    user = me()
    loaded = cases.load(uow(), user.id, app_id)
    names = [f.name for f in loaded.case.programme.form.filled_by(loaded.actor.role.value)]
    data = {n: request.form.get(n, "") for n in names if n in request.form}
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    try:
        cases.set_review_fields(uow(), user.id, app_id, data, version)
    except VersionConflict:
        return _refused_at(app_id, conflict={"trigger": "review_fields"})
    except NotFound:
        raise
    except DomainError as err:  # post/redirect/get, as the case page's other forms
        return _refused_at(app_id, typed={"review_fields": data},
                           attest_error="；".join(r.message(lang()) for r in err.refusals))
    flash(_("已保存"), "success")
    return redirect(url_for("views.case", app_id=app_id) + "#eligibility")


bp.add_app_template_global(current_user, "current_user")
bp.add_app_template_global(preparer, "preparer")
