"""Mastodon, live: POST /api/v1/statuses with an Idempotency-Key, against the emulator."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import (
    attempts,
    connect,
    created,
    live_client,
    publish_now,
    settled,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def test_the_request_is_the_documented_one(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client: TestClient = live_client(make_client)
    account, registered = connect(client, network, "mastodon")
    post = publish_now(
        client,
        account["id"],
        "Release notes, written for humans.",
        visibility="unlisted",
        link="https://example.org/notes",
    )
    final = settled(client, post["id"])
    assert final["state"] == "published"

    [request] = network.received("mastodon", "create")
    assert request["method"] == "POST" and request["path"] == "/api/v1/statuses"
    assert request["headers"]["authorization"] == f"Bearer {registered['access_token']}"
    assert request["body"] == {
        "status": "Release notes, written for humans.\n\nhttps://example.org/notes",
        "visibility": "unlisted",
    }
    [entry] = attempts(client, post["id"])
    key = request["headers"]["idempotency-key"]
    assert key and entry["request"]["headers"]["Idempotency-Key"] == key

    [status] = created(network, "mastodon")
    assert status["details"]["visibility"] == "unlisted"
    assert final["external_id"] == status["id"]
    assert final["external_url"] == status["url"]  # the status's own public URL


def test_a_retry_reuses_the_idempotency_key_and_gets_the_same_status(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "mastodon")
    network.inject_fault("mastodon", "create", "status_after_create", status=503)

    post = publish_now(client, account["id"], "Sent twice, published once.")
    final = settled(client, post["id"])
    assert final["state"] == "published"
    first, second = network.received("mastodon", "create")
    assert first["headers"]["idempotency-key"] == second["headers"]["idempotency-key"]
    assert second.get("idempotent_replay") is True
    [status] = created(network, "mastodon")
    assert final["external_id"] == status["id"]


def test_a_refused_token_asks_for_reconnection(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "mastodon")
    network.inject_fault("mastodon", "create", "expired_token")

    post = publish_now(client, account["id"], "Mastodon tokens do not expire; a 401 is final.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"].startswith(
        "Reconnect your Mastodon account: Mastodon refused the access token: "
        "The access token is invalid"
    )
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"
