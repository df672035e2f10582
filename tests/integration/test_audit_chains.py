"""The audit log as several chains: each case's actions chain on their own, everything else
on the system chain; `verify` names the first broken record of each chain; a chain cannot
fork even when two writers race for it; a pooled connection dropped while idle is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests import factories
from tests.integration.test_security_audit import tamper
from workflow.services import audit
from workflow.storage import audit_repo, db
from workflow.storage.models import AuditRow


def records(world: factories.World) -> list[AuditRow]:
    with world.uow() as u:
        return list(u.session.scalars(select(AuditRow).order_by(AuditRow.id)))


def test_each_case_chains_its_own_actions_and_logins_chain_on_the_system_chain(
        world: factories.World) -> None:
    first, second = factories.submitted(world), factories.recommended(world)
    audit.log(world.uow(), "login_succeeded", who=audit.Who(1, "user1"))
    chains: dict[str, list[AuditRow]] = {}
    for r in records(world):
        chains.setdefault(r.chain, []).append(r)

    def actions(app_id: int) -> list[str]:
        return [r.details["trigger"] for r in chains[f"application:{app_id}"]
                if r.event == "case_action"]

    assert actions(first) == ["submit"] and actions(second) == ["submit", "recommend"]
    assert {r.object_id for r in chains[f"application:{first}"]} == {str(first)}
    assert chains["system"][-1].event == "login_succeeded"
    for chain in chains.values():  # each starts at the genesis and links to its own previous
        assert [r.prev_hash for r in chain] == [audit_repo.GENESIS] + [r.hash for r in chain[:-1]]
    report = audit.verify(world.uow())
    assert report.ok and report.chains == len(chains) and report.count == sum(
        len(c) for c in chains.values())


def test_verify_names_the_first_broken_record_of_every_broken_chain(
        world: factories.World, db_url: str) -> None:
    first = factories.recommended(world)
    second = factories.recommended(world, "hunan_applicant", "hunan_reviewer")
    for i in range(3):
        audit.log(world.uow(), "logout", who=audit.Who(i, f"user{i}"))
    by_chain: dict[str, list[int]] = {}
    for r in records(world):
        by_chain.setdefault(r.chain, []).append(r.id)
    case_ids, system_ids = by_chain[f"application:{first}"], by_chain["system"]
    tamper(db_url, f"UPDATE audit_log SET result = 'forged' WHERE id = {case_ids[1]}",
           f"DELETE FROM audit_log WHERE id = {system_ids[-2]}")
    report = audit.verify(world.uow())
    assert sorted((b.chain, b.record_id, b.problem) for b in report.breaks) == sorted([
        (f"application:{first}", case_ids[1], "modified"),
        ("system", system_ids[-1], "deleted_before")])
    assert f"application:{second}" not in {b.chain for b in report.breaks}
    assert f"#{case_ids[1]}" in report.describe() and f"#{system_ids[-1]}" in report.describe()


def test_a_second_record_after_the_same_one_is_refused(world: factories.World) -> None:
    app_id = factories.submitted(world)
    head = records(world)[-1]
    with world.uow() as u:
        forked = audit.record("case_action", prev=head.prev_hash, object_type="application",
                              object_id=app_id, details={"trigger": "forged"})
        with pytest.raises(IntegrityError):
            u.session.execute(audit_repo.insert_values(forked))
            u.session.flush()
    assert audit.verify(world.uow()).ok


def test_the_heads_digest_changes_when_a_chain_loses_its_newest_record(
        world: factories.World, db_url: str) -> None:
    factories.recommended(world)
    before = audit.verify(world.uow())
    tamper(db_url, f"DELETE FROM audit_log WHERE id = {records(world)[-1].id}")
    after = audit.verify(world.uow())
    assert after.ok and after.head != before.head  # only the recorded digest shows this


def test_a_pooled_connection_the_server_dropped_while_idle_is_replaced(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = db.make_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        killer = db.make_engine(pg_url)
        with killer.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        killer.dispose()
        with engine.connect() as conn:  # no error: the dead connection was pinged, replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()


def test_a_transition_waits_for_its_case_chain_held_by_another_writer(
        pg_url: str) -> None:
    import threading

    from workflow.services import cases
    from workflow.storage.db import session_factory
    from workflow.storage.uow import UnitOfWork

    factory = session_factory(pg_url)
    world = factories.build_world(lambda: UnitOfWork(factory=factory))
    app_id = factories.submitted(world)
    engine = db.get_engine(pg_url)
    done = threading.Event()
    with engine.begin() as conn:  # another writer appending to this case's chain
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                     {"k": audit_repo.chain_lock_key(f"application:{app_id}")})
        worker = threading.Thread(target=lambda: (cases.fire(
            world.uow(), world.id("hubei_applicant"), app_id, "withdraw", None,
            reason="撤回"), done.set()))
        worker.start()
        assert not done.wait(0.5)  # the transition queues behind the chain's writer
    worker.join(60)  # a generous bound: it goes on as soon as the lock is released
    assert done.is_set() and audit.verify(world.uow()).ok
