"""Unit of work: one database transaction per use case.

A service records what happened (`uow.record("case_transitioned", …)`); once the
transaction has committed, the unit of work hands each event to the listeners registered
with `on_event` — never before, and never for a rolled-back one. No listener is registered
today: notifications and webhooks are built from the transition history by the worker's
sweeps (`services/events.py`, `services/webhooks.py`), metrics by `services/observe.py`."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflow.storage.db import (
    READ_ONLY,
    may_have_written,
    session_factory,
    statement_engine,
    writes_mark,
)

DbSession = Session  # what services may name in type hints
DbConnection = Connection  # likewise: `UnitOfWork.connection`

AfterCommit = Callable[[], Any]
_listeners: list[Callable[[str, dict[str, Any]], None]] = []


def on_event(listener: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
    """Register a handler for domain events (called after commit, never inside it);
    returns what unregisters it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def lost_connection(exc: BaseException) -> bool:
    """Did `exc` come from a database connection that was lost (killed, restarted, cut)?"""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class UnitOfWork:
    """``with UnitOfWork(url) as uow: … uow.commit()`` — rolls back unless committed.

    Every service takes one of these. Each ``with uow:`` (or ``with uow.read():``) is a
    fresh transaction on a fresh session, so a service that needs one transaction per item
    (`cases.bulk_fire`, `assessment.confirm`) or several in turn (`assessment.execute`)
    enters the same instance again; only one block is open at a time."""

    def __init__(self, url: str | None = None, factory: sessionmaker[Session] | None = None):
        """On `url` (the caller's `Settings.database_url`) or a session `factory` bound to
        one: the unit of work never reads the environment (issue 19)."""
        if factory is None:
            if url is None:
                raise TypeError("UnitOfWork needs the database: a url (Settings.database_url) "
                                "or a session factory")
            factory = session_factory(url)
        self._factory = factory
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._session: Session | None = None
        self._connection: Connection | None = None
        self._reading = False
        self._repeatable = False
        self._statements = self._self_committing = False
        self._forget_writes: Callable[[], None] | None = None

    @property
    def session(self) -> Session:
        """The unit of work's session (its transaction), opened on first use. Under
        `statements` on PostgreSQL it is a session on the unit of work's own
        self-committing `connection` (opened only when an ORM read or write needs it)."""
        if self._session is None:
            if self._reading:
                self._session = self._factory(execution_options={READ_ONLY: True},
                                              expire_on_commit=False)
            elif self._own_connection():
                self._session = self._factory(bind=self.connection)
            else:
                self._session = self._factory()
        return self._session

    @property
    def connection(self) -> Connection:
        """The connection the unit of work's Core statements run on: its session's (in
        its transaction) — or, under `statements` on PostgreSQL, a pooled connection of its
        own whose statements each commit by themselves, with no `Session` around it (a
        plain transition's read and write need none: the ORM's bookkeeping per use case
        was ≈ 0.1 ms)."""
        if self._connection is None:
            if self._own_connection():
                self._connection = statement_engine(self.engine).connect()
                self._self_committing = True
            else:
                self._connection = self.session.connection()
        return self._connection

    def _own_connection(self) -> bool:
        return (self._statements and not self._reading
                and self.engine.dialect.name == "postgresql")

    def read(self) -> UnitOfWork:
        """``with uow.read(): …`` — a unit of work that only reads. On SQLite it begins a
        deferred transaction (a snapshot, under WAL) instead of taking the write lock, so
        pages never wait for a writer such as the reminder scan. On PostgreSQL it ends with
        COMMIT, not ROLLBACK, so its connection keeps its prepared statements
        (`_end_reading`)."""
        self._reading = True
        return self

    def statements(self) -> UnitOfWork:
        """``with uow.statements(): …`` — on PostgreSQL, a unit of work whose statements
        each commit by themselves (no BEGIN, no COMMIT: two round trips fewer), for a use
        case of reads and one atomic write that is conditional on what it read (a
        transition that asks for no lock). Elsewhere an ordinary transaction. Call
        `may_write` just before that write."""
        self._statements = True
        return self

    @staticmethod
    def may_write() -> None:
        """What runs next may write and commit by itself: a request that loses its
        connection from now on is not run again (`db.lost_before_writing`)."""
        may_have_written()

    def repeatable(self) -> UnitOfWork:
        """``with uow.repeatable(): …`` — a unit of work whose writes may be made again at
        will (bookkeeping: a token's last use). Its COMMIT does not count as the request's
        write, so a request that loses its connection afterwards still runs again
        (`db.lost_before_writing`, `web.App`)."""
        self._repeatable = True
        return self

    @property
    def engine(self) -> Engine:
        return self._factory.kw["bind"]  # type: ignore[no-any-return]

    def another(self) -> UnitOfWork:
        """A new unit of work on the same database (e.g. to record what this one refused
        after it rolled back)."""
        return UnitOfWork(factory=self._factory)

    def __enter__(self) -> UnitOfWork:
        self._session = self._connection = None
        self.events = []
        self._forget_writes = writes_mark() if self._repeatable else None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back anything uncommitted and detaches loaded objects without
        # expiring them, so results stay readable after the block
        if self._session is not None:
            if self._reading and exc_type is None:
                _end_reading(self._session)
            self._session.close()
        if self._self_committing and self._connection is not None:
            self._connection.close()  # its own (`connection`); else the session's, closed
        self._session = self._connection = None
        self._reading = self._repeatable = self._statements = False
        self._self_committing = False
        if self._forget_writes is not None:
            self._forget_writes()
            self._forget_writes = None

    def record(self, name: str, **payload: Any) -> None:
        """Queue a domain event; dispatched only once the transaction has committed."""
        self.events.append((name, payload))

    def commit(self) -> None:
        s = self._session
        # self-committing statements (`statements`) leave nothing to commit but the ORM's
        # pending objects, if any
        if s is not None and (s.new or s.dirty or s.deleted
                              or (s.in_transaction() and not self._self_committing)):
            s.commit()
        events, self.events = self.events, []
        for name, payload in events:
            for listener in list(_listeners):
                listener(name, payload)


def _end_reading(session: Session) -> None:
    """End a unit of work that only read with COMMIT instead of ROLLBACK (PostgreSQL).
    psycopg deallocates every statement it has prepared on a connection when a
    transaction there rolls back (DEALLOCATE ALL), and forgets how often it has seen the
    others: with reads rolled back, no statement of a page (inbox, case page, dashboard)
    was ever prepared, so each was parsed and planned on every call. A transaction that
    wrote nothing commits nothing; with anything pending in the session (never flushed:
    a reader writes nothing) it still rolls back. The COMMIT is not a write: a request
    that loses its connection afterwards may still run again (`db.lost_before_writing`)."""
    transaction = session.get_transaction()  # None: it never reached the database
    if (session.get_bind().dialect.name == "postgresql" and transaction is not None
            and transaction.is_active  # not given up already (a failed flush)
            and not (session.new or session.dirty or session.deleted)):
        forget = writes_mark()
        try:
            session.commit()
        except DBAPIError:  # e.g. the connection was lost: what was read stands all the same
            pass
        finally:
            forget()


class Conflict(Exception):
    """A concurrent writer changed the row first (stale version or duplicate key)."""


def flush_or_conflict(session: Session) -> None:
    """Flush; the UPDATE carries "WHERE version = <read version>", so a writer that got
    there first turns this one into `Conflict`."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise Conflict() from None
