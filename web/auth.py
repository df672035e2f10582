"""Login (password, then a one-time code when enrolled), logout, the user's own password
and second factor; `requires(action)` (`workflow.permissions`) and `current_user` for views.

A session holds the user's id, their session epoch (bumped by logout, a password change,
disabling or a role change, which ends every session and login token of that user at
once), when it started and when it was last used (idle 30 min, absolute 12 h by default,
by the machine's clock: `APP_NOW` does not stop it).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from web.errors import page as error_page
from web.extensions import client_ip, settings, uow
from web.i18n import lang
from web.security import LOGIN_LIMITS
from workflow import permissions
from workflow.errors import DomainError
from workflow.services import (
    authentication,
    lockout,
    passwords,
    second_factor,
    security_policy,
    sessions,
)
from workflow.services.clock import real_utcnow
from workflow.storage.models import UserRow

bp = Blueprint("auth", __name__)

PENDING_SECONDS = 300  # between the password and the one-time code
# pages a user may still open while they must change their password or enrol TOTP
ALWAYS_ALLOWED = {"auth.login", "auth.login_otp", "auth.logout", "auth.change_password",
                  "auth.enrol_totp", "auth.recovery_codes", "auth.set_language", "static"}
# authenticator apps that read the QR code (named on the enrolment page)
AUTHENTICATOR_APPS = ("腾讯身份验证器", "Microsoft Authenticator", "Google Authenticator",
                      "FreeOTP")


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])


class OtpForm(FlaskForm):
    # a 6-digit code, or a recovery code "xxxxx-xxxxx" (spaces tolerated)
    otp = StringField(_l("动态口令或恢复码"), validators=[DataRequired(), Length(min=6, max=24)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("确认新密码"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("两次输入的新密码不一致"))])
    # login tokens always end with the password; personal tokens only if the user says so
    revoke_personal_tokens = BooleanField(_l("同时吊销我的全部个人访问令牌"), default=True)


class RecoveryForm(FlaskForm):
    password = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=200)])


class EnrolForm(FlaskForm):
    otp = StringField(_l("动态口令"), validators=[DataRequired(), Length(min=6, max=8)])
    nonce = HiddenField()


def _defaults() -> security_policy.Policy:
    settings = current_app.config["SETTINGS"]
    return security_policy.Policy(session_idle_minutes=settings.session_idle_minutes,
                           session_absolute_hours=settings.session_absolute_hours)


def _lang() -> str:
    return session.get("lang", "zh")


def _end_session(reason: str | None) -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    g.session_end_reason = reason


def current_user() -> UserRow | None:
    """The logged-in user, if this session is still valid (else the session is cleared)."""
    if "user" in g:
        return g.user
    g.user = None
    uid = session.get("user_id")
    if uid:
        check = sessions.check_session(uow(), uid, session.get("epoch"),
                                       float(session.get("started", 0)),
                                       float(session.get("seen", 0)), _defaults())
        if check.user is None:
            _end_session(check.reason)
        else:
            session["seen"] = real_utcnow().timestamp()
            g.user = check.user
            g.user_locale = check.user.locale
            g.password_expired = check.password_expired
            g.must_enrol_totp = check.must_enrol_totp
    return g.user


def _gate() -> Any:
    """Where a logged-in user must go first (a new password, a second factor), if anywhere."""
    if request.endpoint in ALWAYS_ALLOWED:
        return None
    if g.get("password_expired"):
        return redirect(url_for("auth.change_password"))
    if g.get("must_enrol_totp"):
        return redirect(url_for("auth.enrol_totp"))
    return None


def return_to() -> str:
    """Where to come back to after logging in again: the page itself, or for a form posted
    after the session ended, the page the form was on (its typed text waits there)."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    ref = urlsplit(request.referrer or "")
    if ref.netloc == request.host and ref.path.startswith("/"):
        return _safe_next(ref.path + (f"?{ref.query}" if ref.query else ""))
    return url_for("views.inbox")


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=return_to(),
                                    reason=g.get("session_end_reason")))
        return _gate() or view(*args, **kwargs)

    return wrapped


# On one case's API routes the service asks the table itself, after the case's scope: a
# case outside yours is "not found" (404) whatever your role, and only then "forbidden".
ON_A_CASE = "app_id"


