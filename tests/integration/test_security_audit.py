"""The audit log: every security event and case action recorded with who, when (UTC and
offset), from where, on what, with what result; a hash chain that names the first record
modified, deleted or reordered; search and export for the auditor only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from tests import factories
from tests.factories import PASSWORD
from workflow.errors import Forbidden
from workflow.services import audit, clock
from workflow.storage.db import get_engine
from workflow.storage.uow import UnitOfWork

T = datetime(2006, 4, 20, 1, 0, tzinfo=UTC)


def events(world: factories.World) -> list[Any]:
    with world.uow() as u:
        return list(reversed(audit.audit_repo.search(u.session, limit=1000)))


def tamper(db_url: str, *statements: str) -> None:
    """Change audit rows behind the application's back, as a DBA could."""
    engine = get_engine(db_url)
    with engine.begin() as conn:
        pg = engine.dialect.name == "postgresql"
        if pg:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        for sql in statements:
            conn.execute(text(sql))
        if pg:
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


@pytest.fixture
def chain(world: factories.World) -> list[int]:
    """Six records through the real services: a case walked to recommended, a login."""
    factories.recommended(world)  # submit + recommend = 2 case actions, 1 token… no: 2
    for i in range(4):
        audit.log(world.uow(), "login_succeeded", who=audit.Who(i, f"user{i}"), ip="10.0.0.1")
    return [r.id for r in events(world)]


def test_a_case_action_is_audited_in_its_own_transaction(world: factories.World) -> None:
    app_id = factories.submitted(world)
    rows = [r for r in events(world) if r.event == "case_action"]
    assert len(rows) == 1
    row = rows[0]
    assert (row.actor_name, row.actor_role, row.object_type, row.object_id, row.result) == (
        "hubei_applicant", "applicant", "application", str(app_id), "ok")
    assert row.details["trigger"] == "submit" and row.details["to"] == "provincially_reviewed"
    assert row.utc_offset == "+08:00"


def test_a_refused_case_action_leaves_no_case_record(world: factories.World) -> None:
    app_id = factories.draft(world)
    with pytest.raises(Exception):  # noqa: B017 - the guard refuses (no attachments)
        from workflow.services import cases

        cases.fire(world.uow(), world.id("hubei_applicant"), app_id, "submit", None)
    assert [r for r in events(world) if r.event == "case_action"] == []


def refusals(world: factories.World) -> list[Any]:
    return [r for r in events(world) if r.event == "case_action_refused"]


def test_refused_case_actions_are_audited_with_who_what_and_why(
        world: factories.World) -> None:
    from workflow.errors import GuardFailed, NotFound, VersionConflict
    from workflow.services import cases

    app_id = factories.draft(world)
    applicant, reviewer = world.id("hubei_applicant"), world.id("hunan_reviewer")
    with pytest.raises(GuardFailed):  # no attachments yet
        cases.fire(world.uow(), applicant, app_id, "submit", None)
    with pytest.raises(VersionConflict):  # a stale page
        cases.fire(world.uow(), applicant, app_id, "withdraw", 7, reason="撤回")
    with pytest.raises(NotFound):  # another province's case: never told it exists
        cases.fire(world.uow(), reviewer, app_id, "decline", None, reason="不予推荐")
    got = [(r.actor_name, r.actor_role, r.object_type, r.object_id, r.result,
            r.details["trigger"], r.details["error"]) for r in refusals(world)]
    assert got == [
        ("hubei_applicant", "applicant", "application", str(app_id), "refused", "submit",
         "guard_failed"),
        ("hubei_applicant", "applicant", "application", str(app_id), "refused", "withdraw",
         "version_conflict"),
        ("hunan_reviewer", "provincial_reviewer", "application", str(app_id), "refused",
         "decline", "not_found")]
    first = refusals(world)[0]
    assert first.details["refusals"] == ["missing_attachment"] and first.details["version"] is None
    # nothing moved: the case is still a draft with no history and no case action
    assert cases.load(world.uow(), applicant, app_id).row.state == "drafted"
    assert [r for r in events(world) if r.event == "case_action"] == []
    assert audit.verify(world.uow()).ok


def test_a_refusal_goes_on_the_system_chain_and_leaves_the_case_chain_alone(
        world: factories.World) -> None:
    """Otherwise a refused attempt by one user would turn another user's transition in
    flight on the same case into a conflict (its write links to the chain head it read)."""
    from workflow.errors import InvalidTrigger
    from workflow.services import cases

    app_id = factories.submitted(world)
    case_chain = [r.hash for r in events(world) if r.chain == f"application:{app_id}"]
    with pytest.raises(InvalidTrigger):
        cases.fire(world.uow(), world.id("hubei_applicant"), app_id, "submit", None)
    assert [r.hash for r in events(world) if r.chain == f"application:{app_id}"] == case_chain
    assert [r.chain for r in refusals(world)] == ["system"]
    fired = cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision",
                       2, reason="补充材料")  # the version read before the refusal still holds
    assert fired.version == 3


