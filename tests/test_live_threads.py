"""Threads, live: a container, then threads_publish, then the permalink."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet

from service.db import Database
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import (
    attempts,
    ciphertext,
    connect,
    created,
    live_client,
    publish_now,
    settled,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def test_the_requests_are_the_documented_ones(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "threads")
    post = publish_now(
        client,
        account["id"],
        "Friends of friends: the garden is in bloom.",
        link="https://example.org/bloom",
    )
    final = settled(client, post["id"])
    assert final["state"] == "published"

    user = registered["account"]
    [container] = network.received("threads", "container")
    assert container["path"] == f"/v1.0/{user}/threads"
    assert container["body"] == {
        "media_type": "TEXT",
        "text": "Friends of friends: the garden is in bloom.\n\nhttps://example.org/bloom",
        "link_attachment": "https://example.org/bloom",
        "access_token": registered["access_token"],
    }
    [publish] = network.received("threads", "create")
    assert publish["path"] == f"/v1.0/{user}/threads_publish"
    assert publish["query"]["creation_id"]
    [thread] = created(network, "threads")
    assert thread["details"]["container_id"] == publish["query"]["creation_id"]
    assert final["external_id"] == thread["id"]
    assert final["external_url"] == thread["details"]["permalink"]  # read back, not derived
    assert "<redacted>" in attempts(client, post["id"])[0]["request"]["form"]["access_token"]


def test_a_container_still_processing_is_waited_for(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "threads")
    network.configure(threads_processing_s=0.7)
    post = publish_now(client, account["id"], "Published once the container is ready.")
    assert settled(client, post["id"])["state"] == "published"
    statuses = network.received("threads", "get")
    assert len(statuses) >= 2  # IN_PROGRESS, then FINISHED (and the permalink)
    assert len(created(network, "threads")) == 1


def test_a_refused_token_is_renewed_and_saved(
    make_client: AppFactory, network: EmulatorServer, database: Database, secret_key: str
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "threads")
    network.inject_fault("threads", "container", "expired_token")
    post = publish_now(client, account["id"], "Renewed, then published.")
    assert settled(client, post["id"])["state"] == "published"
    assert len(network.received("threads", "refresh")) == 1
    saved = Fernet(secret_key.encode()).decrypt(ciphertext(database, account["id"]).encode())
    assert registered["access_token"].encode() not in saved  # the renewed token replaced it


def test_a_token_near_its_60_days_is_renewed_ahead(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    soon = str(int(time.time()) + 2 * 24 * 3600)
    account, _ = connect(client, network, "threads", extra_credentials={"expires_at": soon})
    post = publish_now(client, account["id"], "Two days left on the token.")
    assert settled(client, post["id"])["state"] == "published"
    [renewal] = network.received("threads", "refresh")
    assert renewal["query"]["grant_type"] == "th_refresh_token"
    second = publish_now(client, account["id"], "Sixty more days now.")
    assert settled(client, second["id"])["state"] == "published"
    assert len(network.received("threads", "refresh")) == 1


def test_an_expired_token_needs_reconnecting(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "threads", token_expires_in=0.01)
    post = publish_now(client, account["id"], "Not renewed within 60 days.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"].startswith(
        "Reconnect your Threads account: Threads refused to renew the token: "
        "Error validating access token: Session has expired"
    )
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"
    assert created(network, "threads") == []
