"""Accounts, outbox and audit log for the admin roles; deputies and notifications for
everyone's own — through the API, with the same refusals as the UI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests import factories
from tests.integration.test_api_errors import bearer, problem_of
from workflow.services import clock


def test_the_system_admin_opens_and_disables_accounts_and_others_may_not(
        api: Any, world: factories.World) -> None:
    sysadmin = bearer(world, "sysadmin")
    users = api.client.get("/api/v1/users", headers=sysadmin).get_json()
    assert {"hubei_reviewer", "auditor"} <= {u["username"] for u in users}
    assert all("password_hash" not in u and "totp_secret" not in u for u in users)
    r = api.client.post("/api/v1/users", headers=sysadmin, json={
        "username": "wuhan_bureau", "display_name": "武汉市商务局",
        "email": "wuhan@example.gov.cn", "role": "applicant", "authority": "420000",
        "password": "Wuhan-temp-2006!x"})
    assert r.status_code == 201, r.get_data(as_text=True)
    problem_of(api.client.post("/api/v1/users", headers=sysadmin, json={
        "username": "x y", "display_name": "", "email": "nope", "role": "applicant",
        "password": "1"}), 422, "validation_error")
    victim = bearer(world, "hunan_applicant")
    assert api.client.get("/api/v1/me", headers=victim).status_code == 200
    assert api.client.put(f"/api/v1/users/{world.id('hunan_applicant')}/active",
                          headers=sysadmin, json={"active": False}).status_code == 204
    problem_of(api.client.get("/api/v1/me", headers=victim), 401, "unauthorized")
    for user in ("hubei_applicant", "hubei_reviewer", "mofcom", "auditor"):
        problem_of(api.client.get("/api/v1/users", headers=bearer(world, user)), 403,
                   "forbidden")


def test_only_the_auditor_reads_the_audit_log_and_only_the_system_admin_the_outbox(
        api: Any, world: factories.World) -> None:
    auditor = bearer(world, "auditor")
    r = api.client.get("/api/v1/audit-log?limit=5", headers=auditor)
    assert r.status_code == 200 and isinstance(r.get_json(), list)
    problem_of(api.client.get("/api/v1/audit-log?since=yesterday", headers=auditor), 422,
               "validation_error")
    for user in ("sysadmin", "secadmin", "mofcom", "hubei_applicant"):
        problem_of(api.client.get("/api/v1/audit-log", headers=bearer(world, user)), 403,
                   "forbidden")
    out = api.client.get("/api/v1/outbox", headers=bearer(world, "sysadmin"))
    assert out.status_code == 200 and "counts" in out.get_json()
    for user in ("auditor", "mofcom", "hubei_applicant"):
        problem_of(api.client.get("/api/v1/outbox", headers=bearer(world, user)), 403,
                   "forbidden")


def test_a_reviewer_names_a_deputy_and_everyone_reads_their_own_notifications(
        api: Any, world: factories.World) -> None:
    clock.freeze(datetime(2006, 4, 20, 2, tzinfo=UTC))
    try:
        me = api.as_("hubei_reviewer")
        colleagues = me.get("/api/v1/deputies/candidates").get_json()
        assert [c["id"] for c in colleagues] == [world.id("hubei_reviewer2")]
        r = me.post("/api/v1/deputies", json={"deputy_id": world.id("hubei_reviewer2"),
                                              "starts_on": "2006-04-24",
                                              "ends_on": "2006-04-28"})
        assert r.status_code == 201, r.get_data(as_text=True)
        [period] = me.get("/api/v1/deputies").get_json()
        assert period["deputy_name"] == "hubei_reviewer2" and not period["active"]
        bad = me.post("/api/v1/deputies", json={"deputy_id": world.id("hubei_reviewer2"),
                                                "starts_on": "2006-04-01",
                                                "ends_on": "2006-04-28"})
        assert problem_of(bad, 422, "validation_error")["errors"][0]["field"] == "starts_on"
        assert me.delete(f"/api/v1/deputies/{period['id']}").status_code == 204
        problem_of(api.as_("hubei_applicant").get("/api/v1/deputies"), 403, "forbidden")
        inbox = api.as_("hubei_applicant").get("/api/v1/notifications").get_json()
        assert inbox == {"items": [], "unread": 0, "mail_digest": False, "notify_by_mail": True}
        assert api.as_("hubei_applicant").post("/api/v1/notifications/read",
                                               json={"ids": None}).get_json() == {"marked": 0}
    finally:
        clock.freeze(None)
