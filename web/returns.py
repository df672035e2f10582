"""Post/redirect/get for refused forms (issue 17): a POST whose input is refused keeps
what the page should show — the typing, the errors beside their fields, a conflict, a
refused upload — server-side (workflow.services.form_returns), and answers 303 with the
form's GET URL; that GET shows it once. A reload re-posts nothing and shows the form as
it is (the browser's own copy of the typing is offered back there: web/keep.py)."""

from __future__ import annotations

from typing import Any

from flask import redirect, session
from werkzeug.wrappers import Response

from web.auth import current_user
from web.extensions import uow
from workflow.services import form_returns


def _who() -> tuple[int, str]:
    user = current_user()
    if user is None:  # the views that call this require a login
        raise RuntimeError("no user logged in")
    return user.id, str(session.get("sid") or "")


def send_back(form: str, url: str, **shown: Any) -> Response:
    """Keep `shown` for the next GET of `form` (e.g. `application:42`) by this session and
    send the browser to `url` with 303 (no fragment: the page focuses the first error
    itself, autofocus, which a URL's target element would stop)."""
    user_id, sid = _who()
    form_returns.keep(uow(), user_id, sid, form, shown)
    return redirect(url, 303)


def shown_once(form: str) -> dict[str, Any]:
    """What a refused POST of `form` left for this page (empty if nothing): read once."""
    user_id, sid = _who()
    return form_returns.take(uow(), user_id, sid, form) or {}
