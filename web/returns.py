"""Post/redirect/get for refused forms (issue 17): a POST whose input is refused keeps
what the page should show — the typing, the errors beside their fields, a conflict, a
refused upload — server-side (workflow.services.form_returns), and answers 303 with the
form's GET URL; that GET shows it once. A reload re-posts nothing and shows the form as
it is (the browser's own copy of the typing is offered back there: web/keep.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import redirect, session
from werkzeug.wrappers import Response

from web.auth import current_user
from web.extensions import uow
from workflow.errors import Refusal
from workflow.services import form_returns


def _who() -> tuple[int, str]:
    user = current_user()
    if user is None:  # the views that call this require a login
        raise RuntimeError("no user logged in")
    return user.id, str(session.get("sid") or "")


def send_back(form: str, url: str, /, **shown: Any) -> Response:
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


def as_json(refusals: Iterable[Refusal]) -> list[dict[str, Any]]:
    """Refusals as `send_back` keeps them (both languages: the page may be read in either)."""
    return [r.as_dict() for r in refusals]


def refusals_of(kept: Iterable[dict[str, Any]] | None) -> list[Refusal]:
    """The refusals `as_json` kept, as the pages show them."""
    return [Refusal(d["code"], d["message_zh"], d["message_en"], d.get("field"),
                    d.get("guard"), d.get("details") or {}) for d in kept or []]
