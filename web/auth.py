"""Login and logout for the web UI; `login_required` and `current_user` for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from web.extensions import uow
from workflow.services import accounts
from workflow.storage.models import UserRow

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])


def current_user() -> UserRow | None:
    if "user" in g:
        return g.user
    g.user = None
    uid = session.get("user_id")
    if uid:
        with uow() as u:
            user = u.session.get(UserRow, uid)
            if user is not None and user.is_active:
                user.authority  # noqa: B018 - load before the session closes
                g.user = user
                g.user_locale = user.locale
    return g.user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return deco


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            uid = accounts.authenticate(uow(), form.username.data or "", form.password.data or "")
        except accounts.LoginFailed as err:
            error = err.first.message(session.get("lang", "zh"))
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at login
            if lang:
                session["lang"] = lang
            session["user_id"] = uid
            session.permanent = True
            target = request.args.get("next") or ""
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("views.inbox")
            return redirect(target)
    return render_template("login.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str) -> Any:
    if code in ("zh", "en"):
        session["lang"] = code
        if session.get("user_id"):  # remembered for the next login and for e-mail
            from workflow.services import preferences

            preferences.set_locale(uow(), session["user_id"], code)
    target = request.referrer or url_for("views.inbox")
    return redirect(target)
