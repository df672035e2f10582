"""Reviewers' pages: the inbox (待办) with bulk actions, and the case page (案件详情)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from web import collaboration, keep, returns, supervision
from web.auth import current_user, requires
from web.citations import programmes_seen
from web.diagram import svg as diagram_svg
from web.extensions import uow
from web.i18n import is_en, lang, state_label, trigger_label
from web.security import UPLOAD_LIMIT
from workflow import permissions
from workflow.errors import DomainError, NotFound, VersionConflict
from workflow.paging import PAGE_SIZE, PAGE_SIZES
from workflow.programme import all_kinds, transition_def
from workflow.programme import known as known_programmes
from workflow.regions import Region
from workflow.services import (
    bases,
    cases,
    catalog,
    claims,
    files,
    objections,
    saved_filters,
    worklist,
)
from workflow.services.clock import today as china_today
from workflow.states import DECISIONS, PROGRAMME
from workflow.storage.models import UserRow

bp = Blueprint("views", __name__)

# Triggers offered for many cases at once (each case still gets its own guard check and
# history row); who may fire each is the programme's. 002 §六(三): the ministry publishes
# all recommended names in one notice.
BULK_TRIGGERS = ("recommend", "publish_notice", "approve")
FILTERS = ("state", "region", "authority", "round", "kind", "programme", "q", "mine")
VIEW_ARGS = (*FILTERS, "sort", "dir", "per")  # what a saved filter keeps
SORTS = ("due", "applicant", "state", "submitted")  # the inbox's sortable columns


@bp.app_context_processor
def _user() -> dict[str, Any]:
    return {"user": current_user()}


@bp.errorhandler(NotFound)
def not_found_page(_err: NotFound) -> Any:
    """A case page or form that does not exist or is not yours: the same words either way
    (refusals these blueprints do not handle go to `web.security._refused`)."""
    return render_template("error.html", status=404,
                           message=_("未找到该记录，或您无权查看")), 404


def me() -> UserRow:
    user = current_user()
    if user is None:
        abort(401)
    return user


@bp.get("/")
def index() -> Any:
    return redirect(url_for("views.inbox"))


# --- inbox --------------------------------------------------------------------------

def _state_keys() -> list[str]:
    """The states the inbox can be filtered by: those of the programmes the user works in."""
    return cases.state_keys(programmes_seen())


def _sorting(args: MultiDict[str, str]) -> dict[str, Any]:
    """The inbox's order from the query string (`sort`, `dir`): due date first by default."""
    sort = args.get("sort", "")
    return {"sort": sort if sort in SORTS else "due", "descending": args.get("dir") == "desc"}


def _filters(args: MultiDict[str, str]) -> dict[str, Any]:
    """The inbox filters from the query string, blank ones dropped, bad ones ignored."""
    out: dict[str, Any] = {}
    state = args.get("state", "")
    if state in _state_keys():
        out["state"] = state
    region = args.get("region", "")
    if region in {r.value for r in Region}:
        out["region"] = region
    if args.get("authority", "").isdigit():
        out["authority"] = args["authority"]
    if args.get("round", "").isdigit():
        out["round_year"] = int(args["round"])
    if args.get("kind") in all_kinds():
        out["kind"] = args["kind"]
    if args.get("programme") in {p.code for p in known_programmes()}:
        out["programme"] = args["programme"]
    q = args.get("q", "").strip()[:100]
    if q:
        out["q"] = q
    if args.get("mine") == "1":  # assigned to me (issue 17)
        out["mine"] = True
    return out


def _bulk_triggers(user: Any) -> tuple[str, ...]:
    """The bulk triggers the user's role may fire in notice 002's programme."""
    return tuple(t for t in BULK_TRIGGERS
                 if permissions.allowed(user, permissions.FIRE + t, PROGRAMME))


