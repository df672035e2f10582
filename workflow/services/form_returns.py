"""A refused form, kept for the page its browser is sent back to (post/redirect/get,
issue 17): what was typed — every field, every table row — its errors and any refused
upload, stored server-side under the user, their login session and the form, shown once
by the GET and then deleted. A browser's signed-cookie session holds 4 KB at most, and a
申报书 with its products and tables holds more: so nothing typed is dropped to fit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from workflow.services.clock import real_utcnow
from workflow.storage import casepages
from workflow.storage.models import FormReturnRow
from workflow.storage.uow import UnitOfWork

# unseen longer than this, a refused form is forgotten: the browser's own copy of the
# typing (web/keep.py, data-keep forms) is still offered back on the form
KEPT_FOR = timedelta(hours=2)


def keep(uow: UnitOfWork, user_id: int, session_id: str, form: str,
         shown: dict[str, Any]) -> None:
    """Keep `shown` (JSON: typed values, errors, …) for the next GET of `form` by this
    user's session, replacing what was kept for it before; forget expired ones."""
    now = real_utcnow()
    with uow:
        s = uow.session
        casepages.delete_form_returns_before(s, now - KEPT_FOR)
        row = casepages.form_return_of(s, user_id, session_id, form)
        if row is None:
            s.add(FormReturnRow(user_id=user_id, session_id=session_id, form=form,
                                shown=shown, created_at=now))
        else:
            row.shown, row.created_at = shown, now
        uow.commit()


def take(uow: UnitOfWork, user_id: int, session_id: str, form: str) -> dict[str, Any] | None:
    """What was kept for `form` by this user's session (None if nothing, or expired),
    deleted as it is read: a reload shows the form as it is. Looking costs a page nothing
    but a read (no write lock) when nothing was kept, as on most visits."""
    with uow.read():
        row = casepages.form_return_of(uow.session, user_id, session_id, form)
        if row is None:
            return None
        row_id, shown, kept_at = row.id, dict(row.shown), row.created_at
    with uow:
        taken = casepages.delete_form_return(uow.session, row_id)
        uow.commit()
    # another request of the same session took it first: shown there, not twice
    return shown if taken and kept_at >= real_utcnow() - KEPT_FOR else None
