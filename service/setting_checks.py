"""Settings that would fail later, checked when they are read: a value Handpost cannot use is
refused with one sentence saying what to write instead, before anything starts or connects."""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

EXPECTED = "sqlite:///path/to/handpost.db or postgresql+psycopg://user:password@host/database"
# The driver Handpost installs for PostgreSQL; plain postgresql:// (and Heroku's postgres://)
# mean it, whichever driver SQLAlchemy would pick by default.
POSTGRES_DRIVER = "postgresql+psycopg"


def checked_database_url(url: str) -> str:
    """``url`` itself, or with PostgreSQL's driver named; ValueError if it cannot work."""
    try:
        drivername = make_url(url).drivername
    except ArgumentError:
        raise ValueError(f"not a database URL; expected {EXPECTED}") from None
    backend, _, driver = drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return POSTGRES_DRIVER + url[url.index("://") :]
    if backend in ("postgresql", "postgres"):
        raise ValueError(f"the {driver} driver is not installed; use {POSTGRES_DRIVER}://...")
    raise ValueError(f"Handpost runs on SQLite or PostgreSQL, not {backend}; expected {EXPECTED}")


def checked_log_level(level: str) -> str:
    if level.upper() not in logging.getLevelNamesMapping():
        raise ValueError("a log level is DEBUG, INFO, WARNING or ERROR")
    return level


def checked_secret_keys(keys: SecretStr | None) -> SecretStr | None:
    """Each comma-separated key must be a Fernet key, found out now rather than at the first
    account given credentials."""
    for key in (keys.get_secret_value() if keys else "").split(","):
        try:
            if key.strip():
                Fernet(key.strip())
        except ValueError:
            raise ValueError(
                "each key is 32 url-safe base64-encoded bytes, as Fernet.generate_key() makes"
            ) from None
    return keys
