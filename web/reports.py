"""Reporting and re-evaluation pages (002 §四(四), §六(三)): quarterly data (form, Excel
upload, template), annual reports, reference statistics, assessment runs and their
confirmation, and the programme view (trend per base, share by region vs the 70 % goal)."""

from __future__ import annotations

from decimal import Decimal
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

from web import errors, returns
from web.auth import current_user, requires
from web.extensions import uow
from web.i18n import lang
from web.security import UPLOAD_LIMIT
from workflow import permissions
from workflow.assessment import AssessmentRules
from workflow.errors import DomainError, ValidationFailed, refuse
from workflow.form import Field
from workflow.programme import DEFAULT_CODE, known
from workflow.regions import Region
from workflow.services import assessment, dashboard, reports, supervision
from workflow.services.clock import today
from workflow.storage.models import UserRow

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENTERPRISE = "ent_"  # a key enterprise's inputs on the quarter form: ent_name, ent_<column>


def _user() -> UserRow:
    user = current_user()
    if user is None:
        abort(401)
    return user


def column_label(f: Field) -> str:
    """A quarterly column's heading in the page's language, with its unit (from the
    programme's `[[quarterly.columns]]`)."""
    if lang() == "en":
        return f"{f.en} ({f.unit_en})" if f.unit_en else f.en
    return f"{f.zh}（{f.unit_zh}）" if f.unit_zh else f.zh


bp.add_app_template_global(column_label, "column_label")


def _max_bytes() -> int:
    return int(current_app.config["SETTINGS"].max_upload_mb) * 1024 * 1024


@bp.get("/")
@requires("reports.view")
def index() -> Any:
    user = _user()
    bases = reports.bases_for(uow(), user.id)
    return render_template("reports/index.html", user=user, bases=bases)


def _form(app_id: int) -> str:
    """The base's page's forms, whose refusals come back to it (web/returns.py)."""
    return f"reports:{app_id}"


def _refused(app_id: int, **shown: Any) -> Any:
    """Post/redirect/get: the base's page again, with what was typed and why not."""
    return returns.send_back(_form(app_id), url_for("reports.base", app_id=app_id), **shown)


def _base_page(app_id: int, **extra: Any) -> Any:
    user = _user()
    # a base of a programme without [assessment] still files its quarters (if its programme
    # asks for them) and is told it is not re-evaluated
    try:
        page = reports.base_reports(uow(), user.id, app_id)
    except DomainError as err:
        if err.first.code == "not_re_evaluated":  # no reports, no re-evaluation
            return errors.page(409, err.first.message(lang()), _("不进行复评"))
        abort(404 if err.status == 404 else 403)
    why = page.not_re_evaluated
    ctx = {"user": user, "base": page.base, "quarters": page.quarters, "annual": page.annual,
           "columns": page.columns, "evaluations": page.evaluations,
           "no_re_evaluation": why.message(lang()) if why is not None else None,
           "can_report": permissions.allowed(user, "reports.file"),
           "form": {}, "errors": [], "upload_errors": [], "annual_errors": [],
           "annual_form": {}, "this_year": today().year}
    ctx.update(extra)
    return render_template("reports/base.html", **ctx)


@bp.get("/bases/<int:app_id>")
@requires("reports.view")
def base(app_id: int) -> Any:
    back = returns.shown_once(_form(app_id))
    for name in ("errors", "upload_errors", "annual_errors"):
        if name in back:
            back[name] = returns.refusals_of(back[name])
    return _base_page(app_id, **{k: v for k, v in back.items() if k in (
        "form", "errors", "upload_errors", "annual_form", "annual_errors")})


def _quarter_typed() -> dict[str, Any]:
    """The quarter as typed in the form, whose inputs the base's programme's columns name
    (`[[quarterly.columns]]`; a key enterprise's `ent_<column>`, one per row): the service
    reads the base once, with its columns, and refuses a name they do not define."""
    f = request.form
    data: dict[str, Any] = {k: v for k, v in f.items()
                            if k != "csrf_token" and not k.startswith(ENTERPRISE)}
    figures = {k.removeprefix(ENTERPRISE): f.getlist(k) for k in f if k.startswith(ENTERPRISE)}
    names = figures.pop("name", [])
    data["enterprises"] = [
        {"name": n, **{k: (v[i] if i < len(v) else "") for k, v in figures.items()}}
        for i, n in enumerate(names)]
    return data


