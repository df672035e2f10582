"""The OpenAPI 3.1 contract is valid, complete, and browsable without any CDN."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate

METHODS = ("get", "post", "put", "patch", "delete")


def test_the_contract_is_valid_openapi_3_1(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_operation_documents_success_and_problem_json_errors(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    problem = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(problem) == ["application/problem+json"]
    operations = [(path, m, op) for path, item in spec["paths"].items()
                  for m, op in item.items() if m in METHODS]
    assert len(operations) >= 35
    for path, method, op in operations:
        label = f"{method.upper()} {path}"
        assert op.get("summary"), label
        assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, label
        ok = [s for s in op["responses"] if s.startswith("2")]
        assert ok, label
        if ok[0] != "204":
            assert op["responses"][ok[0]].get("content"), label
        body = op.get("requestBody", {}).get("content", {})
        for media, content in body.items():
            assert media in ("application/json", "multipart/form-data"), label
            assert content.get("schema"), label


def test_rate_limited_operations_document_their_429(client: Any) -> None:
    """A client generated from the contract knows these three may answer 429."""
    spec = client.get("/api/v1/openapi.json").get_json()
    limited = [("/api/v1/auth/token", "post"), ("/api/v1/tokens", "post"),
               ("/api/v1/notices/{app_id}/objections", "post")]
    for path, method in limited:
        answer = spec["paths"][path][method]["responses"]["429"]
        assert list(answer["content"]) == ["application/problem+json"], path
        assert answer["description"].startswith("rate_limited: "), path
        assert "Retry-After" in answer["headers"], path


def test_the_docs_page_uses_vendored_assets_only(client: Any) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # no inline script (CSP)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") for u in urls), urls
    for url in urls:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
