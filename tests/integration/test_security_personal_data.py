"""Personal data reaches only the roles that need it, on every page, API answer and export
(GB/T 22239-2019 8.1.4.11; 个人信息保护法 第六条 minimum necessary):

- an applicant's contact block (联系人, 电话, 信箱): the applicant, its province's
  reviewers and the ministry — never another province, another applicant, the public or
  the three admins (who cannot open a case);
- an objector's name and contact: the ministry, who handles objections — no one else, the
  auditor included (the audit log records that an objection was filed, not by whom); the
  objector's address: no page but the audit log, which records every event's client
  address (GB/T 22239-2019 8.1.4.3 b).

Every GET route of the web UI and of the API is fetched as each role; spreadsheets are
opened and searched too, and the auditor's CSV and Excel exports of the audit log.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests import factories
from tests.crawl import ADMINS, browser, url_for_rule
from workflow.services import clock, objections, tokens

T = datetime(2006, 5, 8, 2, tzinfo=UTC)  # during the notice (2006-04-28 … 05-10)
APPLICANT_CONTACT = ("张明", "027-87654321", "zhang@example.gov.cn")
OBJECTOR = ("欧阳异议人", "13800001234")
OBJECTOR_IP = "203.0.113.5"  # kept against abuse; only the audit trail shows addresses
SKIP = {"static", "health.healthz", "metrics.metrics", "api-docs.openapi_json",
        "api_docs.docs", "auth.login", "auth.login_otp"}
# role -> (sees the applicant's contacts, sees the objector)
WHO_SEES = {
    None: (False, False),
    "hunan_reviewer": (False, False),
    "hubei_applicant2": (False, False),  # same province, not the owner
    "hubei_applicant": (True, False),
    "hubei_reviewer": (True, False),
    "mofcom": (True, True),
    "sysadmin": (False, False),
    "secadmin": (False, False),
    "auditor": (False, False),
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(T)
    yield
    clock.freeze(None)


def readable(resp: Any) -> str:
    """The text a person would read in the response, spreadsheets opened (never a 500)."""
    assert resp.status_code < 500, (resp.request.path, resp.status_code)
    data = resp.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                             if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def get_rules(app: Any, api: bool) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if "GET" in (r.methods or set())
            and r.endpoint not in SKIP and r.rule.startswith("/api/") is api]


def everything_seen(app: Any, world: factories.World, username: str | None, app_id: int,
                    step: int) -> str:
    client = browser(app, world, username, T, step)
    seen = [readable(client.get(url_for_rule(r, app_id))) for r in get_rules(app, api=False)]
    seen += [readable(client.get(url)) for url in (
        "/inbox?tab=all", "/inbox?q=武汉", "/exports/applications.xlsx?q=武汉",
        "/admin/audit?limit=500")]
    if username == "auditor":
        seen += [readable(client.post("/admin/audit/export", data={"format": f}))
                 for f in ("csv", "xlsx")]
    headers = {}  # the public reads the API without a token
    if username is not None:
        token = tokens.issue_token(world.uow(), world.id(username)).token
        headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    seen += [readable(api.get(url_for_rule(r, app_id), headers=headers))
             for r in get_rules(app, api=True)]
    seen.append(readable(api.get("/api/v1/audit-log?limit=500", headers=headers)))
    return "\n".join(seen)


@pytest.fixture
def case_with_objection(world: factories.World) -> int:
    app_id = factories.published(world)
    objections.file_objection(world.uow(), app_id, OBJECTOR[0], OBJECTOR[1],
                              "该基地出口数据有误", ip=OBJECTOR_IP)
    return app_id


def test_contacts_and_objectors_reach_only_the_roles_that_need_them(
        app: Any, world: factories.World, case_with_objection: int) -> None:
    leaks = []
    for step, (who, (contacts, objector)) in enumerate(WHO_SEES.items(), start=1):
        seen = everything_seen(app, world, who, case_with_objection, step)
        assert "武汉光谷" in seen or who in (*ADMINS, "hunan_reviewer", "hubei_applicant2"), who
        for value in APPLICANT_CONTACT:
            if (value in seen) is not contacts:
                leaks.append((who, value, "shown" if value in seen else "missing"))
        for value in OBJECTOR:
            if (value in seen) is not objector:
                leaks.append((who, value, "shown" if value in seen else "missing"))
        if who != "auditor" and OBJECTOR_IP in seen:
            leaks.append((who, OBJECTOR_IP, "shown"))
    assert leaks == []
