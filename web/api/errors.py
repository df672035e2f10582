"""RFC 9457 problem+json for every error under /api (never HTML, never a traceback).

Every answer other than 2xx carries `code` (stable, for programs), `title` (English),
`detail` (Chinese) and, where fields are at fault, `errors` — one entry per field with its
own `code`. The same schema documents every error response in the OpenAPI contract.
"""

from __future__ import annotations

import http
from typing import Any

from flask import Flask, Response, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from workflow.errors import DomainError

PROBLEM = "application/problem+json"
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 406: "not_acceptable", 409: "version_conflict",
         413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
         428: "precondition_required", 429: "rate_limited", 500: "internal_error",
         503: "unavailable"}
ZH = {400: "请求格式错误", 401: "需要有效的访问令牌", 403: "无权执行此操作", 404: "未找到该记录，或您无权查看",
      405: "不支持该请求方法", 406: "无法提供所请求的格式", 409: "该记录已被他人更新",
      413: "上传内容超过大小上限", 415: "不支持的请求内容类型", 422: "输入有误，请检查各字段",
      428: "缺少前置条件", 429: "请求过于频繁，请稍后再试", 500: "服务器内部错误，已记录",
      503: "服务暂不可用"}

# marshmallow's messages -> a stable per-field code and its Chinese wording
_FIELD_CODES = (
    ("Missing data for required field", "required", "必填"),
    ("Unknown field", "unknown_field", "未知字段"),
    ("Field may not be null", "null_not_allowed", "不能为空"),
    ("Must be one of", "invalid_choice", "取值不在允许范围内"),
    ("Length must be", "invalid_length", "长度不符合要求"),
    ("Longer than", "too_long", "过长"),
    ("Shorter than", "too_short", "过短"),
    ("Must be greater", "out_of_range", "超出允许范围"),
    ("Must be less", "out_of_range", "超出允许范围"),
    ("String does not match", "invalid_format", "格式不正确"),
    ("Not a valid integer", "not_an_integer", "应为整数"),
    ("Not a valid number", "not_a_number", "应为数字"),
    ("Not a valid boolean", "not_a_boolean", "应为 true 或 false"),
    ("Not a valid date", "invalid_date", "日期格式应为 YYYY-MM-DD"),
    ("Not a valid string", "not_text", "应为文字"),
    ("Not a valid list", "not_a_list", "应为列表"),
    ("Invalid input type", "invalid_type", "类型不正确"),
    ("Invalid value", "invalid", "取值无效"),
)


class FieldError(Schema):
    code = fields.String(required=True, metadata={"example": "required"})
    field = fields.String(metadata={"example": "contact_email"})
    location = fields.String(metadata={"example": "json"})
    guard = fields.String()
    message_zh = fields.String(required=True, metadata={"example": "电子信箱：必填"})
    message_en = fields.String(required=True, metadata={"example": "E-mail: is required"})
    details = fields.Dict()


class Problem(Schema):
    """RFC 9457 problem details (application/problem+json)."""

    type = fields.String(required=True, metadata={"example": "/api/v1/problems/validation_error"})
    title = fields.String(required=True, metadata={"example": "Unprocessable Entity"})
    status = fields.Integer(required=True, metadata={"example": 422})
    code = fields.String(required=True, metadata={
        "description": "stable machine-readable code",
        "example": "validation_error",
        "x-known-values": ["validation_error", "guard_failed", "quota_exceeded",
                           "invalid_trigger", "version_conflict", "not_found", "forbidden",
                           "unauthorized", "rate_limited", "method_not_allowed",
                           "payload_too_large", "unsupported_media_type", "bad_request",
                           "invalid_credentials", "invalid_json", "invalid_characters",
                           "json_too_deep", "internal_error"]})
    detail = fields.String(metadata={"description": "中文说明", "example": "输入有误，请检查各字段"})
    instance = fields.String(metadata={"example": "/api/v1/applications/12"})
    errors = fields.List(fields.Nested(FieldError))
    hint = fields.String(metadata={"description": "technical detail (English)"})