def requires(action: str, *, elsewhere: str | None = None, after_scope: bool = False
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view for users who may take `action` (`workflow.permissions.ACTIONS`): the login
    page for nobody, 403 for a role the table leaves out (or a redirect to the endpoint
    `elsewhere`). `after_scope`: a page of one case whose service asks the table after the
    case's scope (404 first), and whose view says the refusal on the case page. The view
    is entered in `DECLARED` with its action: a test checks every route declares one or is
    listed as public."""
    permissions.rule(action)  # an action the table lacks fails at import, not at request

    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not after_scope and not permissions.allowed(current_user(), action):
                if elsewhere is not None:
                    return redirect(url_for(elsewhere))
                said = permissions.rule(action)  # the table's words, in the user's language
                return error_page(403, message=said.en if lang().startswith("en") else said.zh)
            return view(*args, **kwargs)

        DECLARED[wrapped] = action
        return wrapped

    return deco


# each page's view as `requires` wrapped it -> the action of the permissions table it declares
DECLARED: dict[Callable[..., Any], str] = {}


def declared_action(view: Callable[..., Any]) -> str | None:
    """The action a page's view declares, through any decorators wrapped around `requires`
    (each keeps the one it wraps as `__wrapped__`, functools.wraps)."""
    seen: Any = view
    while seen is not None:
        if seen in DECLARED:
            return DECLARED[seen]
        seen = getattr(seen, "__wrapped__", None)
    return None


def may(action: str, who: Any = None) -> bool:
    """May the logged-in user (or `who`, e.g. the actor on a case) take `action`?
    Templates ask it (`may('dashboard.view')`) so links show what the routes allow."""
    return permissions.allowed(who if who is not None else current_user(), action)


@bp.app_context_processor
def _may() -> dict[str, Any]:
    return {"may": may}


def declares(**actions: str) -> Callable[[type], type]:
    """An API resource's action per HTTP method, e.g. `@declares(get="case.view",
    post="case.create")`: a token whose owner's role the table leaves out is refused (403
    with the table's words) before the request is read; the services ask the table again,
    with the object's scope. A test checks every route declares one or is public."""
    for action in actions.values():
        permissions.rule(action)

    def deco(cls: type) -> type:
        for method, action in actions.items():
            setattr(cls, method, _api_guard(getattr(cls, method), action))
        cls.permissions = {m.upper(): a for m, a in actions.items()}  # type: ignore[attr-defined]
        return cls

    return deco


def _api_guard(method: Callable[..., Any], action: str) -> Callable[..., Any]:
    from web.api.security import api_user_may  # late: the API imports this module

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if ON_A_CASE not in kwargs and not api_user_may(action):
            permissions.forbid(action)
        return method(*args, **kwargs)

    return guarded


def _safe_next(target: str | None) -> str:
    target = target or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("views.inbox")
    return target


def _start_session(login: authentication.Login) -> None:
    """A brand-new session (new contents, new signature) for a user who passed every step."""
    _end_session(None)
    now = real_utcnow().timestamp()
    session["user_id"] = login.user_id
    session["epoch"] = login.session_epoch
    session["started"] = now
    session["seen"] = now
    session["sid"] = secrets.token_urlsafe(16)  # a new session identifier at every login
    session.permanent = True


NOTICES = {"idle": _l("您已长时间未操作，请重新登录"), "expired": _l("会话已到期，请重新登录"),
           "ended": _l("您已在其他地方退出或账号设置已更改，请重新登录"),
           "disabled": _l("账号已停用"), "logged_out": _l("您已安全退出")}


@bp.route("/login", methods=["GET", "POST"])
@LOGIN_LIMITS[0]
@LOGIN_LIMITS[1]
def login() -> Any:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            result = authentication.check_password(uow(), form.username.data or "",
                                             form.password.data or "", client_ip())
        except lockout.LoginFailed as err:
            error = err.first.message(_lang())
        else:
            nxt = request.args.get("next")
            if result.needs_totp:
                _end_session(None)
                session["pending"] = {"uid": result.user_id, "at": real_utcnow().timestamp(),
                                      "next": _safe_next(nxt)}
                return redirect(url_for("auth.login_otp"))
            _start_session(result)
            return redirect(_safe_next(nxt))
    notice = NOTICES.get(request.args.get("reason") or "")
    return render_template("login.html", form=form, error=error,
                           notice=notice), 401 if error else 200


@bp.route("/login/otp", methods=["GET", "POST"])
@LOGIN_LIMITS[1]
def login_otp() -> Any:
    pending = session.get("pending") or {}
    if not pending or real_utcnow().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop("pending", None)
        return redirect(url_for("auth.login"))
    form = OtpForm()
    error = None
    if form.validate_on_submit():
        try:
            result = authentication.check_totp(uow(), int(pending["uid"]), form.otp.data or "",
                                         client_ip(), secret_key=settings().secret_key)
        except lockout.LoginFailed as err:
            error = err.first.message(_lang())
            if isinstance(err, lockout.AccountLocked):
                session.pop("pending", None)
        else:
            _start_session(result)
            return redirect(_safe_next(pending.get("next")))
    return render_template("account/login_otp.html", form=form, error=error), \
        401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    """Log out: every session of this user ends (GB/T 22239 8.1.4.1 b)."""
    uid = session.get("user_id")
    if uid and current_user() is not None:
        sessions.logout_everywhere(uow(), uid)
    _end_session(None)
    return redirect(url_for("auth.login", reason="logged_out"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires("account.own")
def change_password() -> Any:
    user = current_user()
    assert user is not None
    form = PasswordForm()
    errors: list[Any] = []
    if form.validate_on_submit():
        try:
            epoch = passwords.change_password(
                uow(), user.id, form.current_password.data or "", form.new_password.data or "",
                revoke_personal_tokens=bool(form.revoke_personal_tokens.data))
        except DomainError as err:
            errors = err.refusals
        else:
            session["epoch"] = epoch  # this session stays; every other one ends
            return redirect(url_for("views.inbox"))
    # a security form is answered in place with 422, not by post/redirect/get (issue 17):
    # the passwords and codes it holds are never kept server-side to be shown again
    return render_template("account/password.html", form=form, errors=errors,
                           forced=bool(g.get("password_expired")), min_length=passwords.PASSWORD_MIN,
                           lang=_lang()), 422 if errors else 200


def _qr_svg(uri: str) -> Markup:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = img.to_string(encoding="unicode")
    return Markup(svg[svg.index("<svg"):])  # our own markup, no user input in it


@bp.route("/account/totp", methods=["GET", "POST"])
@requires("account.own")
def enrol_totp() -> Any:
    """Enrol a TOTP app: scan the QR code (or type the key), then confirm one code."""
    user = current_user()
    assert user is not None
    if user.totp_secret is not None:
        return render_template("account/totp.html", enrolled=True, form=None,
                               left=second_factor.recovery_codes_left(uow(), user.id))
    form = EnrolForm()
    secret = session.get("totp_pending")
    error = None
    if form.validate_on_submit() and secret:
        try:
            codes = second_factor.enrol_totp(uow(), user.id, secret, form.otp.data or "",
                                        secret_key=settings().secret_key)
        except DomainError as err:
            error = err.first.message(_lang())
        else:
            session.pop("totp_pending", None)
            return _show_codes(codes, enrolled_now=True)
    if not secret or request.method == "GET":
        secret = session["totp_pending"] = second_factor.new_totp_secret()
    uri = second_factor.totp_uri(secret, user.username)
    # a security form is answered in place with 422, not by post/redirect/get (issue 17):
    # the passwords and codes it holds are never kept server-side to be shown again
    return render_template("account/totp.html", enrolled=False, form=form, secret=secret,
                           grouped=_grouped(secret), apps=AUTHENTICATOR_APPS,
                           qr=_qr_svg(uri), error=error,
                           required=bool(g.get("must_enrol_totp"))), 422 if error else 200


def _grouped(secret: str) -> str:
    """The key in blocks of four, as it is typed into an app ("ABCD EFGH …")."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _show_codes(codes: list[str], *, enrolled_now: bool) -> Any:
    """The recovery codes, this once (the response is never stored by the browser: the
    codes are kept only hashed; a page to reload does not exist, hence no redirect)."""
    resp = make_response(render_template("account/recovery_codes.html", codes=codes,
                                          enrolled_now=enrolled_now))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@requires("account.own")
def recovery_codes() -> Any:
    """How many recovery codes are left; new ones (the old ones then stop working)."""
    user = current_user()
    assert user is not None
    if user.totp_secret is None:
        return redirect(url_for("auth.enrol_totp"))
    form = RecoveryForm()
    error = None
    if form.validate_on_submit():
        try:
            codes = second_factor.regenerate_recovery_codes(uow(), user.id, form.password.data or "",
                                                       client_ip())
        except DomainError as err:
            error = err.first.message(_lang())
        else:
            return _show_codes(codes, enrolled_now=False)
    # a security form is answered in place with 422, not by post/redirect/get (issue 17):
    # the passwords and codes it holds are never kept server-side to be shown again
    return render_template("account/recovery_form.html", form=form, error=error,
                           left=second_factor.recovery_codes_left(uow(), user.id)), \
        422 if error else 200


@bp.post("/lang/<code>")
def set_language(code: str) -> Any:
    if code in ("zh", "en"):
        session["lang"] = code
        user = current_user()
        if user is not None:  # remembered for the next login and for e-mail
            from workflow.services import preferences

            preferences.set_locale(uow(), user.id, code)
    ref = urlsplit(request.referrer or "")
    same_site = ref.netloc == request.host and ref.path.startswith("/")
    return redirect(_safe_next(ref.path + (f"?{ref.query}" if ref.query else ""))
                    if same_site else url_for("views.inbox"))
