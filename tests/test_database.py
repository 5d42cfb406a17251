"""The embedded database in a long-running process: its write-ahead log is checkpointed in the
background, never on a request's path, and still reaches the database file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from service.db import Database
from tests.support.api import wait_for


def test_a_long_running_process_checkpoints_sqlite_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "handpost.db"
    database = Database(f"sqlite:///{path}")
    with database.session() as session:
        session.execute(text("CREATE TABLE filler (payload TEXT)"))
        session.commit()
    database.checkpoint_in_background()
    try:
        with database.engine.connect() as connection:
            # A commit never checkpoints: the request that made it would wait for the copy.
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        before = path.stat().st_size
        # About 300 pages: under the 1,000 at which SQLite would checkpoint by itself.
        with database.session() as session:
            for n in range(300):
                session.execute(
                    text("INSERT INTO filler (payload) VALUES (:payload)"),
                    {"payload": f"{n:04d}" + "x" * 3000},
                )
            session.commit()
        # The background checkpoint copies the log into the database file.
        wait_for(lambda: path.stat().st_size > before + 300 * 3000, timeout=10)
    finally:
        database.dispose()
