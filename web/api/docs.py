"""GET /api/v1/docs: the browsable contract (Swagger UI, vendored; no CDN, no inline JS)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def docs() -> str:
    return render_template("api_docs.html")
