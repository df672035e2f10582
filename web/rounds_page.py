"""申报年度 (/rounds): every round with its status and calendar; the ministry plans a round,
changes it while it is planned, opens and closes it — the same service as /api/v1/rounds
and `flask rounds` (docs/rounds.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from web import returns
from web.auth import requires
from web.extensions import uow
from web.i18n import lang
from web.views import me
from workflow import rounds as round_rules
from workflow.errors import DomainError, Refusal
from workflow.programme import DEFAULT_CODE, known, programme
from workflow.rules import FIELD_ZH
from workflow.services import catalog, rounds

bp = Blueprint("rounds_page", __name__)


def _typed(form: Any) -> dict[str, Any]:
    """What the official typed, as the service takes it (and to show again on an error)."""
    data: dict[str, Any] = {k: form.get(k, "").strip() for k in (
        "name_zh", "name_en", "provincial_internal_deadline", "submission_deadline",
        "approval_deadline", "notice_working_days", "national_new_target")}
    data["new_base_fields"] = form.getlist("new_base_fields")
    data["quota_overrides"] = form.get("quota_overrides", "")
    return data


def _service_input(typed: dict[str, Any]) -> dict[str, Any]:
    """The form's values for the service: blank optional fields left out (the quota lines
    `代码=名额` go as typed: the rules check them with the rest, all errors at once)."""
    data = {k: v for k, v in typed.items() if v != ""}
    data.setdefault("provincial_internal_deadline", "")
    data.setdefault("quota_overrides", "")
    if not typed["new_base_fields"]:
        data["new_base_fields"] = []
    return data


def _errors_by_field(refusals: list[Refusal]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in refusals:
        key = (r.field or "_form").split(".")[0]
        out.setdefault(key, []).append(r.message(lang()))
    return out


def _render_form(template: str, **kw: Any) -> Any:
    # a new round's form starts from what the programme's file says ([rounds])
    starts = programme(kw.get("code") or _code()).round_rules(2006)
    return render_template(template, fields=FIELD_ZH, starts=starts, **kw)


def programme_arg(code: str) -> str | None:
    """`?programme=` for a round's links: none for notice 002's (the default)."""
    return None if code == DEFAULT_CODE else code


bp.add_app_template_global(programme_arg, "programme_arg")


def _code() -> str:
    """The programme whose round this is (`?programme=`; notice 002's unless named)."""
    code = (request.values.get("programme") or "").strip()
    return code if code in {p.code for p in known()} else DEFAULT_CODE


def _kept_code(kept: list[Any]) -> str:
    """The programme a new round is for: the one named, if this official keeps it, else
    the first they keep (a province keeps only its own)."""
    code = _code()
    return code if not kept or code in {p.code for p in kept} else kept[0].code


@bp.get("/rounds")
@requires("catalog.view")
def index() -> Any:
    user = me()
    kept = rounds.programmes_kept_by(uow(), user.id)
    return render_template("rounds/index.html", rounds=catalog.rounds(uow(), user.id),
                           may_keep=bool(kept), kept=kept, programmes={p.code: p for p in known()})


@bp.get("/rounds/new")
@requires("rounds.manage")
def new() -> Any:
    kept = rounds.programmes_kept_by(uow(), me().id)
    if not kept:
        return render_template("error.html", status=403,
                               message=_("只有商务部科技司可以设立申报年度")), 403
    back = returns.shown_once(f"rounds:new:{_code()}")  # a refused plan: typed, and why
    return _render_form("rounds/form.html", typed=back.get("typed"),
                        errors=back.get("errors") or {}, year=None, kept=kept,
                        code=_kept_code(kept))


@bp.post("/rounds")
@requires("rounds.manage")
def create() -> Any:
    typed = _typed(request.form)
    typed["year"] = request.form.get("year", "").strip()
    data = {**_service_input(typed), "programme": _code()}
    try:
        made = rounds.plan(uow(), me().id, data)
    except DomainError as err:
        errors = err.refusals
    else:
        _flash_warnings(made.warnings)
        flash(_("%(year)s年度已设立（计划中），开放前仍可修改", year=made.row.year), "success")
        return redirect(url_for("rounds_page.show", year=made.row.year,
                                programme=programme_arg(made.row.programme)), 303)
    # post/redirect/get: the new round's form again, as typed, each error by its field
    return returns.send_back(f"rounds:new:{_code()}",
                             url_for("rounds_page.new", programme=programme_arg(_code())),
                             typed=typed, errors=_errors_by_field(errors))


@bp.get("/rounds/<int:year>")
@requires("catalog.view")
def show(year: int) -> Any:
    user = me()
    found = catalog.round_of(uow(), user.id, year, _code())
    back = returns.shown_once(f"rounds:{year}:{_code()}")  # a refused change: typed, and why
    return _render_form("rounds/show.html", r=found, typed=back.get("typed"),
                        errors=back.get("errors") or {},
                        warnings=[] if back else round_rules.warnings(found.rules, _calendar()),
                        may_keep=rounds.may_keep_rounds(uow(), user.id, _code()))


def _calendar() -> Any:
    from workflow.storage import reference_repo

    with uow().read() as u:
        return reference_repo.load_calendar(u.session)


@bp.post("/rounds/<int:year>")
@requires("rounds.manage")
def update(year: int) -> Any:
    user = me()
    typed = _typed(request.form)
    try:
        changed = rounds.change(uow(), user.id, year, _service_input(typed), code=_code())
    except DomainError as err:
        errors = err.refusals
    else:
        _flash_warnings(changed.warnings)
        flash(_("已保存"), "success")
        return redirect(url_for("rounds_page.show", year=year, programme=programme_arg(_code())), 303)
    catalog.round_of(uow(), user.id, year, _code())  # a round one may not see: not found
    # post/redirect/get: the round's page again, as typed, each error by its field
    return returns.send_back(f"rounds:{year}:{_code()}",
                             url_for("rounds_page.show", year=year,
                                     programme=programme_arg(_code())),
                             typed=typed, errors=_errors_by_field(errors))


@bp.post("/rounds/<int:year>/open")
@requires("rounds.manage")
def open_round(year: int) -> Any:
    try:
        opened = rounds.open_round(uow(), me().id, year, code=_code())
    except DomainError as err:
        for r in err.refusals:
            flash(r.message(lang()), "error")
    else:
        _flash_warnings(opened.warnings)
        flash(_("%(year)s年度已开放申报，规则自即日起冻结", year=year), "success")
    return redirect(url_for("rounds_page.show", year=year, programme=programme_arg(_code())), 303)


@bp.post("/rounds/<int:year>/close")
@requires("rounds.manage")
def close_round(year: int) -> Any:
    try:
        rounds.close_round(uow(), me().id, year, code=_code())
    except DomainError as err:
        for r in err.refusals:
            flash(r.message(lang()), "error")
    else:
        flash(_("%(year)s年度已结束：不再接受新申报，未办结的申报不再提醒，已认定基地照常报送数据",
                year=year), "success")
    return redirect(url_for("rounds_page.show", year=year, programme=programme_arg(_code())), 303)


def _flash_warnings(warnings: list[Refusal]) -> None:
    for w in warnings:
        flash(w.message(lang()), "warning")
