"""The three separated admin roles' pages (三员分立, GB/T 22239-2019 8.1.4.2 c/d):

- 系统管理员 (system admin): accounts (open, disable, reset passwords), the tree of
  authorities (prefecture-level cities under the provinces) and backups;
- 安全管理员 (security admin): security settings, roles and scopes, lockouts, second factors;
- 审计管理员 (auditor): read-only audit search and export.

Each page admits one role only, and the services check again. None of them can act on a
case, and nothing here edits or deletes an audit record.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
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

from web import returns
from web.auth import current_user, requires
from web.extensions import uow
from workflow.authorities import PARENT_KINDS
from workflow.errors import DomainError
from workflow.regions import Region
from workflow.roles import ADMIN_ROLES, CASE_ROLES, ROLE_ZH, Role
from workflow.services import audit, authorities, security_policy, user_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")

SYSTEM = Role.SYSTEM_ADMIN.value
SECURITY = Role.SECURITY_ADMIN.value
AUDITOR = Role.AUDITOR.value
HOME = {SYSTEM: "admin.accounts_page", SECURITY: "admin.security", AUDITOR: "admin.audit_log"}


def _me() -> int:
    user = current_user()
    assert user is not None
    return user.id


def _lang() -> str:
    return session.get("lang", "zh")


def _render(template: str, status: int = 200, **ctx: Any) -> Any:
    # the authorities an account may be attached to: the tree, inactive cities left out
    choices = [a for a in authorities.tree(uow(), _me()) if a.is_active]
    return render_template(template, roles=ROLE_ZH, authorities=choices, lang=_lang(),
                           done=request.args.get("done"), **ctx), status


def _refused(err: DomainError) -> None:
    """A DomainError from a service, as the HTTP status it stands for."""
    abort(err.status if err.status in (403, 404) else 422)


@bp.get("/")
@requires("admin.home")
def home() -> Any:
    user = current_user()
    assert user is not None
    return redirect(url_for(HOME[user.role]))  # each admin's landing page


# --- 系统管理员 ----------------------------------------------------------------------------

def _accounts_page(errors: list[Any] | None = None, typed: dict[str, Any] | None = None,
                   status: int = 200) -> Any:
    users, locked = user_admin.list_users(uow(), _me())
    return _render("admin/accounts.html", status, users=users, locked=locked,
                   errors=errors or [], typed=typed or {},
                   case_roles=[r for r in Role if r in CASE_ROLES])


# a refused form comes back to its page once, with what was typed (web/returns.py; never a
# password): post/redirect/get for every admin form (issue 17)
ACCOUNTS, AUTHORITIES, SECURITY, ROLES = ("admin:accounts", "admin:authorities",
                                          "admin:security", "admin:roles")


def _back(form: str, endpoint: str, err: DomainError, typed: dict[str, Any] | None = None,
          **extra: Any) -> Any:
    """A refused admin form: 403 and 404 as such, anything else back to its page (303)."""
    if err.status in (403, 404):
        _refused(err)
    return returns.send_back(form, url_for(endpoint), errors=returns.as_json(err.refusals),
                             typed=typed or {}, **extra)


@bp.get("/accounts")
@requires("accounts.admin")
def accounts_page() -> Any:
    back = returns.shown_once(ACCOUNTS)
    return _accounts_page(returns.refusals_of(back.get("errors")), back.get("typed"))


@bp.post("/accounts")
@requires("accounts.admin")
def create_account() -> Any:
    data = {k: request.form.get(k, "") for k in ("username", "display_name", "email", "role",
                                                 "authority", "organisation", "password")}
    try:
        user_admin.create_user(uow(), _me(), data)
    except DomainError as err:
        data.pop("password")
        return _back(ACCOUNTS, "admin.accounts_page", err, data)
    return redirect(url_for("admin.accounts_page", done="created"))


@bp.post("/accounts/<int:user_id>/disable")
@requires("accounts.admin")
def disable_account(user_id: int) -> Any:
    return _set_active(user_id, False)


@bp.post("/accounts/<int:user_id>/enable")
@requires("accounts.admin")
def enable_account(user_id: int) -> Any:
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> Any:
    try:
        user_admin.set_active(uow(), _me(), user_id, active)
    except DomainError as err:
        _refused(err)
    return redirect(url_for("admin.accounts_page", done="enabled" if active else "disabled"))


@bp.post("/accounts/<int:user_id>/reset-password")
@requires("accounts.admin")
def reset_password(user_id: int) -> Any:
    try:
        user_admin.reset_password(uow(), _me(), user_id, request.form.get("password", ""))
    except DomainError as err:
        return _back(ACCOUNTS, "admin.accounts_page", err)
    return redirect(url_for("admin.accounts_page", done="password_reset"))


@bp.get("/backups")
@requires("backups.view")
def backups() -> Any:
    return _render("admin/backups.html")


# --- 系统管理员: the tree of authorities -----------------------------------------------------

CITY_FIELDS = ("code", "name_zh", "name_en", "parent", "region")


def _authorities_page(errors: list[Any] | None = None, typed: dict[str, Any] | None = None,
                      status: int = 200, imported: authorities.Imported | None = None) -> Any:
    tree = authorities.listing(uow(), _me())
    return _render("admin/authorities.html", status, tree=tree,
                   parents=[a for a in tree if not a.is_city and a.kind in PARENT_KINDS],
                   regions=list(Region), errors=errors or [], typed=typed or {},
                   imported=imported)


def _tree_refused(err: DomainError, typed: dict[str, Any] | None = None) -> Any:
    if err.status == 404:  # no such city: the tree, said so, at this address
        return _authorities_page(err.refusals, typed, 404)
    return _back(AUTHORITIES, "admin.authorities_page", err, typed)


@bp.get("/authorities")
@requires("authorities.admin")
def authorities_page() -> Any:
    back = returns.shown_once(AUTHORITIES)
    return _authorities_page(returns.refusals_of(back.get("errors")), back.get("typed"),
                             imported=back.get("imported"))


@bp.post("/authorities")
@requires("authorities.admin")
def add_city() -> Any:
    data = {k: request.form.get(k, "") for k in CITY_FIELDS}
    try:
        authorities.add_city(uow(), _me(), data)
    except DomainError as err:
        return _tree_refused(err, data)
    return redirect(url_for("admin.authorities_page", done="city_added"))


@bp.post("/authorities/import")
@requires("authorities.admin")
def import_cities() -> Any:
    upload = request.files.get("file")
    name, content = (upload.filename or "", upload.read()) if upload else ("", b"")
    max_bytes = current_app.config["SETTINGS"].max_upload_mb * 1024 * 1024
    try:
        done = authorities.import_list(uow(), _me(), name, content, max_bytes)
    except DomainError as err:
        return _tree_refused(err)
    # what the import did, on the page it came from (a reload imports nothing again)
    return returns.send_back(AUTHORITIES, url_for("admin.authorities_page"),
                             imported=done.as_dict())


@bp.post("/authorities/<string(maxlength=20):code>")
@requires("authorities.admin")
def change_city(code: str) -> Any:
    data = {k: request.form.get(k, "") for k in ("name_zh", "name_en", "region")}
    try:
        authorities.change_city(uow(), _me(), code, data)
    except DomainError as err:
        return _tree_refused(err)
    return redirect(url_for("admin.authorities_page", done="city_changed"))


@bp.post("/authorities/<string(maxlength=20):code>/deactivate")
@requires("authorities.admin")
def deactivate_city(code: str) -> Any:
    return _set_city_active(code, False)


@bp.post("/authorities/<string(maxlength=20):code>/activate")
@requires("authorities.admin")
def activate_city(code: str) -> Any:
    return _set_city_active(code, True)


def _set_city_active(code: str, active: bool) -> Any:
    try:
        authorities.set_active(uow(), _me(), code, active)
    except DomainError as err:
        return _tree_refused(err)
    return redirect(url_for("admin.authorities_page",
                            done="city_activated" if active else "city_deactivated"))


@bp.post("/authorities/<string(maxlength=20):code>/delete")
@requires("authorities.admin")
def delete_city(code: str) -> Any:
    try:
        authorities.delete_city(uow(), _me(), code)
    except DomainError as err:
        return _tree_refused(err)
    return redirect(url_for("admin.authorities_page", done="city_deleted"))


# --- 安全管理员 ----------------------------------------------------------------------------

@bp.route("/security", methods=["GET", "POST"])
@requires("security.admin")
def security() -> Any:
    if request.method == "POST":
        try:
            user_admin.update_policy(uow(), _me(), dict(request.form))
        except DomainError as err:
            return _back(SECURITY, "admin.security", err,
                         {k: v for k, v in request.form.items() if k != "csrf_token"})
        return redirect(url_for("admin.security", done="saved"))
    back = returns.shown_once(SECURITY)
    errors = returns.refusals_of(back.get("errors"))
    current = security_policy.policy(uow())
    typed: dict[str, Any] = back.get("typed") or {} if errors else asdict(current)
    return _render("admin/security.html", 200, policy=current,
                   typed=typed, errors=errors, labels=security_policy.POLICY_ZH,
                   limits=security_policy.LIMITS)


def _roles_page(errors: list[Any] | None = None, status: int = 200) -> Any:
    users, locked = user_admin.list_users(uow(), _me())
    return _render("admin/roles.html", status, users=users, locked=locked,
                   errors=errors or [], all_roles=[r for r in Role],
                   admin_roles=ADMIN_ROLES)


@bp.get("/roles")
@requires("security.admin")
def roles() -> Any:
    back = returns.shown_once(ROLES)
    errors = returns.refusals_of(back.get("errors"))
    return _roles_page(errors)


@bp.post("/roles/<int:user_id>")
@requires("security.admin")
def set_role(user_id: int) -> Any:
    try:
        user_admin.set_role(uow(), _me(), user_id, request.form.get("role", ""),
                          request.form.get("authority") or None)
    except DomainError as err:
        return _back(ROLES, "admin.roles", err)
    return redirect(url_for("admin.roles", done="role_changed"))


@bp.post("/roles/<int:user_id>/unlock")
@requires("security.admin")
def unlock(user_id: int) -> Any:
    try:
        user_admin.unlock(uow(), _me(), user_id)
    except DomainError as err:
        _refused(err)
    return redirect(url_for("admin.roles", done="unlocked"))


@bp.post("/roles/<int:user_id>/reset-totp")
@requires("security.admin")
def reset_totp(user_id: int) -> Any:
    try:
        user_admin.reset_totp(uow(), _me(), user_id)
    except DomainError as err:
        _refused(err)
    return redirect(url_for("admin.roles", done="totp_reset"))


# --- 审计管理员 ----------------------------------------------------------------------------

FILTERS = (*audit.SEARCH_FIELDS, "since", "until")


def _filters(source: Any) -> dict[str, str]:
    return {k: str(source.get(k) or "")[:100] for k in FILTERS if source.get(k)}


@bp.get("/audit")
@requires("audit.read")
def audit_log() -> Any:
    filters = _filters(request.args)
    before = request.args.get("before", type=int)
    errors: list[Any] = []
    rows: list[Any] = []
    try:
        rows = audit.search(uow(), _me(), filters, before_id=before, limit=101)
    except DomainError as err:
        if err.status in (403, 404):
            _refused(err)
        errors = err.refusals
    more = len(rows) > 100
    rows = rows[:100]
    return _render("admin/audit.html", 422 if errors else 200, rows=rows, filters=filters,
                   errors=errors, more=more, events=audit.event_names(uow(), _me()))


@bp.post("/audit/export")
@requires("audit.read")
def audit_export() -> Any:
    """Download the matching records (a POST: the export itself is audited)."""
    fmt = request.form.get("format", "csv")
    filters = _filters(request.form)
    try:
        if fmt == "xlsx":
            body = audit.export_xlsx(uow(), _me(), filters)
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            fmt = "csv"
            body = audit.export_csv(uow(), _me(), filters)
            mime = "text/csv; charset=utf-8"
    except DomainError as err:
        if err.status in (403, 404):
            _refused(err)
        return redirect(url_for("admin.audit_log", **filters))  # type: ignore[arg-type]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"'})
