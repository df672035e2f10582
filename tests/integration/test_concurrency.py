"""Concurrent reviewers across processes (gunicorn and Celery run several): of N
conflicting triggers on one case exactly one wins, and no history row is lost or doubled."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from workflow.errors import DomainError
from workflow.services import clock

N_PROCESSES = int(os.environ.get("CONCURRENCY_PROCESSES", "16"))
REPEATS = int(os.environ.get("CONCURRENCY_REPEATS", "100"))
CONFLICTING = ("recommend", "decline", "return_for_revision")


def _worker(url: str, user_id: int, barrier: Any, inbox: Any, outbox: Any) -> None:
    from workflow.services import cases
    from workflow.storage.db import _engines, session_factory
    from workflow.storage.uow import UnitOfWork

    _engines.clear()  # never reuse the parent's connections after fork
    factory = session_factory(url)
    while True:
        job = inbox.get()
        if job is None:
            return
        app_id, trigger, version = job
        barrier.wait(timeout=60)
        try:
            fired = cases.fire(UnitOfWork(factory=factory), user_id, app_id, trigger, version,
                               reason="并发测试")
            outbox.put(("ok", fired.to_state))
        except DomainError as err:
            outbox.put((err.code, None))
        except Exception as exc:  # noqa: BLE001 - report anything unexpected to the test
            outbox.put((f"crash:{type(exc).__name__}:{exc}", None))


@pytest.fixture
def pool(pg_url: str, uow: Any, request: pytest.FixtureRequest) -> Any:
    world = factories.build_world(uow)
    # the processes recommend within the round (before 30 April 2006, 002 §六(三))
    clock.freeze(datetime(2006, 4, 20, 2, tzinfo=UTC))
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(N_PROCESSES)
    inboxes = [ctx.Queue() for _ in range(N_PROCESSES)]
    results = ctx.Queue()
    reviewers = [world.id("hubei_reviewer"), world.id("hubei_reviewer2")]
    procs = [ctx.Process(target=_worker, args=(pg_url, reviewers[i % 2], barrier, inboxes[i],
                                               results), daemon=True)
             for i in range(N_PROCESSES)]
    for p in procs:
        p.start()
    yield world, inboxes, results
    for q in inboxes:
        q.put(None)
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    clock.freeze(None)


@pytest.fixture
def uow(pg_url: str) -> Any:  # PostgreSQL only: overrides the two-database fixture
    from workflow.storage.db import session_factory
    from workflow.storage.uow import UnitOfWork

    factory = session_factory(pg_url)
    return lambda: UnitOfWork(factory=factory)


def test_sixteen_processes_firing_at_one_case_exactly_one_wins_every_time(pool: Any) -> None:
    from workflow.services import cases

    world, inboxes, results = pool
    for attempt in range(REPEATS):
        base = factories.add_base(world, "420000", f"并发{attempt}国家高新技术产品出口基地")
        app_id = factories.submitted(world, kind="recertification", existing_base_id=base,
                                     applicant_name=f"并发{attempt}")
        factories.files.attach(world.uow(), world.id("hubei_reviewer"), app_id,
                               "recommendation_letter", "l.pdf", factories.PDF,
                               world.upload_dir, 10**7)
        before = cases.load(world.uow(), world.id("mofcom"), app_id)
        history_before = len(cases.history_of(world.uow(), world.id("mofcom"), app_id))
        for i, q in enumerate(inboxes):
            q.put((app_id, CONFLICTING[i % len(CONFLICTING)], before.row.version))
        outcome = Counter(results.get(timeout=60)[0] for _ in inboxes)
        after = cases.load(world.uow(), world.id("mofcom"), app_id)
        history = cases.history_of(world.uow(), world.id("mofcom"), app_id)
        assert outcome["ok"] == 1, f"attempt {attempt}: {dict(outcome)}"
        assert outcome["version_conflict"] == N_PROCESSES - 1, f"attempt {attempt}: {outcome}"
        assert after.row.version == before.row.version + 1
        assert len(history) == history_before + 1
        assert history[-1].to_state == after.row.state
        # the case was recommended at most once: quota bookkeeping sees one winner
        if after.row.state == "recommended":
            assert after.row.recommended_by_id is not None


def test_two_reviewers_recommending_two_new_bases_at_once_cannot_both_use_one_quota(
        pool: Any) -> None:
    from workflow.services import cases

    world, inboxes, results = pool
    for attempt in range(10):
        ids = []
        for k in range(2):
            app_id = factories.submitted(world, applicant_name=f"名额{attempt}-{k}")
            factories.files.attach(world.uow(), world.id("hubei_reviewer"), app_id,
                                   "recommendation_letter", "l.pdf", factories.PDF,
                                   world.upload_dir, 10**7)
            ids.append(app_id)
        versions = {i: cases.load(world.uow(), world.id("mofcom"), i).row.version for i in ids}
        for i, q in enumerate(inboxes):
            q.put((ids[i % 2], "recommend", versions[ids[i % 2]]))
        codes = Counter(results.get(timeout=60)[0] for _ in inboxes)
        states = [cases.load(world.uow(), world.id("mofcom"), i).row.state for i in ids]
        assert states.count("recommended") == 1, (attempt, states, codes)
        assert codes["ok"] == 1 and codes["quota_exceeded"] >= 1, codes
        # undo for the next attempt: the ministry rejects the recommended one
        winner = ids[states.index("recommended")]
        cases.fire(world.uow(), world.id("mofcom"), winner, "reject", None, reason="重置")
