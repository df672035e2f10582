"""Roles × endpoints × objects in and out of scope: every forbidden combination is refused —
404 for objects outside the caller's scope (we never confirm they exist), 403 for what the
role may never do — and no field of the object appears in the refusal."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from workflow.services import clock, tokens

ADMINS = ("sysadmin", "secadmin", "auditor")
SECRET_NAME = "机密测试基地甲"  # the applicant name of every case here: must never leak
SECRET_MAIL = "secret-contact@example.gov.cn"


@dataclass
class Objects:
    draft: int  # Hubei, never submitted: only its drafter sees it
    submitted: int  # Hubei, under provincial review
    base: int  # Hubei, approved: a designated base
    attachment: int  # of `submitted`
    token: int  # hubei_applicant's personal token


@pytest.fixture
def objects(world: factories.World) -> Objects:
    secret = {"applicant_name": SECRET_NAME, "contact_email": SECRET_MAIL}
    draft = factories.draft(world, "hubei_applicant2", **secret)
    submitted = factories.submitted(world, **secret)
    base = factories.approved(world, **secret)
    from workflow.services import attachments

    att = attachments.list_for(world.uow(), world.id("hubei_applicant"), submitted)[0].id
    tok = tokens.create(world.uow(), world.id("hubei_applicant"), "mine").id
    return Objects(draft, submitted, base, att, tok)


def case_endpoints(app_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    a = f"/api/v1/applications/{app_id}"
    return [
        ("get", a, {}),
        ("patch", a, {"json": {"contact_person": "x", "version": 1}}),
        ("post", f"{a}/transitions", {"json": {"trigger": "withdraw", "version": 1,
                                               "reason": "x"}}),
        ("get", f"{a}/eligibility", {}),
        ("get", f"{a}/history", {}),
        ("get", f"{a}/attachments", {}),
        ("post", f"{a}/attachments", {"data": {"kind": "other",
                                               "file": (io.BytesIO(factories.PDF), "a.pdf")},
                                      "content_type": "multipart/form-data"}),
        ("put", f"{a}/attestations", {"json": {"values": {"local_policy": True},
                                               "version": 1}}),
        ("get", f"{a}/quarterly-reports", {}),
        ("post", f"{a}/quarterly-reports", {"json": {"year": 2006, "quarter": 2,
                                                     "exports_10k_usd": "2",
                                                     "hightech_exports_10k_usd": "1"}}),
        ("get", f"{a}/annual-reports", {}),
        ("get", f"{a}/evaluations", {}),
    ]


def call(api: Any, headers: dict[str, str], method: str, url: str, kw: dict[str, Any]) -> Any:
    kw = dict(kw)
    if "data" in kw:  # a fresh stream per request
        kw["data"] = {**kw["data"], "file": (io.BytesIO(factories.PDF), "a.pdf")}
    return getattr(api.client, method)(url, headers=headers, **kw)


def refused(r: Any, status: int, label: str) -> None:
    text = r.get_data(as_text=True)
    assert r.status_code == status, f"{label}: {r.status_code} {text[:300]}"
    assert r.mimetype == "application/problem+json", label
    for secret in (SECRET_NAME, SECRET_MAIL, "application_form.pdf", "letter.pdf"):
        assert secret not in text, f"{label} leaks {secret}"


def test_roles_are_refused_outside_their_scope_and_leak_nothing(
        api: Any, world: factories.World, objects: Objects) -> None:
    clock.freeze(datetime(2006, 10, 20, 2, tzinfo=UTC))
    try:
        bearer = {u: {"Authorization": f"Bearer {tokens.create(world.uow(), world.id(u), 't').token}"}
                  for u in ("hubei_applicant", "hunan_applicant", "hubei_reviewer",
                            "hunan_reviewer", "mofcom", *ADMINS)}
        out_of_scope = {
            "hunan_applicant": (objects.draft, objects.submitted, objects.base),
            "hunan_reviewer": (objects.draft, objects.submitted, objects.base),
            "hubei_reviewer": (objects.draft,),  # never submitted: not the province's yet
            "hubei_applicant": (objects.draft,),  # a colleague's draft
            "mofcom": (),
        }
        checked = 0
        for user, app_ids in out_of_scope.items():
            for app_id in app_ids:
                for method, url, kw in case_endpoints(app_id):
                    refused(call(api, bearer[user], method, url, kw), 404,
                            f"{user} {method.upper()} {url}")
                    checked += 1
        for admin in ADMINS:  # the three admin roles may never touch a case
            for app_id in (objects.submitted, objects.base):
                for method, url, kw in case_endpoints(app_id):
                    refused(call(api, bearer[admin], method, url, kw), 403,
                            f"{admin} {method.upper()} {url}")
                    checked += 1
        download = f"/api/v1/attachments/{objects.attachment}/content"
        for user in ("hunan_applicant", "hunan_reviewer"):
            refused(api.client.get(download, headers=bearer[user]), 404, f"{user} download")
        for admin in ADMINS:
            refused(api.client.get(download, headers=bearer[admin]), 403, f"{admin} download")
        for user in ("hunan_applicant", "hubei_reviewer", "mofcom", *ADMINS):
            refused(api.client.delete(f"/api/v1/tokens/{objects.token}", headers=bearer[user]),
                    404, f"{user} revokes another's token")
        assert checked >= 150
    finally:
        clock.freeze(None)


def test_operations_a_role_may_never_do_are_403(
        api: Any, world: factories.World, objects: Objects) -> None:
    bearer = {u: {"Authorization": f"Bearer {tokens.create(world.uow(), world.id(u), 't').token}"}
              for u in ("hubei_applicant", "hubei_reviewer", "mofcom", *ADMINS)}
    never = [
        (("hubei_applicant", "hubei_reviewer", *ADMINS), "get", "/api/v1/objections", {}),
        (("hubei_applicant", "hubei_reviewer", *ADMINS), "post", "/api/v1/objections/1/dismiss",
         {"json": {"reason": "x"}}),
        (("hubei_applicant", "hubei_reviewer", *ADMINS), "get", "/api/v1/evaluation-runs", {}),
        (("hubei_applicant", "hubei_reviewer", *ADMINS), "post", "/api/v1/evaluation-runs",
         {"json": {"period": 2006, "dry_run": True}}),
        (("hubei_applicant", "hubei_reviewer", *ADMINS), "get", "/api/v1/evaluations?period=2006",
         {}),
        (("hubei_applicant", "hubei_reviewer", *ADMINS), "put",
         "/api/v1/reference-statistics/2005", {"json": {"national_hightech_growth_pct": "1"}}),
        (ADMINS, "get", "/api/v1/applications", {}),
        (ADMINS, "get", "/api/v1/bases", {}),
        (ADMINS, "get", "/api/v1/reference-statistics", {}),
        (("hubei_reviewer", "mofcom", *ADMINS), "post", "/api/v1/applications",
         {"json": factories.form_data()}),
        (("hubei_applicant", "hubei_reviewer", "mofcom", "auditor"), "get", "/api/v1/users", {}),
        (("hubei_applicant", "hubei_reviewer", "mofcom", "sysadmin", "secadmin"), "get",
         "/api/v1/audit-log", {}),
        (("hubei_applicant", "hubei_reviewer", "mofcom", "auditor", "secadmin"), "get",
         "/api/v1/outbox", {}),
        (("hubei_applicant", *ADMINS), "get", "/api/v1/deputies", {}),
        (("hubei_applicant", *ADMINS), "get", "/api/v1/webhooks", {}),
        (("hubei_applicant", *ADMINS), "post", "/api/v1/webhooks",
         {"json": {"url": "https://example.gov.cn/hook"}}),
    ]
    for users, method, url, kw in never:
        for user in users:
            refused(getattr(api.client, method)(url, headers=bearer[user], **kw), 403,
                    f"{user} {method.upper()} {url}")


def test_another_authoritys_webhook_is_not_found_and_leaks_nothing(
        api: Any, world: factories.World) -> None:
    from workflow.services import webhooks

    hubei = webhooks.create(world.uow(), world.id("hubei_reviewer"),
                            "https://hubei.example.gov.cn/hook",
                            settings=api.client.application.config["SETTINGS"])
    factories.submitted(world)  # a Hubei transition: one delivery queued for Hubei
    webhooks.scan(world.uow())
    [delivery] = webhooks.deliveries(world.uow(), world.id("hubei_reviewer"), hubei.id)
    bearer = {u: {"Authorization": f"Bearer {tokens.create(world.uow(), world.id(u), 't').token}"}
              for u in ("hunan_reviewer", "hubei_applicant", *ADMINS)}
    hook = f"/api/v1/webhooks/{hubei.id}"
    endpoints = [("delete", hook, {}), ("get", f"{hook}/deliveries", {}),
                 ("post", f"{hook}/deliveries/{delivery.id}/retry", {})]
    for user, status in (("hunan_reviewer", 404), ("hubei_applicant", 403),
                         *((admin, 403) for admin in ADMINS)):
        for method, url, kw in endpoints:
            r = getattr(api.client, method)(url, headers=bearer[user], **kw)
            refused(r, status, f"{user} {method.upper()} {url}")
            assert "hubei.example.gov.cn" not in r.get_data(as_text=True)
    listed = api.client.get("/api/v1/webhooks", headers=bearer["hunan_reviewer"]).get_json()
    assert listed == []  # Hunan does not even see that Hubei has one
    assert [w.id for w in webhooks.list_visible(world.uow(), world.id("hubei_reviewer"))] == [
        hubei.id]  # and it is still there