@bp.get("/inbox")
@requires("case.view", elsewhere="admin.home")
def inbox() -> Any:
    user = me()
    tab = "all" if request.args.get("tab") == "all" else "waiting"
    filters = _filters(request.args)
    choices = worklist.filter_choices(uow(), user.id)
    # no filter by place that is not on the user's page (an applicant's cases are one place,
    # a province chooses among its cities only): none applies
    unplaced = choices.ignored(filters.get("authority"))
    for name in unplaced:
        filters.pop(name, None)
    order = _sorting(request.args)
    per = request.args.get("per", type=int)
    per = per if per in PAGE_SIZES else PAGE_SIZE
    error = None
    try:
        page = cases.list_applications(uow(), user.id, waiting_on_me=tab == "waiting",
                                       limit=per, cursor=request.args.get("cursor"),
                                       before=request.args.get("before"),
                                       **filters, **order)
    except DomainError as err:
        error = err.first.message(lang())
        page = cases.list_applications(uow(), user.id, waiting_on_me=tab == "waiting",
                                       limit=per, **filters, **order)
    other = cases.list_applications(uow(), user.id, waiting_on_me=tab != "waiting", limit=1,
                                    **filters)
    counts = {tab: page.total, ("all" if tab == "waiting" else "waiting"): other.total}
    days = worklist.working_days_left(uow(), [r.due_on for r in page.items])
    settled = worklist.settled(uow(), page.items)
    holders = claims.holders(uow(), page.items) \
        if permissions.allowed(user, "case.internal") else None
    args = {k: v for k, v in request.args.items() if k in FILTERS and v and k not in unplaced}
    sorted_by = {"sort": order["sort"], "dir": "desc" if order["descending"] else "asc"}
    return render_template(
        "inbox.html", page=page, tab=tab, counts=counts, days=days, settled=settled,
        sorted_by=sorted_by, order_args=(order_args := {
            k: v for k, v in request.args.items() if k in ("sort", "dir", "per") and v}),
        per=per, page_sizes=PAGE_SIZES,
        keep_args={**args, **order_args},  # links that keep the filters and the order
        choices=choices, kind_choices=all_kinds(), programme_choices=programmes_seen(),
        holders=holders,
        args=args, error=error, states=_state_keys(), regions=choices.regions,
        bulk_triggers=_bulk_triggers(user), today=china_today(),
        is_first_page=page.prev_cursor is None,
        saved=saved_filters.list_for(uow(), user.id),
        view_args={**{k: v for k, v in keep_args_of(request.args).items() if k not in unplaced},
                   **({"tab": "all"} if tab == "all" else {})},
        save_error=session.pop(SAVE_ERROR, None))


SAVE_ERROR = "saved_filter_error"  # a refused save, shown once after the redirect


def keep_args_of(args: MultiDict[str, str]) -> dict[str, str]:
    """The inbox's filters, search and order from query arguments (no paging)."""
    return {k: v for k, v in args.items() if k in VIEW_ARGS and v}


def _inbox_of(raw: str) -> dict[str, Any]:
    """The inbox view a form posted back (`view`: its query string), known keys only."""
    args = MultiDict(parse_qsl(raw or ""))
    view: dict[str, Any] = keep_args_of(args)
    if args.get("tab") == "all":
        view["tab"] = "all"
    return view


@bp.post("/inbox/filters")
@requires("case.view")  # the inbox's own: each user's filters
def save_filter() -> Any:
    """Save the inbox's current filters, search and order under a name (per user)."""
    user = me()
    view = _inbox_of(request.form.get("view", ""))
    name = request.form.get("name", "")
    try:
        saved = saved_filters.save(uow(), user.id, name, view)
    except DomainError as err:
        session[SAVE_ERROR] = {"name": name[:200], "message": err.first.message(lang())}
        # no fragment: a URL's target would stop the browser focusing the field (autofocus)
        return redirect(url_for("views.inbox", **view), 303)
    flash(_("已保存筛选：%(name)s", name=saved.name), "success")
    return redirect(url_for("views.inbox", **view), 303)


