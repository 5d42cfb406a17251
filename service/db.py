"""Engine, sessions and the column types every feature shares."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Engine, event, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

log = logging.getLogger("handpost.db")


class DatabaseBusy(Exception):
    """The database could not take this request's write in time (SQLite's single writer)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class PoolLimits:
    """How many connections a process keeps, and how long a request may wait for one.

    The wait is short on purpose: a request that cannot get a connection in a few seconds
    gets a 503 problem with Retry-After, not a 30-second hang followed by a 500.
    """

    size: int = 20
    timeout: float = 5.0
    # SQLite: how long a writer waits for the file's single write lock.
    write_wait: float = 5.0


def make_engine(url: str, limits: PoolLimits | None = None) -> Engine:
    limits = limits or PoolLimits()
    if url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")
        # An in-memory database lives in one connection (SingletonThreadPool): no queue.
        queue = {} if in_memory else {"max_overflow": 0, "pool_timeout": limits.timeout}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": limits.write_wait},
            pool_size=limits.size,
            **queue,
        )
        event.listen(engine, "connect", _sqlite_pragmas(limits.write_wait))
        _serialise_writers(engine, _write_lock_for(url), limits.write_wait)
        return engine
    return create_engine(
        url,
        pool_size=limits.size,
        max_overflow=0,
        pool_timeout=limits.timeout,
        pool_pre_ping=True,
    )


def _sqlite_pragmas(write_wait: float) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" event below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(write_wait * 1000)}")
        cursor.close()

    return pragmas


READ_ONLY = "handpost_read_only"


class _WriteLock:
    """SQLite has one writer at a time. This process's writers queue here first.

    Without it they queue in SQLite's busy handler, which polls with sleeps growing to 100 ms:
    under concurrent writes the unluckiest writer waited hundreds of milliseconds, even
    seconds, while the lock was free most of that time. A threading lock hands over at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: Any = None

    def acquire(self, dbapi_connection: Any, timeout: float) -> None:
        if not self._lock.acquire(timeout=timeout):
            raise DatabaseBusy(f"no write to the database was possible for {timeout:g} s")
        self._holder = dbapi_connection

    def release(self, dbapi_connection: Any) -> None:
        if dbapi_connection is not None and self._holder is dbapi_connection:
            self._holder = None
            self._lock.release()


_WRITE_LOCKS: dict[str, _WriteLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock_for(url: str) -> _WriteLock:
    """One lock per database file, shared by every engine of this process that opens it."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(url, _WriteLock())


def _raw(connection: Any) -> Any:
    return getattr(connection, "dbapi_connection", connection)


def _serialise_writers(engine: Engine, lock: _WriteLock, write_wait: float) -> None:
    # A writing transaction takes the write lock at BEGIN, so a read-then-write never fails
    # half-way with "database is locked" when another writer got there first; it waits
    # instead. Read-only transactions use a plain BEGIN: under WAL they never block anyone.
    def begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        raw = _raw(connection.connection)
        lock.acquire(raw, write_wait)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            lock.release(raw)
            raise

    # Released once COMMIT or ROLLBACK has run (SQLAlchemy's events fire before them), and
    # when a connection is closed or invalidated with a transaction open.
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            lock.release(_raw(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            lock.release(_raw(dbapi_connection))

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    event.listen(engine, "begin", begin)
    event.listen(engine.pool, "close", lambda raw, _record: lock.release(raw))
    event.listen(engine.pool, "invalidate", lambda raw, _record, _exc: lock.release(raw))


# How often a long-running process checkpoints a SQLite database's write-ahead log.
CHECKPOINT_SECONDS = 1.0


class Database:
    """The process's engine; one per app so tests can run several apps side by side."""

    def __init__(self, url: str, limits: PoolLimits | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, limits)
        # The same pool, for sessions that only read: their connections say so at BEGIN.
        self._read_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._stop_checkpoints: threading.Event | None = None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self, *, read_only: bool = False) -> Session:
        """A session; ``read_only`` ones must not write (on SQLite they hold no write lock).

        It takes a connection from the pool at its first query, not before, and gives it
        back when it ends: a request holds a connection only while it needs one.
        """
        return Session(self._read_engine if read_only else self.engine, expire_on_commit=False)

    def checkpoint_in_background(self) -> None:
        """SQLite: copy the write-ahead log into the database in a thread of its own.

        Otherwise the commit that takes the log past 1,000 pages does it, and syncs the file,
        on a request's path: one create in thirty took twice as long (p99 19 ms, 12 ms with
        this). Connections made from now on leave checkpoints to this thread; it stops with
        ``dispose``. Short-lived processes need none: SQLite checkpoints when they close.
        """
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
            return
        if self._stop_checkpoints is not None:
            return

        def no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

        event.listen(self.engine, "connect", no_automatic_checkpoints)
        self.engine.dispose()  # pooled connections made before still checkpoint themselves
        stop = self._stop_checkpoints = threading.Event()

        def checkpoints() -> None:
            while not stop.wait(CHECKPOINT_SECONDS):
                try:
                    connection = self.engine.raw_connection()
                    try:  # outside a transaction: the driver connection is in autocommit
                        cursor = connection.cursor()
                        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                        cursor.close()
                    finally:
                        connection.close()
                except Exception:  # a busy or missing database: the next round tries again
                    log.exception("checkpointing the SQLite write-ahead log failed")

        threading.Thread(target=checkpoints, name="handpost-checkpoints", daemon=True).start()

    def dispose(self) -> None:
        if self._stop_checkpoints is not None:
            self._stop_checkpoints.set()
        self.engine.dispose()


def get_database(request: Request) -> Database:
    """The app's database (set by create_app).

    Read from the app's state rather than wired with ``app.dependency_overrides``: while any
    override is set, FastAPI rebuilds every dependency's signature on every request, which
    cost a third of a request's time.
    """
    database: Database = request.app.state.database
    return database


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the request's transaction has committed (e.g. wake the dispatcher)."""
    session.info.setdefault("on_commit", []).append(callback)


def get_session(
    request: Request, database: Annotated[Database, Depends(get_database)]
) -> Iterator[Session]:
    """One session per request, committed once after the endpoint returns, before the response."""
    with database.session(read_only=request.method in ("GET", "HEAD")) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        for callback in session.info.pop("on_commit", []):
            callback()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
