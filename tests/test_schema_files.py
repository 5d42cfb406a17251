"""Checked-in schema files agree with the code: migrations with models, openapi.yaml with app."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service.db import Database
from service.models import metadata
from service.openapi import render

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_produce_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == [], "models changed without a migration: add an Alembic revision"


def test_openapi_yaml_is_up_to_date() -> None:
    checked_in = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    assert checked_in == render(), "openapi.yaml is stale: run `python -m service.openapi`"