@bp.post("/inbox/filters/<int:filter_id>/delete")
@requires("case.view")
def delete_filter(filter_id: int) -> Any:
    """Delete one of the user's saved filters; the inbox stays as it was."""
    user = me()
    name = saved_filters.delete(uow(), user.id, filter_id)
    flash(_("已删除筛选：%(name)s", name=name), "success")
    return redirect(url_for("views.inbox", **_inbox_of(request.form.get("view", ""))), 303)


@bp.post("/inbox/bulk")
@requires("case.fire")
def bulk() -> Any:
    user = me()
    trigger = request.form.get("trigger", "")
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:200]
    if trigger not in _bulk_triggers(user):
        abort(400)
    if not ids:
        flash(_("请先勾选要办理的申报"), "error")
        return redirect(request.referrer or url_for("views.inbox"))
    results = cases.bulk_fire(uow(), user.id, ids, trigger,
                              reason=request.form.get("reason") or None)
    # post/redirect/get: the results are shown by a GET, so a reload does not act again
    session["bulk_results"] = {"trigger": trigger, "results": [
        [r["id"], r["ok"], r.get("state") or "", [e.get("message_zh", "") for e in
                                                    r.get("errors", [])],
         [e.get("message_en", "") for e in r.get("errors", [])]] for r in results]}
    return redirect(url_for("views.bulk_results"), 303)


@bp.get("/inbox/bulk/results")
@requires("case.view")
def bulk_results() -> Any:
    """What the last bulk action did, case by case (once: a reload shows the inbox)."""
    user = me()
    done = session.pop("bulk_results", None)
    if not done:
        return redirect(url_for("views.inbox"))
    results = [{"id": i, "ok": ok, "state": state,
                "errors": [{"message_zh": zh, "message_en": en} for zh, en in zip(zhs, ens,
                                                                                    strict=False)]}
               for i, ok, state, zhs, ens in done["results"]]
    names = worklist.names_of(uow(), user.id, [r["id"] for r in results])
    ok_count = sum(1 for r in results if r["ok"])
    return render_template("bulk_results.html", results=results, names=names,
                           trigger=done["trigger"], ok=ok_count,
                           refused=len(results) - ok_count)


# --- case page ----------------------------------------------------------------------

def _timeline(history: list[Any], trail: list[Any]) -> list[tuple[str, Any, Any]]:
    """The case's history with its objections in it, oldest first: (kind, when, item) —
    kind `transition`, `objection_filed`, or `objection_dismissed` (an upheld objection is
    the `uphold_objection` transition itself, with its reason)."""
    out: list[tuple[str, Any, Any]] = [("transition", h.at, h) for h in history]
    for o in trail:
        out.append(("objection_filed", o.filed_at, o))
        if o.status == "dismissed" and o.resolved_at is not None:
            out.append(("objection_dismissed", o.resolved_at, o))
    return sorted(out, key=lambda e: e[1])


def _case_page(app_id: int, *, status: int = 200, typed: dict[str, Any] | None = None,
               action_errors: dict[str, list[str]] | None = None,
               conflict: dict[str, Any] | None = None,
               upload_error: str | None = None, attest_error: str | None = None) -> Any:
    user = me()
    loaded = cases.load(uow(), user.id, app_id)
    verdicts = cases.eligibility_of(uow(), user.id, app_id)
    history = cases.history_of(uow(), user.id, app_id)
    timeline = _timeline(history, objections.trail_of(uow(), user.id, app_id))
    attachments = worklist.attachment_files(uow(), user.id, app_id)
    row = loaded.row
    days = worklist.working_days_left(uow(), [row.due_on])
    settled = worklist.settled(uow(), [row])
    programme = loaded.case.programme
    diagram = diagram_svg(row.state, lambda s: state_label(s, programme),
                          lambda t: trigger_label(t, programme), _("申报流程图"), programme)
    upload_kinds = [a.kind for a in loaded.case.programme.attachable(loaded.actor.role, row.state)]
    attestable = () if not permissions.allowed(loaded.actor, "case.attest") \
        else loaded.case.programme.attestations(row.kind)
    # actions this user's role could take in this state that a guard refuses now: shown
    # disabled with the refusal, in the user's language
    refused = {t: [r.message(lang()) for r in rs] for t, rs in loaded.refused.items()}
    return render_template(
        "case.html", loaded=loaded, row=row, verdicts=verdicts, history=history,
        timeline=timeline,
        city_names=catalog.city_names(uow(), programme.form.cities_named(loaded.case.values)),
        refused=refused,
        attachments=attachments, days=days, settled=settled, diagram=diagram,
        upload_kinds=upload_kinds,
        attestable=attestable, specs=loaded.case.programme.by_trigger, typed=typed or {},
        action_errors=action_errors or {}, conflict=conflict, upload_error=upload_error,
        attest_error=attest_error, today=china_today(),
        decisions=DECISIONS,
        register_entry_id=bases.entry_id_of_case(uow(), app_id),
        products_total=sum((p.exports_10k_usd or 0) for p in row.products),
        **collaboration.case_sections(user.id, app_id),
        **supervision.case_section(user.id, app_id),
    ), status


