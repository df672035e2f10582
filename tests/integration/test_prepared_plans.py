"""The hot reads are planned once per connection, not on every call (PostgreSQL).

psycopg prepares a statement on the server after five uses on one connection; PostgreSQL
then plans it five times for the values given (custom plans) and afterwards keeps one
generic plan unless that looks costlier. Two things had kept the pages from it: a read
that ended with ROLLBACK made psycopg deallocate every statement prepared on its
connection (so no page's statement was ever prepared), and values bound where the plan
needs them (a LIMIT, the states waiting on a role, the 1 and 0 a count adds up) made
the generic plan look costlier, so every call was planned afresh: ≈ 0.2–0.6 ms of
server time for each of the inbox's page and count, ≈ 0.7 ms for the case's loader
(docs/benchmarks.md, "Winning back the one path's cost").

Each test runs a page through its service more than five times on one pooled connection
(as a web worker's connection serves its requests) and reads that connection's
`pg_prepared_statements`, which are per session. Where a plan depends on the data, the
database first gets the history a national instance holds and fresh statistics.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from tests import factories
from workflow.services import cases, dashboard
from workflow.storage.db import make_engine
from workflow.storage.uow import UnitOfWork

NOW = datetime(2006, 4, 20, 2, tzinfo=UTC)
CALLS = 15  # five before psycopg prepares it, five custom plans, then the generic one
Plans = list[tuple[int, int]]


@pytest.fixture
def world(db_url: str, uow: Any) -> factories.World:
    if db_url.startswith("sqlite"):
        pytest.skip("pg_prepared_statements is PostgreSQL's plan cache: SQLite plans in "
                    "the process and has no generic or custom plans to count")
    return factories.build_world(uow)


@pytest.fixture
def one_connection(db_url: str) -> Iterator[tuple[Engine, Any]]:
    """An engine of one pooled connection, and units of work on it."""
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    yield engine, lambda: UnitOfWork(factory=factory)
    engine.dispose()


def plans(engine: Engine, *fragments: str) -> Plans:
    """(generic plans, custom plans) of each statement prepared on the engine's one
    connection whose text holds every fragment (read in a transaction that commits: a
    ROLLBACK would make psycopg deallocate them)."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT statement, generic_plans, custom_plans "
                                 "FROM pg_prepared_statements")).all()
    return [(int(g), int(c)) for s, g, c in rows if all(f in s for f in fragments)]


def planned_once(found: Plans) -> bool:
    """Prepared, and running on its generic plan (not planned afresh on every call)."""
    return bool(found) and all(generic > 0 for generic, _custom in found)


def settled_history(world: factories.World, like: int, per_province: int) -> None:
    """Twenty earlier, closed rounds of the programme and `per_province` settled cases in
    each province spread over them, copies of case `like` (approved, declined, withdrawn,
    re-evaluated: the history a national instance holds), then fresh statistics, as
    autovacuum would gather them."""
    with world.uow() as u:
        u.session.execute(text(
            "INSERT INTO rounds (year, name_zh, name_en, params, created_at, opened_on,"
            " closed_on, programme) SELECT y, y || '年度', y::text, r.params, r.created_at,"
            " make_date(y, 2, 28), make_date(y, 12, 31), r.programme"
            " FROM rounds AS r, generate_series(1986, 2005) AS y"
            " WHERE r.id = (SELECT round_id FROM applications WHERE id = :id)"), {"id": like})
        u.session.execute(text(
            "INSERT INTO applications (round_id, authority_id, owner_id, kind, industry_field,"
            " state, version, form, attestations, applicant_name, submitted_at, created_at,"
            " updated_at, state_changed_at) SELECT r.id, p.id, a.owner_id, a.kind,"
            " a.industry_field, (ARRAY['approved', 'declined', 'withdrawn', 're_evaluated'])"
            "[1 + g % 4], 1, a.form, a.attestations, a.applicant_name || g, a.submitted_at,"
            " a.created_at, a.updated_at, a.state_changed_at"
            " FROM applications AS a, authorities AS p, generate_series(1, :n) AS g, rounds AS r"
            " WHERE a.id = :id AND p.parent_id IS NULL AND r.year = 1986 + g % 20"),
            {"n": per_province, "id": like})
        u.session.execute(text("ANALYZE"))
        u.commit()


