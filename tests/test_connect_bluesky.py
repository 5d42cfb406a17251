"""Bluesky: handle -> DID -> the account's own PDS, an app password, a session kept alive,
and a revoked app password noticed at once.

These run against ``bluesky_server``: the emulator, and (after the merge, see
tests/support/connect.py, HOOK(real PDS)) a real PDS as well.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.config import Settings
from service.connect.lifecycle import TokenLifecycle
from service.db import Database
from tests.emulator.server import EmulatorServer
from tests.support.api import assert_problem
from tests.support.connect import TEST_PUBLIC_URL, BlueskyServer, connect_settings
from tests.support.live import attempts, publish_now, settled

pytestmark = pytest.mark.usefixtures("secret_key")


@pytest.fixture
def client(connecting: Any, bluesky_server: BlueskyServer) -> TestClient:
    made: TestClient = connecting(network_endpoints={"bluesky": bluesky_server.endpoints()})
    return made


def connect(client: TestClient, handle: str, app_password: str, **extra: Any) -> Any:
    return client.post(
        "/api/v1/connect/bluesky",
        json={
            "handle": handle,
            "app_password": app_password,
            "purpose": "society",
            "audience": "early adopters",
            **extra,
        },
    )


def test_a_handle_and_app_password_connect_on_the_accounts_own_pds(
    client: TestClient, bluesky_server: BlueskyServer, network: EmulatorServer
) -> None:
    ada = bluesky_server.create_account("ada.test")
    response = connect(client, "@Ada.Test", ada["app_password"])
    assert response.status_code == 201, response.text
    account = response.json()
    assert account["handle"] == "ada.test" and account["mode"] == "live"
    assert account["base_url"] == network.url_for("bluesky")  # from the DID document
    assert ada["app_password"] not in response.text
    # One login, then the session is kept: posts do not log in again.
    for n in range(2):
        post = publish_now(client, account["id"], f"Hello Bluesky, post {n}.")
        assert settled(client, post["id"])["state"] == "published"
    assert bluesky_server.posts(ada) == ["Hello Bluesky, post 0.", "Hello Bluesky, post 1."]
    assert network.counts()["bluesky"]["create_session"] == 1
    [well_known] = network.received("bluesky", "well_known_did")
    assert well_known["headers"]["host"] == "ada.test"
    assert network.received("bluesky", "did_document")


def test_a_handle_without_a_web_server_resolves_through_the_entryway(
    client: TestClient, bluesky_server: BlueskyServer, network: EmulatorServer
) -> None:
    ada = bluesky_server.create_account("ada.test")
    network.inject_fault("bluesky", "well_known_did", "status", status=404)
    assert connect(client, "ada.test", ada["app_password"]).status_code == 201
    assert network.received("bluesky", "resolve_handle")


def test_the_account_password_is_refused_with_a_clear_message(
    client: TestClient, bluesky_server: BlueskyServer, network: EmulatorServer
) -> None:
    ada = bluesky_server.create_account("ada.test")
    response = connect(client, "ada.test", ada["password"])
    body = assert_problem(response, 422, "connect-refused")
    assert "App passwords" in body["detail"] and "xxxx-xxxx-xxxx-xxxx" in body["detail"]
    assert ada["password"] not in response.text
    # It looked nothing like an app password, so it was never sent anywhere.
    assert network.received("bluesky", "create_session") == []
    assert client.get("/api/v1/accounts").json() == []


def test_an_account_password_shaped_like_an_app_password_is_caught_by_its_scope(
    client: TestClient, network: EmulatorServer
) -> None:
    network.register_account(
        "bluesky",
        handle="bob.test",
        app_password="wxyz-wxyz-wxyz-wxyz",
        password="abcd-abcd-abcd-abcd",
    )
    response = connect(client, "bob.test", "abcd-abcd-abcd-abcd")
    body = assert_problem(response, 422, "connect-refused")
    assert "account password" in body["detail"]
    # The full-access session it opened was closed again, and nothing was stored.
    [logout] = network.received("bluesky", "delete_session")
    assert logout["response_status"] == 200
    assert client.get("/api/v1/accounts").json() == []


def test_a_wrong_app_password_and_an_unknown_handle(
    client: TestClient, bluesky_server: BlueskyServer
) -> None:
    bluesky_server.create_account("ada.test")
    wrong = connect(client, "ada.test", "zzzz-zzzz-zzzz-zzzz")
    assert (
        "Invalid identifier or password" in assert_problem(wrong, 422, "connect-refused")["detail"]
    )
    unknown = connect(client, "nobody.test", "zzzz-zzzz-zzzz-zzzz")
    assert "cannot find the handle" in assert_problem(unknown, 422, "connect-refused")["detail"]


@pytest.mark.parametrize(
    "handle", ["", "ada", "-ada.test", "ada..test", "a" * 254, "ada.test\n", "did:plc:short"]
)
def test_hostile_handles(client: TestClient, handle: str) -> None:
    assert_problem(connect(client, handle, "abcd-efgh-ijkl-mnop"), 422, "validation-error")


def test_a_revoked_app_password_is_noticed_by_the_next_renewal(
    client: TestClient,
    bluesky_server: BlueskyServer,
    network: EmulatorServer,
    database_url: str,
) -> None:
    ada = bluesky_server.create_account("ada.test")
    account = connect(client, "ada.test", ada["app_password"]).json()
    bluesky_server.revoke_app_password(ada)
    chore = TokenLifecycle(
        Database(database_url),
        Settings(database_url=database_url, **connect_settings(network, TEST_PUBLIC_URL)),
    )
    # The session's half-hour check comes due (here: moved to now).
    now = datetime.now(UTC)
    with chore.database.engine.begin() as db:
        db.execute(
            text("UPDATE account_connections SET refresh_due_at = :now"),
            {"now": now if chore.database.is_postgres else now.replace(tzinfo=None)},
        )
    asyncio.run(chore.run(chore.database))
    read = client.get(f"/api/v1/accounts/{account['id']}").json()
    assert read["status"] == "needs_reconnect"
    assert "Bluesky refused the app password" in read["status_message"]
    # Its posts fail at once, without a login attempt each.
    logins = network.counts()["bluesky"]["create_session"]
    post = publish_now(client, account["id"], "Nobody can log in any more.")
    assert settled(client, post["id"])["state"] == "failed"
    assert network.counts()["bluesky"]["create_session"] == logins


def test_a_refused_renewal_before_a_send_marks_the_account_at_once(
    client: TestClient, network: EmulatorServer
) -> None:
    """The access token is still valid but due for renewal; the renewal is refused (the app
    password was revoked). The account is marked at once, instead of posting on the old token
    and trying the login again before every later post."""
    network.register_account(
        "bluesky", handle="ada.test", app_password="abcd-efgh-ijkl-mnop", token_lifetime_s=120
    )
    account = connect(client, "ada.test", "abcd-efgh-ijkl-mnop").json()
    network.revoke_app_password("ada.test")
    first = publish_now(client, account["id"], "The renewal before this is refused.")
    assert settled(client, first["id"])["state"] == "failed"
    [entry] = attempts(client, first["id"])
    assert entry["message"].startswith("Reconnect your Bluesky account: Bluesky refused the app")
    logins = network.counts()["bluesky"]["create_session"]
    refreshes = network.counts()["bluesky"]["refresh_session"]
    second = publish_now(client, account["id"], "And this one is not even tried.")
    assert settled(client, second["id"])["state"] == "failed"
    counts = network.counts()["bluesky"]
    assert (counts["create_session"], counts["refresh_session"]) == (logins, refreshes)
    assert counts.get("create", 0) == 0


def test_reconnecting_bluesky_keeps_the_account(
    client: TestClient, bluesky_server: BlueskyServer, network: EmulatorServer
) -> None:
    ada = bluesky_server.create_account("ada.test")
    account = connect(client, "ada.test", ada["app_password"]).json()
    again = connect(client, "ada.test", ada["app_password"], account_id=account["id"])
    assert again.status_code == 201 and again.json()["id"] == account["id"]
    other = bluesky_server.create_account("bob.test")
    refused = connect(client, "bob.test", other["app_password"], account_id=account["id"])
    assert_problem(refused, 409, "different-identity")