def _refused_at(app_id: int, **shown: Any) -> Any:
    """A refused case action, attestation, upload or review fields (post/redirect/get,
    issue 17): what went wrong and what was typed, kept server-side for the case page the
    browser is sent to and shown there once (web/returns.py), however long the typing. A
    case the user may not see is not found, as its page would be."""
    cases.load(uow(), me().id, app_id)
    return returns.send_back(f"case:{app_id}", url_for("views.case", app_id=app_id), **shown)


@bp.get("/cases/<int:app_id>")
@requires("case.view", after_scope=True)
def case(app_id: int) -> Any:
    back = returns.shown_once(f"case:{app_id}")
    for section in ("comment_typed", "comment_errors", "report_typed", "report_errors"):
        if section in back:  # the case page's sections read theirs (web/collaboration.py)
            setattr(g, section, back[section])
    return _case_page(app_id, **{k: v for k, v in back.items() if k in (
        "typed", "action_errors", "conflict", "attest_error", "upload_error")})


def _parse_deadline(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.post("/cases/<int:app_id>/fire")
@requires("case.fire", after_scope=True)
def fire(app_id: int) -> Any:
    user = me()
    trigger = request.form.get("trigger", "")
    reason = request.form.get("reason", "")
    raw_deadline = request.form.get("deadline", "")
    document = request.form.get("document", "")
    override_reason = request.form.get("override_reason", "")
    late_reason = request.form.get("late_reason", "")
    typed = {"trigger": trigger, "reason": reason, "deadline": raw_deadline,
             "document": document, "override_reason": override_reason,
             "late_reason": late_reason}
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    deadline = _parse_deadline(raw_deadline)
    if raw_deadline and deadline is None:
        return _refused_at(app_id, typed=typed,
                           action_errors={trigger: [_("日期格式应为 YYYY-MM-DD")]})
    try:
        fired = cases.fire(uow(), user.id, app_id, trigger, version, reason=reason or None,
                           deadline=deadline, document=document or None,
                           override_reason=override_reason or None,
                           late_reason=late_reason or None)
    except VersionConflict:
        return _refused_at(app_id, typed=typed, conflict={"trigger": trigger})
    except NotFound:
        raise
    except DomainError as err:
        return _refused_at(app_id, typed=typed,
                           action_errors={trigger: [r.message(lang()) for r in err.refusals]})
    keep.saved(f"case:{app_id}:{trigger}")
    programme = cases.load(uow(), user.id, app_id).case.programme
    flash(_("已办理：%(action)s。当前状态：%(state)s", action=trigger_label(trigger, programme),
            state=state_label(fired.to_state, programme)), "success")
    return redirect(url_for("views.case", app_id=app_id))


@bp.post("/cases/<int:app_id>/attestations")
@requires("case.attest", after_scope=True)
def attest(app_id: int) -> Any:
    user = me()
    values: dict[str, bool | None] = {}
    loaded = cases.load(uow(), user.id, app_id)
    # the criteria a reviewer confirms, as the case's programme names them
    for name in loaded.case.programme.attestations(loaded.row.kind):
        raw = request.form.get(f"att-{name}")
        if raw is not None:
            values[name] = {"yes": True, "no": False}.get(raw)
    try:
        version = int(request.form.get("version", ""))
        cases.set_attestations(uow(), user.id, app_id, values, version)
    except ValueError:
        return _refused_at(app_id, attest_error=_("缺少版本号，请刷新页面"))
    except VersionConflict:
        return _refused_at(app_id, conflict={"trigger": "attestations"})
    except NotFound:
        raise
    except DomainError as err:
        return _refused_at(app_id, attest_error=err.first.message(lang()))
    flash(_("评估条件确认已保存"), "success")
    return redirect(url_for("views.case", app_id=app_id) + "#eligibility")


@bp.post("/cases/<int:app_id>/attachments")
@UPLOAD_LIMIT
@requires("case.attach", after_scope=True)
def upload(app_id: int) -> Any:
    """Upload one file; a refusal is shown once next to the file field of the page it came
    from — the case page or the draft's form (`back=edit`) — after a 303 to it."""
    user = me()
    settings = current_app.config["SETTINGS"]
    kind = request.form.get("kind", "")
    back_to_form = request.form.get("back") == "edit"
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            from workflow.errors import ValidationFailed, refuse

            raise ValidationFailed(refuse("required", "请选择要上传的文件",
                                          "choose a file to upload", field="file"))
        files.attach(uow(), user.id, app_id, kind, file.filename, file.read(),
                     settings.upload_dir, settings.max_upload_mb * 1024 * 1024)
    except NotFound:
        raise
    except DomainError as err:
        message = err.first.message(lang())
        if back_to_form:
            from web.forms import upload_refused_at  # web.forms imports this module

            return upload_refused_at(app_id, message, kind)
        return _refused_at(app_id, upload_error=message)
    flash(_("已上传：%(name)s", name=file.filename), "success")
    if back_to_form:
        return redirect(url_for("forms.edit_application", app_id=app_id) + "#attachments")
    return redirect(url_for("views.case", app_id=app_id) + "#attachments")


@bp.get("/cases/<int:app_id>/attachments/<int:attachment_id>")
@requires("case.view", after_scope=True)
def download(app_id: int, attachment_id: int) -> Response:
    """The stored file, as a download, only to someone who may see its case."""
    user = me()
    settings = current_app.config["SETTINGS"]
    att, path = worklist.attachment_for_download(uow(), user.id, app_id, attachment_id,
                                                 settings.upload_dir)
    response = send_file(path, mimetype=att.content_type, as_attachment=True,
                         download_name=att.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# A file shown inside the case page: only this site may frame it; an image loads nothing
# else. A PDF keeps the browser's own viewer working (it is an internal plugin that a
# `default-src 'none'` on the document may block), its type checked by content at upload.
PREVIEW_CSP = {"application/pdf": "frame-ancestors 'self'",
               "image/png": "default-src 'none'; frame-ancestors 'self'",
               "image/jpeg": "default-src 'none'; frame-ancestors 'self'"}


@bp.get("/cases/<int:app_id>/attachments/<int:attachment_id>/preview")
@requires("case.view", after_scope=True)
def preview(app_id: int, attachment_id: int) -> Any:
    """A PDF or an image, shown in the page (inline), only to someone who may see its case;
    other types are downloaded, never shown."""
    user = me()
    settings = current_app.config["SETTINGS"]
    att, path = worklist.attachment_for_download(uow(), user.id, app_id, attachment_id,
                                                 settings.upload_dir)
    if att.content_type not in files.PREVIEWABLE or att.content_type not in PREVIEW_CSP:
        return render_template("error.html", status=404,
                               message=_("该类型的文件不能在线预览，请下载后查看")), 404
    response = send_file(path, mimetype=att.content_type, as_attachment=False,
                         download_name=att.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP[att.content_type]
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def reason_required(trigger: str) -> bool:
    spec = transition_def(trigger)
    return spec is not None and spec.reason_required


bp.add_app_template_global(reason_required, "reason_required")
bp.add_app_template_global(is_en, "is_en")
