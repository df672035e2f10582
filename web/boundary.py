"""The request boundary: input no field may hold is refused before any view, hook or rate
limit reads it (Hardening 5). 400, naming the field: problem+json under /api, the error
page in the user's language elsewhere.

- NUL (and unpaired surrogates) in a query string, a form field or a JSON string, names
  included: no database stores them (PostgreSQL refuses NUL in text) and no field needs them.
- JSON nested deeper than any body of ours: Python's parser recurses, and 100,000 levels
  end in a RecursionError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, make_response, render_template, request

MAX_JSON_DEPTH = 32  # our deepest body (an application's products) is 3
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def _bad_in_pairs(pairs: Iterable[tuple[str, list[str]]]) -> str | None:
    """The first name among (name, values) whose name or a value holds a bad character."""
    for key, values in pairs:
        if _BAD_CHAR.search(key) or any(_BAD_CHAR.search(v) for v in values):
            return key
    return None


def _bad_in_json(body: Any) -> tuple[str, str] | None:
    """("characters", where) for the first string holding a bad character, ("depth", the
    top-level field) for a value nested too deep; walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(body, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if _BAD_CHAR.search(value):
                return "characters", path or "_body"
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            return "depth", re.split(r"[.\[]", path, maxsplit=1)[0] or "_body"
        items = (value.items() if isinstance(value, dict)
                 else ((i, v) for i, v in enumerate(value)))
        for key, sub in reversed(list(items)):
            if isinstance(key, str) and _BAD_CHAR.search(key):
                return "characters", path or "_body"
            where = f"{path}[{key}]" if isinstance(key, int) else (
                f"{path}.{key}" if path else str(key))
            stack.append((sub, where, depth + 1))
    return None


def _refuse(code: str, field: str, location: str) -> Response:
    from flask_babel import gettext as _

    if code == "json_too_deep":
        zh = f"{field}：请求体嵌套超过 {MAX_JSON_DEPTH} 层"
        en = f"{field}: the body is nested more than {MAX_JSON_DEPTH} levels deep"
        page = _("%(field)s：请求体嵌套过深", field=field)
    else:
        zh = f"{field}：含有不允许的字符（如 NUL）"
        en = f"{field}: contains characters that are not allowed (e.g. NUL)"
        page = _("%(field)s：含有不允许的字符（如 NUL）", field=field)
    if request.path.startswith("/api/"):
        from web.api.errors import problem

        return problem(400, code, "Bad Request", zh, errors=[{
            "code": code, "field": field, "location": location, "message_zh": zh,
            "message_en": en}])
    return make_response(render_template("error.html", status=400, message=page), 400)


def check_request() -> Response | None:
    """Before anything else reads the request: 400 for a bad character or a deep body."""
    req = request
    if req.query_string:
        where = _bad_in_pairs(req.args.lists())
        if where is not None:
            return _refuse("invalid_characters", where, "query")
    if req.is_json and (req.content_length or req.headers.get("Transfer-Encoding")):
        try:
            body = req.get_json(silent=True)  # cached: the view reads the same object
        except RecursionError:
            return _refuse("json_too_deep", "_body", "json")
        found = _bad_in_json(body)
        if found is not None:
            kind, where = found
            return _refuse("json_too_deep" if kind == "depth" else "invalid_characters", where,
                           "json")
    elif req.method in ("POST", "PUT", "PATCH") and req.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        where = _bad_in_pairs(req.form.lists())
        if where is not None:
            return _refuse("invalid_characters", where, "form")
    return None


def init_app(app: Flask) -> None:
    """Register the check; `create_app` calls this before any other hook is registered, so
    it is the first thing every request meets."""
    app.before_request(check_request)
