"""Helpers for the live-publishing tests (tests/test_live_*.py), and their `secret_key` fixture.

The service runs for real (``make_client``) with live accounts whose ``base_url`` is the
network emulator's; what was created is checked at the emulator, which is the ground truth.
tests/conftest.py loads this module as a plugin, so `secret_key` is available everywhere; the
live test modules use it with ``pytestmark = pytest.mark.usefixtures("secret_key")``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.db import Database
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_account, create_post, wait_for

# Retries within a test's patience: backoff from 50 ms, the dispatcher looking every 100 ms.
# The emulator (and the reference PDS) listen on loopback, which the outbound gate refuses
# unless allowed (a Mastodon account's instance limits are read through it).
FAST = {
    "retry_base_seconds": 0.05,
    "retry_max_seconds": 1.0,
    "poll_seconds": 0.1,
    "outbound_allow_private": True,
}
SETTLED = ("published", "failed", "unknown", "missed", "cancelled")
CLIENT_ID = "handpost-test-client"
CLIENT_SECRET = "test-client-secret-0123456789"


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh encryption key, from the environment like in production."""
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("HANDPOST_SECRET_KEY", key)
    return key


def live_client(make_client: AppFactory, **overrides: Any) -> TestClient:
    return make_client(**{**FAST, **overrides})


def credentials_for(network: str, registered: dict[str, Any]) -> dict[str, str]:
    """The credentials Handpost needs, from what the emulator issued at registration."""
    token = registered["access_token"]
    if network == "mastodon":
        return {"access_token": token}
    if network == "x":
        credentials = {
            "access_token": token,
            "refresh_token": registered["refresh_token"],
            "client_id": CLIENT_ID,
            "username": registered["username"],
        }
        return credentials
    if network == "linkedin":
        credentials = {"access_token": token, "author_urn": registered["author"]}
        if registered.get("refresh_token"):
            credentials |= {
                "refresh_token": registered["refresh_token"],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        return credentials
    if network == "facebook":
        return {"page_access_token": token}
    if network == "bluesky":
        return {"identifier": registered["username"], "app_password": registered["app_password"]}
    if network == "threads":
        return {"access_token": token, "user_id": registered["account"]}
    raise AssertionError(network)


def handle_for(network: str, registered: dict[str, Any]) -> str:
    # A Facebook account is its Page id; LinkedIn's is the member id; the rest go by username.
    if network in ("facebook", "linkedin"):
        return str(registered["account"])
    return str(registered["username"])


def connect(
    client: TestClient,
    emulator: EmulatorServer,
    network: str,
    *,
    credentials: dict[str, str] | None = None,
    extra_credentials: dict[str, str] | None = None,
    **registration: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register an account at the emulator and connect it to Handpost in live mode."""
    if network == "x":
        registration.setdefault("refresh_token", True)
    registered = emulator.register_account(network, **registration)
    credentials = credentials or credentials_for(network, registered)
    account = create_account(
        client,
        network,
        handle_for(network, registered),
        mode="live",
        base_url=registered["base_url"],
        credentials=credentials | (extra_credentials or {}),
    )
    return account, registered


def publish_now(client: TestClient, account_id: str, text_: str, **extra: Any) -> dict[str, Any]:
    response = create_post(client, account_id, text_, publish_now=True, **extra)
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()
    return post


def settled(client: TestClient, post_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """The post once it reached a final state."""

    def final() -> dict[str, Any] | None:
        post: dict[str, Any] = client.get(f"/api/v1/posts/{post_id}").json()
        return post if post["state"] in SETTLED else None

    result: dict[str, Any] = wait_for(final, timeout=timeout)
    return result


def rescheduled_after_first_attempt(client: TestClient, post_id: str) -> dict[str, Any]:
    """The post once its first attempt put it back in the queue for a later retry."""

    def rescheduled() -> dict[str, Any] | None:
        read: dict[str, Any] = client.get(f"/api/v1/posts/{post_id}").json()
        return read if read["state"] == "scheduled" and read["attempt_count"] == 1 else None

    result: dict[str, Any] = wait_for(rescheduled)
    return result


def attempts(client: TestClient, post_id: str) -> list[dict[str, Any]]:
    """The post's publish log, oldest first."""
    items: list[dict[str, Any]] = client.get(f"/api/v1/posts/{post_id}/attempts").json()["items"]
    return list(reversed(items))


def created(emulator: EmulatorServer, network: str) -> list[dict[str, Any]]:
    return emulator.posts(network)


def mark_as_claimed_by_a_dead_worker(
    database: Database, post_id: str, *, send_started: bool = True
) -> None:
    """The post as a worker leaves it that died mid-send (or, with ``send_started=False``,
    before it began the send): publishing, its lease expired."""
    now = datetime.now(UTC)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE posts SET state = 'publishing', claimed_by = 'dead-worker', "
                "claimed_until = :past, scheduled_at = :now, next_attempt_at = :now, "
                "claimed_unsent_by = :unsent, attempt_count = 1 WHERE id = :id"
            ),
            {
                "past": _db_time(database, now - timedelta(minutes=5)),
                "now": _db_time(database, now),
                "unsent": None if send_started else "dead-worker",
                "id": post_id,
            },
        )


def _db_time(database: Database, moment: datetime) -> datetime:
    return moment if database.is_postgres else moment.replace(tzinfo=None)  # naive UTC on SQLite


def ciphertext(database: Database, account_id: str) -> str:
    """The account's sealed credentials, as stored."""
    with database.engine.connect() as connection:
        value = connection.execute(
            text("SELECT credentials_ciphertext FROM accounts WHERE id = :id"), {"id": account_id}
        ).scalar_one()
    return str(value)


def seconds_between(earlier: str, later: str) -> float:
    return (_parse(later) - _parse(earlier)).total_seconds()


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_bluesky_record(
    base_url: str, identifier: str, password: str, rkey: str, text_: str
) -> httpx.Response:
    """A post created at a PDS directly, under ``rkey``, as a worker that died after sending
    would have left it (the PDS's own login, not Handpost's)."""
    session = httpx.post(
        f"{base_url}/xrpc/com.atproto.server.createSession",
        json={"identifier": identifier, "password": password},
    ).json()
    record = {
        "$type": "app.bsky.feed.post",
        "text": text_,
        "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return httpx.post(
        f"{base_url}/xrpc/com.atproto.repo.createRecord",
        headers={"Authorization": f"Bearer {session['accessJwt']}"},
        json={
            "repo": session["did"],
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
        },
    )