@bp.post("/bases/<int:app_id>/quarter")
@requires("reports.file")
def submit_quarter(app_id: int) -> Any:
    data = _quarter_typed()
    try:
        rev = reports.submit_quarter(uow(), _user().id, app_id, data)
    except DomainError as err:
        if err.status != 422:
            abort(err.status)
        return _refused(app_id, form=data, errors=returns.as_json(err.refusals))
    flash(_("%(year)s 年第 %(quarter)s 季度数据已保存（第 %(rev)s 版）", year=data["year"],
            quarter=data["quarter"], rev=rev), "success")
    return redirect(url_for("reports.base", app_id=app_id))


@bp.post("/bases/<int:app_id>/upload")
@UPLOAD_LIMIT
@requires("reports.file")
def upload(app_id: int) -> Any:
    file = request.files.get("file")
    name, content = (file.filename or "", file.read()) if file else ("", b"")
    try:
        stored = reports.upload_quarters(uow(), _user().id, app_id, name, content, _max_bytes())
    except DomainError as err:
        if err.status != 422:
            abort(err.status)
        return _refused(app_id, upload_errors=returns.as_json(err.refusals))
    flash(_("已导入 %(n)s 个季度的数据", n=len(stored)), "success")
    return redirect(url_for("reports.base", app_id=app_id))


@bp.get("/template.xlsx")
@bp.get("/bases/<int:app_id>/template.xlsx")
@requires("reports.view")
def template(app_id: int | None = None) -> Any:
    """The blank template of notice 002's programme, or of `?programme=<code>`; a base's
    own, pre-filled."""
    code = request.args.get("programme") or None
    if code is not None and code not in {p.code for p in known()}:
        abort(404)
    try:
        data = reports.template_for(uow(), _user().id, app_id, code)
    except DomainError as err:
        abort(err.status)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": "attachment; filename=quarterly-data-template.xlsx"})


@bp.post("/bases/<int:app_id>/annual")
@UPLOAD_LIMIT
@requires("reports.file")
def annual(app_id: int) -> Any:
    f = request.form
    data = {k: f.get(k, "") for k in ("year", "summary", "next_year_plan",
                                      "policies_in_force", "project_funding_10k_cny")}
    file = request.files.get("file")
    name, content = (file.filename or "", file.read()) if file else ("", b"")
    try:
        reports.submit_annual_report(uow(), _user().id, app_id, data, name, content,
                                     current_app.config["SETTINGS"].upload_dir, _max_bytes())
    except DomainError as err:
        if err.status != 422:
            abort(err.status)
        return _refused(app_id, annual_form=data, annual_errors=returns.as_json(err.refusals))
    flash(_("年度工作报告已提交"), "success")
    return redirect(url_for("reports.base", app_id=app_id))


# --- the ministry ------------------------------------------------------------------------

@bp.route("/reference", methods=["GET", "POST"])
@requires("reports.reference_view")
def reference() -> Any:
    user = _user()
    if request.method == "GET":
        back = returns.shown_once(REFERENCE)  # a refused save: what was typed, and why
        return _reference_page(user, returns.refusals_of(back.get("errors")),
                               back.get("form") or {},
                               returns.refusals_of(back.get("locality_errors")))
    if not permissions.allowed(user, "reports.reference"):
        abort(403)
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if form.get("what") in ("locality", "locality_csv"):
        return _save_localities(user, form)
    data: dict[str, Any] = {k: form.get(k) for k in ("national_hightech_exports_100m_usd",
                                                      "national_hightech_growth_pct")}
    data["region_export_growth_pct"] = {r.value: form.get(f"region_{r.value}")
                                        for r in Region}
    try:
        if not (form.get("year") or "").isdigit():
            raise ValidationFailed(refuse("invalid_year", "年度无效", "Invalid year",
                                          field="year"))
        year = int(form["year"])
        reports.save_reference_stats(uow(), user.id, year, data)
    except DomainError as err:  # post/redirect/get: the page again, as typed, with why
        return returns.send_back(REFERENCE, url_for("reports.reference"), form=form,
                                 errors=returns.as_json(err.refusals))
    flash(_("%(year)s 年参考统计数据已保存", year=year), "success")
    return redirect(url_for("reports.reference"))


REFERENCE = "reports:reference"  # the ministry's statistics forms (web/returns.py)


def _reference_page(user: UserRow, errors: list[Any], form: dict[str, Any],
                    locality_errors: list[Any] | None = None) -> Any:
    return render_template("reports/reference.html", user=user,
                           rows=reports.reference_stats(uow(), user.id),
                           localities=reports.locality_stats(uow(), user.id),
                           columns=reports.LOCALITY_COLUMNS, regions=list(Region),
                           errors=errors, form=form, locality_errors=locality_errors or [])


