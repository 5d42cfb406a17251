"""Fresh, migrated databases for tests: a SQLite file, or a PostgreSQL database from a template.

PostgreSQL is used when HANDPOST_TEST_POSTGRES_URL points at a server (scripts/test starts a
throwaway one). Each test gets its own database, cloned from a migrated template, so tests
never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.migrate import upgrade

POSTGRES_ENV = "HANDPOST_TEST_POSTGRES_URL"
TEMPLATE = "handpost_test_template"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _with_database(url: str, name: str) -> str:
    base, _, _old = url.rpartition("/")
    return f"{base}/{name}"


def _admin(sql: str) -> None:
    import psycopg

    admin = postgres_admin_url()
    assert admin is not None
    with psycopg.connect(
        admin.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


_template_ready = False


def _ensure_template() -> None:
    global _template_ready
    if _template_ready:
        return
    admin = postgres_admin_url()
    assert admin is not None
    _admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{TEMPLATE}"')
    upgrade(_with_database(admin, TEMPLATE))
    _template_ready = True


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        path = tmp_path / f"handpost-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    admin = postgres_admin_url()
    assert admin is not None
    _ensure_template()
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    try:
        yield _with_database(admin, name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_kinds() -> list[str]:
    kinds = ["sqlite"]
    if postgres_admin_url():
        kinds.append("postgresql")
    elif os.environ.get("CI") == "true":
        raise RuntimeError(
            f"CI must test on PostgreSQL too: set {POSTGRES_ENV} (scripts/test starts a server)."
        )
    return kinds
