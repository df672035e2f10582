"""What a user types is kept in their browser (web/static/js/app.js, `data-keep` forms)
until the server has saved it, so an expired session loses nothing: after logging in
again the form offers it back. A view that saved a form says so here; the next page it
renders tells the browser to forget that form's copy."""

from __future__ import annotations

from typing import Any

from flask import Flask, session

SAVED = "kept_saved"


def saved(*keys: str) -> None:
    """The forms named by `keys` (their `data-keep`) are saved: their browser copies go."""
    session[SAVED] = [*session.get(SAVED, []), *keys][-20:]


def init_app(app: Flask) -> None:
    @app.context_processor
    def _kept_saved() -> dict[str, Any]:
        def pop() -> str:
            return " ".join(session.pop(SAVED)) if SAVED in session else ""

        return {"kept_saved": pop}
