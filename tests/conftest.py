from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.db import Database
from service.main import create_app
from service.users import repository as users_repository
from service.users import service as users
from tests.support.databases import database_kinds, fresh_database

# The loopback network emulator (tests/emulator): fixtures `emulator` and `network`; real
# servers (tests/realservers: WordPress, Ghost, the reference Bluesky PDS); and the rule that
# tests write nothing into the checkout.
pytest_plugins = [
    "tests.emulator.fixtures",
    "tests.support.live",
    "tests.support.webhooks",
    "tests.support.smtp",
    "tests.realservers.fixtures",
    "tests.support.realpds",
    "tests.support.s3",
    "tests.support.connect",
    "tests.support.youtube",
    "tests.support.checkout",
]


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
TokenFactory = Callable[[str], str]

TEST_USER = "tester"
# GET /metrics on the API needs HANDPOST_METRICS_TOKEN; every test app has this one.
METRICS_TOKEN = "test-metrics-token"


@pytest.fixture
def user_token(database: Database) -> TokenFactory:
    """A session token for the named user, created on first use (one user per name)."""
    tokens: dict[str, str] = {}

    def token_for(username: str) -> str:
        if username not in tokens:
            with database.session() as session:
                user = users_repository.find_by_username(session, username)
                if user is None:
                    user = users.create_user(session, username, f"{username}-password-123")
                _token, tokens[username] = users.issue_token(
                    session, user, kind="session", name="test", ttl=timedelta(hours=1)
                )
                session.commit()
        return tokens[username]

    return token_for


@pytest.fixture
def make_client(
    database_url: str, user_token: TokenFactory, tmp_path: Path
) -> Iterator[AppFactory]:
    """Start the app (with its dispatcher unless dispatch=False) on the test's database,
    signed in as ``as_user`` (the default test user; None for an anonymous client)."""
    with ExitStack() as stack:

        def factory(
            dispatch: bool = True, as_user: str | None = TEST_USER, **overrides: Any
        ) -> TestClient:
            settings = Settings(
                database_url=database_url,
                poll_seconds=overrides.pop("poll_seconds", 0.2),
                metrics_token=overrides.pop("metrics_token", METRICS_TOKEN),
                # Media files and the key that signs their links stay in the test's directory.
                media_dir=overrides.pop("media_dir", tmp_path / "media"),
                secret_key_file=overrides.pop("secret_key_file", tmp_path / "handpost.key"),
                **overrides,
            )
            client = stack.enter_context(TestClient(create_app(settings, dispatch=dispatch)))
            if as_user is not None:
                client.headers["Authorization"] = f"Bearer {user_token(as_user)}"
            return client

        yield factory


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    """The API without a dispatcher: nothing is published behind the test's back."""
    return make_client(dispatch=False)
