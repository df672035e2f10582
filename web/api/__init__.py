"""The JSON API under /api/v1: flask-smorest generates the OpenAPI document from it."""

from __future__ import annotations

from flask import Flask

from web.api.errors import ProblemApi, init_error_handlers
from web.extensions import csrf

api = ProblemApi()


def register_api(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "科技兴贸出口创新基地 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "eib token"}}},
        "security": [{"bearer": []}],
        "info": {"description": "Designation and supervision of export innovation bases "
                                "(商技发[2006]6号). Errors are RFC 9457 problem+json."},
    })
    api.init_app(app)
    init_error_handlers(app)
    from web.api import (
        admin,
        applications,
        attachments,
        auth,
        authorities,
        bases,
        catalog,
        collaboration,
        docs,
        evaluations,
        notices,
        people,
        programmes,
        reports,
        tokens,
        webhooks,
    )

    for bp in (auth.bp, catalog.bp, applications.bp, attachments.bp, notices.bp, reports.bp,
               bases.bp, evaluations.bp, people.bp, admin.bp, authorities.bp, tokens.bp,
               webhooks.bp, programmes.bp, collaboration.bp):
        csrf.exempt(bp)
        api.register_blueprint(bp)
    programmes.register_form_schemas(api.spec)
    app.register_blueprint(docs.bp)
