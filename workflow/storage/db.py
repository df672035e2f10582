"""Engines and sessions. SQLite gets WAL, foreign keys and serialised writers."""

from __future__ import annotations

import json
import os
import select
import threading
import time
import weakref
from contextvars import ContextVar
from typing import Any

from psycopg.pq import TransactionStatus
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
    (even one whose answer never came), a connection was put in autocommit, or a direct
    write (`repo.write_transition`) was sent."""

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


def get_engine(url: str) -> Engine:
    """One engine per URL per process (reset after fork by `dispose_all`)."""
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = make_engine(url)
    return engine


def dispose_all() -> None:
    for engine in [*_engines.values(), *(e for _, e in _siblings.values())]:
        engine.dispose(close=False)


def forget(url: str) -> None:
    """Close and drop everything this process keeps for `url` (its engine, session factory,
    sibling pool and the connections threads keep from it), e.g. before that database is
    dropped."""
    engine = _engines.pop(url, None)
    _factories.pop(url, None)
    if engine is None:
        return
    known = _siblings.pop(id(engine), None)
    if known is not None:
        for kept in list(_kept_from.pop(id(known[1]), ())):
            kept.drop()
        known[1].dispose()
    engine.dispose()


_siblings: dict[int, tuple[Engine, Engine]] = {}  # id(engine) -> (engine, its sibling)


def statement_engine(engine: Engine) -> Engine:
    """A PostgreSQL engine on the same database whose connections stay in autocommit,
    for use cases made of single statements (`repo.Direct`): nothing to reset when one
    goes back to the pool, nothing to switch when it comes out. Its statements look rows
    up by key, so their prepared plans are always generic (`plan_cache_mode`): left to
    itself PostgreSQL sometimes keeps re-planning them per call ("custom plans"), which
    doubled the read's time. A small pool: a web worker fires one transition at a
    time."""
    known = _siblings.get(id(engine))
    if known is None or known[0] is not engine:
        sibling = make_engine(engine.url.render_as_string(hide_password=False),
                              isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                              pool_size=2, max_overflow=20,
                              connect_args={"options": "-c plan_cache_mode=force_generic_plan"})
        known = _siblings[id(engine)] = (engine, sibling)
    return known[1]


class Kept:
    """One thread's autocommit connection from a `statement_engine`, kept checked out
    between use cases: a web or task worker fires transitions one after another, and
    giving the connection back to the pool and taking it out again each time cost about
    as much as one of its statements' own work in Python. Like the pool, it replaces a
    connection the server hung up on and pings one that sat idle for
    PING_AFTER_IDLE_SECONDS before using it. It goes back to
    the pool when its thread ends; in a forked child it is left alone (it is the
    parent's)."""

    __slots__ = ("engine", "pooled", "driver", "cursor", "pid", "used_at", "__weakref__")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pooled: Any = engine.raw_connection()
        driver: Any = self.pooled.driver_connection
        self.driver = driver
        # results in binary: no text parsing of the read's ~50 columns (dates, numerics)
        self.cursor: Any = driver.cursor(binary=True)
        self.pid = os.getpid()
        self.used_at = time.monotonic()
        _kept_from.setdefault(id(engine), weakref.WeakSet()).add(self)

    def usable(self, engine: Engine, now: float) -> bool:
        if self.engine is not engine or self.pid != os.getpid():
            return False
        if self.pooled.dbapi_connection is None:  # invalidated (a disconnect, `forget`)
            return False
        if self.driver.info.transaction_status != TransactionStatus.IDLE:
            # a statement was cut off half-way (e.g. by a signal): start afresh
            self.pooled.invalidate()
            return False
        if _hung_up(self.driver):  # e.g. its server process was killed since last time
            self.pooled.invalidate()
            return False
        if now - self.used_at > PING_AFTER_IDLE_SECONDS:
            try:
                alive = engine.dialect.do_ping(self.driver)
            except Exception:  # noqa: BLE001 - any failure means: reconnect
                alive = False
            if not alive:
                self.pooled.invalidate()
                return False
        return True

    def drop(self) -> None:
        """Close this connection (its thread takes a new one next time)."""
        if self.pid == os.getpid() and self.pooled.dbapi_connection is not None:
            self.pooled.invalidate()

    def __del__(self) -> None:  # the thread ended, or the connection was replaced
        if self.pid != os.getpid():
            _inherited.append(self.pooled)  # the parent's socket: never touch it here
            return
        try:
            self.pooled.close()  # back to the pool (or closed, if invalidated)
        except Exception:  # noqa: BLE001 - at interpreter exit the pool may be gone
            pass


_kept_here = threading.local()
_kept_from: dict[int, weakref.WeakSet[Kept]] = {}  # id(statement engine) -> kept from it
_inherited: list[Any] = []  # connections a forked child must neither use nor close


def kept_connection(engine: Engine) -> Kept:
    """This thread's autocommit connection to `engine`'s database (`statement_engine`)."""
    statements = statement_engine(engine)
    mine: dict[int, Kept] | None = getattr(_kept_here, "by_engine", None)
    if mine is None:
        mine = _kept_here.by_engine = {}
    kept = mine.get(id(statements))
    now = time.monotonic()
    if kept is None or not kept.usable(statements, now):
        kept = mine[id(statements)] = Kept(statements)
    kept.used_at = now
    return kept


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
