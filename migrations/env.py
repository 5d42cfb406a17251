"""Alembic environment: the URL comes from the caller (service.migrate) or HANDPOST_DATABASE_URL."""

from __future__ import annotations

import logging
from typing import Any

from alembic import context

from service.config import get_settings
from service.db import make_engine
from service.models import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
log = logging.getLogger("handpost.migrate")


def _log_step(*, step: Any, **_context: Any) -> None:
    """One line per migration applied; Alembic's own lines are kept out of the logs."""
    revision = step.up_revision
    log.info(
        "migrated the database schema to %s%s",
        step.up_revision_id,
        f": {revision.doc}" if revision is not None and revision.doc else "",
    )


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode changes a table by copying it and dropping the old one; with foreign
            # keys enforced, dropping a table others refer to (posts, accounts) fails. Off for
            # the migration (SQLite ignores the pragma inside a transaction), checked after.
            # On the driver's connection: SQLAlchemy would send BEGIN first (service.db).
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
            on_version_apply=_log_step,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
