"""Reviewers' pages (inbox, case page). The web UI issue grows these."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for

from web.auth import current_user, login_required
from web.extensions import uow
from workflow.services import cases

bp = Blueprint("views", __name__)


@bp.get("/")
def index() -> Any:
    return redirect(url_for("views.inbox"))


@bp.get("/inbox")
@login_required
def inbox() -> Any:
    user = current_user()
    assert user is not None
    page = cases.list_applications(uow(), user.id, waiting_on_me=True)
    return render_template("inbox.html", page=page)
