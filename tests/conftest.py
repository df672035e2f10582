"""Shared fixtures: real SQLite and PostgreSQL databases, Redis, the Flask app.

Database tests take the `db_url` fixture, parametrised over SQLite and PostgreSQL, so the
suite runs once on each. A missing server (or a command a test runs, such as pg_dump or
openssl) skips its tests with a message naming it, unless REQUIRE_SERVICES=1, which makes
that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from config import Settings, for_tests
from tests import factories
from tests.databases import create_database, drop_database
from tests.smtp_sink import SmtpServer

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
PG_BASE = os.environ.get("TEST_DATABASE_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def missing(what: str, why: str) -> None:
    """Skip (or fail, with REQUIRE_SERVICES=1) naming the missing server."""
    msg = f"{what} is not available ({why}); set {'TEST_DATABASE_URL' if 'Postgre' in what else 'TEST_REDIS_URL'} or start it (see ../shared/SERVICES.md)"
    if REQUIRE_SERVICES:
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def require_command(name: str, package: str) -> None:
    """Skip (or fail, with REQUIRE_SERVICES=1) when a command a test runs is not installed."""
    import shutil

    if shutil.which(name) is not None:
        return
    msg = f"`{name}` is not installed (Debian's {package} package)"
    if REQUIRE_SERVICES:
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    try:
        url = create_database(PG_BASE, "eib_test")
    except Exception as exc:  # noqa: BLE001
        missing("PostgreSQL", f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def migrated_pg(pg_server: str) -> str:
    from workflow.storage.migrate import upgrade

    upgrade(pg_server)
    return pg_server


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    from workflow.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


def _clean(url: str) -> None:
    from workflow.storage.db import get_engine
    from workflow.storage.models import Base

    engine = get_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(tables):
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    fixture = "migrated_sqlite" if request.param == "sqlite" else "migrated_pg"
    url: str = request.getfixturevalue(fixture)
    _clean(url)
    return url


@pytest.fixture
def pg_url(migrated_pg: str) -> str:
    """PostgreSQL only (concurrency across processes, benchmarks)."""
    _clean(migrated_pg)
    return migrated_pg


@pytest.fixture
def uow(db_url: str) -> Any:
    """A factory of units of work on the test database."""
    from workflow.storage.db import session_factory
    from workflow.storage.uow import UnitOfWork

    factory = session_factory(db_url)
    return lambda: UnitOfWork(factory=factory)


@pytest.fixture
def world(uow: Any) -> factories.World:
    """Authorities, the 2006 round, reference statistics and one user per role."""
    return factories.build_world(uow)


@pytest.fixture
def pinned_clock() -> Iterator[Callable[[datetime | None], None]]:
    """`clock.freeze`, to pin the app's clock in a test as often as it likes (a moment of
    `factories.at`); the wall clock again after the test, whatever it pinned."""
    from workflow.services import clock

    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        missing("Redis", f"{type(exc).__name__}")
    return REDIS_URL


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The settings `create_app(settings=…)` and `make_celery(…)` run with in a test: the test
    database, the in-memory broker, everything else under tmp_path/instance. A test wanting
    another setting passes `dataclasses.replace(settings, …)`; nothing reads the environment."""
    return for_tests(tmp_path / "instance", db_url)


class ClosingClient(FlaskClient):
    """Flask's test client reading each response as a WSGI server does: to its end, then
    closed (werkzeug's TestResponse.close), so a file a view sends (an export's spool, an
    attachment) and a large request body spooled to a temporary file are closed as in
    production instead of being left to the garbage collector (a ResourceWarning)."""

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        response = super().open(*args, buffered=buffered, **kwargs)
        response.close()  # the body stays readable: buffered, it is already in memory
        for each in (*response.history, response):  # close() may close only a wrapper
            each.request.environ["wsgi.input"].close()
        return response


@pytest.fixture(autouse=True, scope="session")
def _test_clients_close_responses() -> Iterator[None]:
    """Every app's test client is a ClosingClient (Flask's documented test_client_class)."""
    from flask import Flask

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Flask, "test_client_class", ClosingClient)
        yield


@pytest.fixture
def app(settings: Settings, world: factories.World) -> Any:
    from web import create_app

    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=settings)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def api(client: Any) -> factories.ApiClient:
    """Call the JSON API as any demo user: `api.as_("hubei_reviewer").get(...)`."""
    return factories.ApiClient(client)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) for the test's length: `smtp.settings(…)` sends to it
    in this process, `smtp.env()` in a worker the test starts."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def published_tasks() -> Iterator[list[tuple[str, list[Any]]]]:
    """(task name, args) of every task published while the test runs (Celery's own
    `before_task_publish` signal), whatever broker the shared Celery app was given."""
    from celery.signals import before_task_publish

    seen: list[tuple[str, list[Any]]] = []

    def capture(headers: dict[str, Any] | None = None, body: Any = None, **_: Any) -> None:
        seen.append(((headers or {}).get("task", ""), list(body[0]) if body else []))

    before_task_publish.connect(capture, weak=False)
    yield seen
    before_task_publish.disconnect(capture)
