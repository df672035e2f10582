"""Engines and sessions. SQLite gets WAL, foreign keys and serialised writers."""

from __future__ import annotations

import json
import select
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below take over
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


READ_ONLY = "eib_read_only"  # execution option of a unit of work that only reads


def _sqlite_begin(conn: Any) -> None:
    # A unit of work that writes begins IMMEDIATE: it takes the write lock up front, so
    # two processes checking a quota or a version cannot both read-then-write (the second
    # waits, busy_timeout). One that only reads (`UnitOfWork.read`) begins deferred: under
    # WAL it reads a snapshot and never waits for a writer.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def make_engine(url: str, **kw: Any) -> Engine:
    """A new engine for `url` (SQLite: WAL + foreign keys + immediate transactions)."""
    kw.setdefault("json_serializer", _json)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    engine = create_engine(url, **kw)
    if not kw.get("pool_pre_ping"):
        _check_on_checkout(engine)
    _note_writes(engine, autocommit=kw.get("isolation_level") == "AUTOCOMMIT")
    return engine


PING_AFTER_IDLE_SECONDS = 5.0


def _hung_up(dbapi_conn: Any) -> bool:
    """Has the server said anything to this idle connection? An idle connection is owed
    nothing, so whatever is there is in practice its farewell: "terminating connection"
    (pg_terminate_backend, a restart) or the closed socket itself. One poll(2) on the
    socket, no round trip."""
    try:
        fd = dbapi_conn.fileno()
    except Exception:  # noqa: BLE001 - closed already
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _check_on_checkout(engine: Engine) -> None:
    """Before a pooled connection is handed out: one the server has hung up on is
    replaced (`_hung_up`, no round trip), and one that sat in the pool for more than
    PING_AFTER_IDLE_SECONDS is pinged as `pool_pre_ping` would (a peer that vanished
    without a word). Pinging on every checkout cost a round trip per transaction (a fifth
    of a transition's time); one returned a moment ago and not hung up on is alive."""

    def checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if _hung_up(dbapi_conn):
            raise DisconnectionError()
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure means: reconnect
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


# --- may a use case that lost its connection run again? ----------------------------------

class Writes:
    """Whether anything may have been written since `watch_writes()`: a COMMIT was sent
    (even one whose answer never came), or a connection was put in autocommit."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False


_writes: ContextVar[Writes | None] = ContextVar("db_writes", default=None)


def watch_writes() -> Writes:
    """Start watching this context's writes (a web request does, in `web.App`)."""
    writes = Writes()
    _writes.set(writes)
    return writes


def may_have_written() -> None:
    """Record that what runs now may write (nothing to do when no one is watching)."""
    writes = _writes.get()
    if writes is not None:
        writes.seen = True


def writes_mark() -> Callable[[], None]:
    """What, called later, forgets the writes this context makes from now until then:
    writes that may be made again at will (bookkeeping such as a token's last use) do not
    keep a use case that lost its connection afterwards from running again."""
    writes = _writes.get()
    if writes is None:
        return lambda: None
    seen = writes.seen

    def forget() -> None:
        writes.seen = seen

    return forget


def lost_before_writing(exc: BaseException, writes: Writes) -> bool:
    """Did `exc` come from a database connection that was lost (killed, restarted, cut)
    before anything was written since `writes` began? Then nothing of the use case
    happened and it is safe to run it again on a new connection."""
    return (isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
            and not writes.seen)


def _note_writes(engine: Engine, autocommit: bool) -> None:
    if autocommit:  # every statement commits by itself: any use may write
        event.listen(engine, "engine_connect", lambda _conn: may_have_written())
        return
    event.listen(engine, "commit", lambda _conn: may_have_written())  # before it is sent

    def options(_conn: Any, opts: dict[str, Any]) -> None:
        if opts.get("isolation_level") == "AUTOCOMMIT":  # e.g. the outbox's sender
            may_have_written()

    event.listen(engine, "set_connection_execution_options", options)


_statement_engines: dict[Engine, Engine] = {}


def statement_engine(engine: Engine) -> Engine:
    """`engine` with each statement committing by itself (AUTOCOMMIT), on the same pool:
    no BEGIN and no COMMIT round trip. The connection goes back to the pool in the
    engine's own isolation level."""
    hit = _statement_engines.get(engine)
    if hit is None:
        hit = _statement_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return hit


def get_engine(url: str) -> Engine:
    """One engine per URL per process (reset after fork by `dispose_all`)."""
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = make_engine(url)
    return engine


def dispose_all() -> None:
    """Let a forked child open connections of its own (the parent's stay the parent's)."""
    for engine in _engines.values():
        engine.dispose(close=False)


def forget(url: str) -> None:
    """Close and drop everything this process keeps for `url` (its engine, its session
    factory and their pooled connections), e.g. before that database is dropped."""
    engine = _engines.pop(url, None)
    _factories.pop(url, None)
    if engine is not None:
        _statement_engines.pop(engine, None)
        engine.dispose()


_factories: dict[str, tuple[Engine, sessionmaker[Session]]] = {}


def session_factory(url: str) -> sessionmaker[Session]:
    """The session factory on `url`'s engine, made once per engine: each `sessionmaker`
    defines a Session subclass, which SQLAlchemy then sets up its event dispatch for on
    first use — per request or per task that was ≈ 0.16 ms. A replaced engine (after
    `_engines` was reset) gets a new one."""
    engine = get_engine(url)
    hit = _factories.get(url)
    if hit is None or hit[0] is not engine:
        hit = _factories[url] = (engine, sessionmaker(bind=engine, expire_on_commit=False,
                                                      autoflush=False))
    return hit[1]