def problem(status: int, code: str, title: str, detail: str | None = None,
            errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    body: dict[str, Any] = {"type": f"/api/v1/problems/{code}", "title": title,
                            "status": status, "code": code, "instance": request.path}
    if detail:
        body["detail"] = detail
    body["errors"] = errors or []
    body.update(extra)
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def domain_problem(err: DomainError) -> Response:
    first = err.first
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if err.status == 401 else None
    return problem(err.status, err.code, first.en, detail=first.zh,
                   errors=[r.as_dict() for r in err.refusals], headers=headers)


def _field_code(message: str) -> tuple[str, str]:
    for prefix, code, zh in _FIELD_CODES:
        if message.startswith(prefix):
            return code, zh
    return "invalid", "取值无效"


def _flatten(messages: Any, path: str, location: str, out: list[dict[str, Any]]) -> None:
    if isinstance(messages, dict):
        for key, sub in messages.items():
            name = f"{path}[{key}]" if isinstance(key, int) else (
                f"{path}.{key}" if path else str(key))
            _flatten(sub, name, location, out)
    elif isinstance(messages, list | tuple) and messages and all(
            isinstance(m, str) for m in messages):
        code, zh = _field_code(str(messages[0]))
        out.append({"code": code, "field": path or "_body", "location": location,
                    "message_en": "; ".join(messages), "message_zh": f"{path or '请求体'}：{zh}"})
    elif isinstance(messages, str):
        _flatten([messages], path, location, out)


def _webargs_errors(exc: HTTPException) -> list[dict[str, Any]]:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or {}
    out: list[dict[str, Any]] = []
    for location, sub in messages.items():
        _flatten(sub, "", location, out)
    return out


def too_many(why: str) -> dict[str, Any]:
    """`alt_response(429, **too_many("…"))`: how a rate-limited operation documents its
    429 (problem+json, code rate_limited, Retry-After)."""
    return {"schema": Problem, "content_type": PROBLEM,
            "description": f"rate_limited: {why}; Retry-After says when to try again",
            "headers": {"Retry-After": {"description": "seconds to wait",
                                        "schema": {"type": "integer"}}}}


class ProblemApi(Api):
    """flask-smorest's Api, answering and documenting errors as problem+json."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, self.handle_http_exception)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM if status >= 400
                             else self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not request.path.startswith("/api/"):
            return error
        return http_problem(error)


def http_problem(error: HTTPException) -> Response:
    """An HTTP error (404, 405, 413, 429, a webargs 422 …) as problem+json."""
    status = error.code or 500
    code = CODES.get(status, "error")
    detail = ZH.get(status, error.description)
    errors = _webargs_errors(error)
    if status == 400 and any("Invalid JSON" in e["message_en"] for e in errors):
        code, detail = "invalid_json", "请求体不是有效的 JSON"
        errors = [{**e, "code": "invalid_json", "message_zh": detail} for e in errors]
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    return problem(status, code, error.name, detail=detail, errors=errors,
                   headers=headers, **({"hint": str(error.description)}
                                       if status in (400, 401, 404) else {}))


JSON_ONLY = ("application/json",)
BODY_METHODS = ("POST", "PUT", "PATCH")


def _check_request() -> Response | None:
    """Before any /api view: the body's media type (characters no field may hold and deep
    JSON are refused earlier, for the whole app: web/boundary.py)."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    if not req.path.startswith("/api/"):
        return None
    has_body = req.content_length or req.headers.get("Transfer-Encoding")
    if req.method in BODY_METHODS and has_body:
        allowed = MULTIPART_ENDPOINTS.get(req.endpoint or "", JSON_ONLY)
        if req.mimetype not in allowed:
            raise UnsupportedMediaType(f"send {' or '.join(allowed)}")
    return None


# endpoint -> the media types its body may have (uploads take multipart/form-data)
MULTIPART_ENDPOINTS: dict[str, tuple[str, ...]] = {}


def init_error_handlers(app: Flask) -> None:
    app.before_request(_check_request)

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
            return problem(500, "internal_error", "Internal Server Error", detail=ZH[500])
        from web.errors import internal_error_page

        return internal_error_page()