def test_a_refused_action_through_the_api_is_audited_with_the_address(
        api: Any, world: factories.World) -> None:
    app_id = factories.draft(world)
    r = api.as_("hubei_applicant").post(f"/api/v1/applications/{app_id}/transitions",
                                        json={"trigger": "submit", "version": 1},
                                        environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert r.status_code == 422 and r.get_json()["code"] == "guard_failed"
    [row] = refusals(world)
    assert (row.actor_name, row.ip, row.details["trigger"], row.details["error"]) == (
        "hubei_applicant", "198.51.100.9", "submit", "guard_failed")


def test_logins_failures_and_lockouts_are_audited_with_the_address(client: Any,
                                                                   world: factories.World
                                                                   ) -> None:
    client.post("/login", data={"username": "hubei_reviewer", "password": PASSWORD},
                environ_base={"REMOTE_ADDR": "198.51.100.7"})
    for _ in range(5):
        client.post("/login", data={"username": "hunan_reviewer", "password": "nope-Nope-1"},
                    environ_base={"REMOTE_ADDR": "198.51.100.8"})
    got = [(r.event, r.actor_name, r.ip, r.result) for r in events(world)]
    assert ("login_succeeded", "hubei_reviewer", "198.51.100.7", "ok") in got
    assert got.count(("login_failed", "hunan_reviewer", "198.51.100.8", "refused")) == 5
    assert ("account_locked", "hunan_reviewer", "198.51.100.8", "locked") in got


def test_an_intact_chain_verifies(world: factories.World, chain: list[int]) -> None:
    report = audit.verify(world.uow())
    assert report.ok and report.count == len(chain)


def test_changing_one_row_in_sql_names_that_record(world: factories.World, db_url: str,
                                                   chain: list[int]) -> None:
    target = chain[2]
    tamper(db_url, f"UPDATE audit_log SET actor_name = 'someone else' WHERE id = {target}")
    report = audit.verify(world.uow())
    assert (report.first_bad_id, report.problem) == (target, "modified")
    assert f"#{target}" in report.describe()


def test_deleting_one_row_names_the_record_after_the_gap(world: factories.World, db_url: str,
                                                         chain: list[int]) -> None:
    tamper(db_url, f"DELETE FROM audit_log WHERE id = {chain[3]}")
    report = audit.verify(world.uow())
    assert (report.first_bad_id, report.problem) == (chain[4], "deleted_before")


def test_deleting_the_first_row_is_detected(world: factories.World, db_url: str,
                                            chain: list[int]) -> None:
    tamper(db_url, f"DELETE FROM audit_log WHERE id = {chain[0]}")
    assert audit.verify(world.uow()).first_bad_id == chain[1]


def test_swapping_two_rows_is_reported_as_out_of_order(world: factories.World, db_url: str,
                                                       chain: list[int]) -> None:
    a, b = chain[2], chain[3]
    tamper(db_url, f"UPDATE audit_log SET id = -1 WHERE id = {a}",
           f"UPDATE audit_log SET id = {a} WHERE id = {b}",
           f"UPDATE audit_log SET id = {b} WHERE id = -1")
    report = audit.verify(world.uow())
    assert (report.first_bad_id, report.problem) == (a, "out_of_order")


def test_a_forged_row_inserted_into_the_chain_is_named(world: factories.World, db_url: str,
                                                       chain: list[int]) -> None:
    with world.uow() as u:  # a well-formed record linked to the current head…
        forged = audit.append(u.session, "login_succeeded", who=audit.Who(99, "intruder"))
        u.commit()
    with world.uow() as u:  # …followed by a genuine one, then moved into the middle
        audit.append(u.session, "logout", who=audit.Who(1, "user1"))
        u.commit()
    tamper(db_url, f"UPDATE audit_log SET id = {chain[-1]} * 100 WHERE id = {chain[-1]}",
           f"UPDATE audit_log SET id = {chain[-1]} WHERE id = {forged.id}",
           f"UPDATE audit_log SET id = {forged.id} WHERE id = {chain[-1]} * 100")
    assert not audit.verify(world.uow()).ok


def test_flask_audit_verify_exits_non_zero_naming_the_record(app: Any, db_url: str,
                                                             world: factories.World,
                                                             chain: list[int]) -> None:
    ok = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    tamper(db_url, f"UPDATE audit_log SET result = 'ok2' WHERE id = {chain[1]}")
    bad = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and f"#{chain[1]}" in bad.output


def test_postgresql_refuses_updates_and_deletes_of_audit_rows(pg_url: str) -> None:
    audit.log(UnitOfWork(pg_url), "logout", who=audit.Who(1, "x"))
    engine = get_engine(pg_url)
    for sql in ("UPDATE audit_log SET result = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))


def test_only_the_auditor_searches_and_exports(world: factories.World) -> None:
    audit.log(world.uow(), "logout", who=audit.Who(1, "x"))
    for name in ("sysadmin", "secadmin", "mofcom", "hubei_reviewer"):
        with pytest.raises(Forbidden):
            audit.search(world.uow(), world.id(name), {})
        with pytest.raises(Forbidden):
            audit.export_csv(world.uow(), world.id(name), {})
    assert [r.event for r in audit.search(world.uow(), world.id("auditor"), {})] == ["logout"]


def test_the_csv_export_neutralises_formulas_and_is_itself_audited(
        world: factories.World) -> None:
    audit.log(world.uow(), "login_failed", who=audit.Who(None, "=HYPERLINK(\"x\")"))
    body = audit.export_csv(world.uow(), world.id("auditor"), {"event": "login_failed"})
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "id" and rows[1][4].startswith("'=")
    assert audit.search(world.uow(), world.id("auditor"), {})[0].event == "audit_exported"


def test_records_carry_utc_time_and_the_china_offset(world: factories.World) -> None:
    clock.freeze(T)
    try:
        audit.log(world.uow(), "logout", who=audit.Who(1, "x"))
    finally:
        clock.freeze(None)
    row = events(world)[0]
    assert row.at == T and row.utc_offset == "+08:00"
