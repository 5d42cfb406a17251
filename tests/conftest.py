from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.db import Database
from service.main import create_app
from tests.support.databases import database_kinds, fresh_database


@pytest.fixture(params=database_kinds())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database; every test using it runs on SQLite and on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(database_url: str) -> Iterator[AppFactory]:
    """Start the app (with its dispatcher unless dispatch=False) on the test's database."""
    with ExitStack() as stack:

        def factory(dispatch: bool = True, **overrides: Any) -> TestClient:
            settings = Settings(
                database_url=database_url,
                poll_seconds=overrides.pop("poll_seconds", 0.2),
                **overrides,
            )
            client = TestClient(create_app(settings, dispatch=dispatch))
            return stack.enter_context(client)

        yield factory


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    """The API without a dispatcher: nothing is published behind the test's back."""
    return make_client(dispatch=False)