def _save_localities(user: UserRow, form: dict[str, Any]) -> Any:
    """One authority's figure, or a CSV of many (002 §六(二)(3) 本地区外贸出口增幅)."""
    try:
        if form["what"] == "locality_csv":
            upload = request.files.get("csv_file")
            text = upload.read().decode("utf-8-sig") if upload and upload.filename else ""
            saved = reports.import_locality_csv(uow(), user.id, text or form.get("csv", ""))
        else:
            saved = reports.save_locality_stats(uow(), user.id, [
                {k: form.get(k) for k in reports.LOCALITY_COLUMNS}])
    except UnicodeDecodeError:
        refused = [refuse("invalid_encoding", "文件须为 UTF-8 编码的 CSV",
                          "The file must be CSV in UTF-8", field="csv_file")]
        return returns.send_back(REFERENCE, url_for("reports.reference"), form=form,
                                 locality_errors=returns.as_json(refused))
    except DomainError as err:
        return returns.send_back(REFERENCE, url_for("reports.reference"), form=form,
                                 locality_errors=returns.as_json(err.refusals))
    flash(_("已保存 %(n)s 条本地区统计数据", n=saved), "success")
    return redirect(url_for("reports.reference"))


@bp.get("/assessment")
@requires("assessment.run")
def runs() -> Any:
    user = _user()
    return render_template("reports/runs.html", user=user,
                           runs=assessment.runs(uow(), user.id),
                           programmes=sorted(known(), key=lambda p: p.code != DEFAULT_CODE),
                           default_period=assessment.default_period(today()),
                           this_year=today().year)


@bp.post("/assessment/run")
@requires("assessment.run")
def start_run() -> Any:
    from tasks.assessment import queue

    user = _user()
    try:
        period = int(request.form.get("period") or 0)
        run_id = assessment.request_run(uow(), user.id, period, queue)
    except (ValueError, DomainError) as err:
        flash(err.first.message(lang()) if isinstance(err, DomainError) else _("年度无效"),
              "error")
        return redirect(url_for("reports.runs"))
    flash(_("第 %(id)s 批评估已开始（%(period)s 年度），完成后可在此确认建议", id=run_id,
            period=period), "success")
    return redirect(url_for("reports.runs"))


@bp.get("/assessment/preview")
@requires("assessment.run")
def preview() -> Any:
    user = _user()
    try:
        period = int(request.args.get("period") or assessment.default_period(today()))
        result = assessment.preview(uow(), user.id, period)
    except (ValueError, DomainError):
        abort(422)
    items = sorted(result.items, key=lambda t: (t[0].proposal == "keep", t[2], t[1]))
    return render_template("reports/preview.html", user=user, result=result, items=items)


@bp.get("/assessment/<int:period>")
@requires("assessment.run")
def proposals(period: int) -> Any:
    user = _user()
    proposal = request.args.get("proposal") or None
    rows = assessment.proposals(uow(), user.id, period, proposal=proposal)
    return render_template("reports/proposals.html", user=user, period=period, rows=rows,
                           proposal=proposal, results=None, **_provincial(user.id, period))


@bp.post("/assessment/<int:period>/confirm")
@requires("assessment.run")
def confirm(period: int) -> Any:
    user = _user()
    ids = [int(i) for i in request.form.getlist("evaluation_id") if i.isdigit()]
    results = assessment.confirm(uow(), user.id, ids)
    rows = assessment.proposals(uow(), user.id, period)
    ok = sum(1 for r in results if r["ok"])
    extra = _provincial(user.id, period)
    flash(_("已确认 %(ok)s 项，未通过 %(bad)s 项", ok=ok, bad=len(results) - ok),
          "success" if ok == len(results) else "error")
    return render_template("reports/proposals.html", user=user, period=period, rows=rows,
                           proposal=None, results=results, **extra)


def _provincial(user_id: int, period: int) -> dict[str, Any]:
    """The provinces' suggestions beside the proposals (002 §六(三)), and the labels."""
    return {"provincial": supervision.suggestions(uow(), user_id, period),
            "suggestion_zh": supervision.SUGGESTION_ZH,
            "suggestion_en": supervision.SUGGESTION_EN}


@bp.get("/programme")
@requires("reports.programme")
def programme() -> Any:
    user = _user()
    year = request.args.get("year", type=int) or assessment.default_period(today())
    share = assessment.programme_share(uow(), user.id, year)
    marks = dashboard.marks_by_round(uow(), user.id)
    return render_template("reports/programme.html", user=user, share=share, year=year,
                           marks=marks,
                           goal=AssessmentRules().programme_share_goal_pct,
                           zero=Decimal(0))
