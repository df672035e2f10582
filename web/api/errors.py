"""RFC 9457 problem+json for every error under /api (never HTML, never a traceback)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from workflow.errors import DomainError

PROBLEM = "application/problem+json"
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "version_conflict", 413: "payload_too_large",
         415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
         500: "internal_error", 503: "unavailable"}


def problem(status: int, code: str, title: str, detail: str | None = None,
            errors: list[dict[str, Any]] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": f"/api/v1/problems/{code}", "title": title,
                            "status": status, "code": code}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    return resp


def domain_problem(err: DomainError) -> Response:
    first = err.first
    return problem(err.status, err.code, first.en, detail=first.zh,
                   errors=[r.as_dict() for r in err.refusals])


def _webargs_errors(exc: HTTPException) -> list[dict[str, Any]]:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or {}
    out: list[dict[str, Any]] = []
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for name, msgs in fields.items():
                out.append({"code": "invalid", "field": str(name), "location": location,
                            "message_en": "; ".join(map(str, msgs)) if isinstance(msgs, list)
                            else str(msgs), "message_zh": "字段无效"})
    return out


class ProblemApi(Api):
    """flask-smorest's Api, answering errors as problem+json."""

    def _register_error_handlers(self) -> None:  # type: ignore[override]
        self._app.register_error_handler(HTTPException, self.handle_http_exception)

    def handle_http_exception(self, error: HTTPException) -> Any:  # type: ignore[override]
        if not request.path.startswith("/api/"):
            return error
        status = error.code or 500
        code = CODES.get(status, "error")
        return problem(status, code, error.name, detail=error.description,
                       errors=_webargs_errors(error))


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError) -> Any:
        if request.path.startswith("/api/"):
            return domain_problem(err)
        raise err

    @app.errorhandler(Exception)
    def _crash(err: Exception) -> Any:
        if isinstance(err, HTTPException):
            return err
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return problem(500, "internal_error", "Internal Server Error",
                           detail="服务器内部错误，已记录")
        return InternalServerError()
