#!/usr/bin/env python3
"""Push an application and a quarter of data to the 科技兴贸出口创新基地 API.

Standard library only, so a province's own system can run it as it is:

    API_URL=https://eib.example.gov.cn API_TOKEN=eib_… \\
        python3 push_application.py --plan 发展方案.pdf --form 申报书.pdf [--base-id 12]

1. creates a draft 申报书 (POST /api/v1/applications),
2. uploads the signed form and the development plan (multipart),
3. submits it to the province with the version it read (409 if someone changed it),
4. with --base-id, files last quarter's figures for that designated base.

Create the token on the /tokens page (an applicant's account). Errors are printed as the
API sends them (RFC 9457 problem+json: code, field, message) and the script exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

APPLICATION = {
    "kind": "new_base", "industry_field": "information", "round_year": 2006,
    "applicant_name": "武汉光谷光电子信息产业集群", "contact_person": "张明",
    "contact_phone": "027-87654321", "contact_email": "zhang@example.gov.cn",
    "filled_on": "2006-03-10", "address": "武汉市东湖新技术开发区",
    "characteristic_industry": "光电子信息", "enterprise_count": 120,
    "total_sales_100m_cny": "150.5", "total_assets_10k_cny": "2100000",
    "exports_100m_usd": "12.3", "export_growth_pct": "25.4", "profit_tax_10k_cny": "80000",
    "hightech_exports_100m_usd": "8.6", "hightech_export_growth_pct": "48",
    "hightech_export_growth_pct_prev1": "60", "hightech_export_growth_pct_prev2": "55",
    "employees": 35000,
    "products": [{"name": "光通信设备", "exports_10k_usd": "3000"},
                 {"name": "光纤预制棒", "exports_10k_usd": "1800"}],
}
QUARTER = {
    "year": 2006, "quarter": 1, "exports_10k_usd": "52000", "hightech_exports_10k_usd": "31000",
    "enterprise_count": 120,
    "enterprises": [{"name": "武汉光迅科技股份有限公司", "exports_10k_usd": "1200",
                     "hightech_exports_10k_usd": "900"}],
}


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]):
        self.status, self.problem = status, problem
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail')}")


def call(method: str, path: str, body: Any = None, files: dict[str, tuple[str, bytes]] | None
         = None, fields: dict[str, str] | None = None) -> Any:
    """One request with the bearer token; JSON in and out; problem+json raises ApiError."""
    headers = {"Authorization": f"Bearer {os.environ['API_TOKEN']}",
               "Accept": "application/json"}
    data = None
    if files is not None:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (fields or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        for name, (filename, content) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                         f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                         f"\r\n\r\n".encode() + content + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    url = os.environ["API_URL"].rstrip("/") + path
    try:
        with urlopen(Request(url, data=data, headers=headers, method=method), timeout=60) as r:
            raw = r.read()
            return json.loads(raw) if raw else None
    except HTTPError as err:
        raw = err.read()
        try:
            problem = json.loads(raw)
        except ValueError:
            problem = {"code": "http_error", "detail": raw[:200].decode(errors="replace")}
        raise ApiError(err.code, problem) from None


def push(form_pdf: Path, plan_pdf: Path, base_id: int | None) -> dict[str, Any]:
    """The whole push; returns what was created."""
    app = call("POST", "/api/v1/applications", APPLICATION)
    app_id = app["id"]
    print(f"草稿已创建 draft created: #{app_id} (version {app['version']})")
    for kind, path in (("application_form", form_pdf), ("development_plan", plan_pdf)):
        att = call("POST", f"/api/v1/applications/{app_id}/attachments",
                   files={"file": (path.name, path.read_bytes())}, fields={"kind": kind})
        print(f"已上传 uploaded {kind}: {att['filename']} sha256={att['sha256'][:12]}…")
    version = call("GET", f"/api/v1/applications/{app_id}")["version"]
    fired = call("POST", f"/api/v1/applications/{app_id}/transitions",
                 {"trigger": "submit", "version": version})
    print(f"已提交 submitted: {fired['from_state']} → {fired['state']}")
    out: dict[str, Any] = {"application_id": app_id, "state": fired["state"]}
    if base_id is not None:
        filed = call("POST", f"/api/v1/applications/{base_id}/quarterly-reports", QUARTER)
        print(f"季度数据已报送 quarter filed: {filed['year']}Q{filed['quarter']} "
              f"revision {filed['revision']}")
        out["quarter"] = filed
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Push an application and a quarter of data.")
    parser.add_argument("--form", type=Path, required=True, help="the signed 申报书 (PDF)")
    parser.add_argument("--plan", type=Path, required=True, help="the 发展方案 (PDF)")
    parser.add_argument("--base-id", type=int, help="a designated base to file a quarter for")
    args = parser.parse_args(argv)
    for name in ("API_URL", "API_TOKEN"):
        if not os.environ.get(name):
            print(f"{name} is not set", file=sys.stderr)
            return 2
    try:
        result = push(args.form, args.plan, args.base_id)
    except ApiError as err:
        print(f"API refused: HTTP {err.status} {err.problem.get('code')}", file=sys.stderr)
        for e in err.problem.get("errors") or []:
            print(f"  {e.get('field', '-')}: {e.get('code')} {e.get('message_zh', '')}",
                  file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