def test_the_inbox_page_and_its_count_are_planned_once_not_on_every_call(
        world: factories.World, one_connection: tuple[Engine, Any]) -> None:
    first = factories.submitted(world, applicant_name="湖北第一集群")
    factories.submitted(world, applicant_name="湖北第二集群")
    settled_history(world, first, 100)
    engine, uow = one_connection
    for _ in range(CALLS):
        page = cases.list_applications(uow(), world.id("hubei_reviewer"), waiting_on_me=True,
                                       now=NOW)
        assert page.total == 2 and {r.id for r in page.items} >= {first}
    assert planned_once(plans(engine, "FROM applications", "ORDER BY coalesce"))
    assert planned_once(plans(engine, "SELECT count(*)", "FROM applications"))


def test_the_dashboard_counts_are_planned_once_not_on_every_call(
        world: factories.World, one_connection: tuple[Engine, Any]) -> None:
    settled_history(world, factories.submitted(world), 200)
    engine, uow = one_connection
    for _ in range(CALLS):
        board = dashboard.overview(uow(), world.id("mofcom"))
        assert board.total == 1 + 200 * 37 and board.designated == 100 * 37
    assert planned_once(plans(engine, "AS designated", "GROUP BY authorities.region"))
    assert planned_once(plans(engine, "AS designated", "GROUP BY rounds.year ORDER BY"))


def other_trails(world: factories.World, chains: int, records: int) -> None:
    """The audit trails of `chains` other cases, `records` each (their records as the
    table holds them; their hashes are not this test's subject), then fresh statistics."""
    with world.uow() as u:
        u.session.execute(text(
            "INSERT INTO audit_log (at, event, result, details, prev_hash, hash, chain)"
            " SELECT now(), 'case_action', 'ok', '{}', md5('p' || g), md5('h' || g),"
            " 'application:' || (100000 + g % :chains) FROM generate_series(1, :n) AS g"),
            {"chains": chains, "n": chains * records})
        u.session.execute(text("ANALYZE audit_log"))
        u.commit()


def send_back_and_resubmit(world: factories.World, uow: Any, app_id: int) -> None:
    cases.fire(uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None,
               reason="补充材料", now=NOW)
    cases.fire(uow(), world.id("hubei_applicant"), app_id, "submit", None, now=NOW)


@pytest.fixture
def among_trails(world: factories.World) -> int:
    """A submitted case among 200 other cases' audit trails of 200 records each."""
    app_id = factories.submitted(world)
    other_trails(world, chains=200, records=200)
    return app_id


def test_the_case_loader_is_planned_once_not_on_every_transition(
        world: factories.World, among_trails: int, one_connection: tuple[Engine, Any]) -> None:
    app_id = among_trails
    engine, uow = one_connection
    for _ in range(CALLS):
        send_back_and_resubmit(world, uow, app_id)
    assert planned_once(plans(engine, "AS audit_head"))  # cases_repo.read_case


def test_the_case_page_reads_the_case_on_a_plan_made_once(
        world: factories.World, among_trails: int, one_connection: tuple[Engine, Any]) -> None:
    app_id = among_trails
    engine, uow = one_connection
    for _ in range(CALLS):
        loaded = cases.load(uow(), world.id("hubei_reviewer"), app_id, now=NOW)
        assert loaded.case.state == "provincially_reviewed"
        history = cases.history_of(uow(), world.id("hubei_reviewer"), app_id)
        assert [h.trigger for h in history] == ["submit"]
    assert planned_once(plans(engine, "AS audit_head"))  # cases_repo.read_case
    assert planned_once(plans(engine, "FROM transition_history"))
