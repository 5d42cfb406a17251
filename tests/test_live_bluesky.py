"""Bluesky, live: one session kept and refreshed, link facets, a record key of our own."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.db import Database
from service.networks.bluesky import rkey_for
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post
from tests.support.live import (
    attempts,
    connect,
    create_bluesky_record,
    created,
    live_client,
    mark_as_claimed_by_a_dead_worker,
    publish_now,
    seconds_between,
    settled,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def test_the_request_is_the_documented_one(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "bluesky")
    text_ = "Grüße 👋 from the garden: https://example.org/garden and more"
    post = publish_now(client, account["id"], text_)
    final = settled(client, post["id"])
    assert final["state"] == "published"

    [login] = network.received("bluesky", "create_session")
    assert login["body"] == {
        "identifier": registered["username"],
        "password": registered["app_password"],
    }
    [request] = network.received("bluesky", "create")
    body = request["body"]
    assert body["repo"] == registered["account"]  # the DID from the session
    assert body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["text"] == text_
    # URLs are faceted with UTF-8 byte offsets (ü and 👋 take 2 and 4 bytes).
    [facet] = record["facets"]
    raw = text_.encode()
    assert raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]] == (
        b"https://example.org/garden"
    )
    assert facet["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/garden"}
    ]

    [skeet] = created(network, "bluesky")
    rkey = body["rkey"]
    assert skeet["id"] == f"at://{registered['account']}/app.bsky.feed.post/{rkey}"
    assert final["external_id"] == skeet["id"]
    assert final["external_url"] == f"https://bsky.app/profile/{registered['account']}/post/{rkey}"


def test_the_session_is_reused_and_refreshed_never_a_login_per_post(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    # Access tokens live 1 s here, so every later post finds its session about to expire.
    account, _ = connect(client, network, "bluesky", token_lifetime_s=1)
    for n in range(3):
        post = publish_now(client, account["id"], f"Post {n}, {'and ' * n}on one session.")
        assert settled(client, post["id"])["state"] == "published"
    counts = network.counts()["bluesky"]
    assert counts["create_session"] == 1  # one login, however many posts
    assert counts["create"] == 3
    # The session was renewed (how often depends on the machine's speed, the tokens living 1 s),
    # each time with the refresh token saved by the previous renewal: the old one is revoked.
    refreshes = network.received("bluesky", "refresh_session")
    assert len(refreshes) >= 2
    assert all(r["response_status"] == 200 for r in refreshes)
    assert len({r["headers"]["authorization"] for r in refreshes}) == len(refreshes)


def test_an_expired_session_is_refreshed_and_the_post_sent(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "bluesky")
    network.inject_fault("bluesky", "create", "expired_token")
    post = publish_now(client, account["id"], "ExpiredToken first, then a fresh session.")
    assert settled(client, post["id"])["state"] == "published"
    assert [r["response_status"] for r in network.received("bluesky", "create")] == [400, 200]
    assert network.counts()["bluesky"]["refresh_session"] == 1
    assert len(created(network, "bluesky")) == 1


def test_a_revoked_app_password_needs_reconnecting(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(
        client, network, "bluesky", extra_credentials={"app_password": "wrong-pass-word"}
    )
    post = publish_now(client, account["id"], "Nobody can log in with this password.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"].startswith(
        "Reconnect your Bluesky account: Bluesky refused the app password: "
        "Invalid identifier or password"
    )
    assert "wrong-pass-word" not in str(entry)
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"


def test_300_graphemes_fit_and_301_do_not(make_client: AppFactory, network: EmulatorServer) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "bluesky")
    full = publish_now(client, account["id"], "ä" * 299 + "👍🏽")
    assert settled(client, full["id"])["state"] == "published"
    refused = create_post(client, account["id"], "ö" * 301, publish_now=True)
    assert refused.status_code == 422
    assert "301 of 300" in refused.text


def test_after_a_crash_the_record_key_prevents_a_second_post(
    make_client: AppFactory, network: EmulatorServer, database: Database
) -> None:
    """A worker created the post and died before recording it: the resend finds the record."""
    client = live_client(make_client, dispatch=False)
    account, registered = connect(client, network, "bluesky")
    post = create_post(client, account["id"], "Created just before the worker died.").json()
    with database.engine.begin() as connection:
        key = connection.execute(
            text("SELECT publish_key FROM posts WHERE id = :id"), {"id": post["id"]}
        ).scalar_one()
    direct = create_bluesky_record(
        registered["base_url"],
        registered["username"],
        registered["app_password"],
        rkey_for(key),
        post["text"],
    )
    assert direct.status_code == 200, direct.text
    mark_as_claimed_by_a_dead_worker(database, post["id"])

    worker = live_client(make_client)
    final = settled(worker, post["id"])
    assert final["state"] == "published"
    assert len(created(network, "bluesky")) == 1
    assert [e["outcome"] for e in attempts(worker, post["id"])] == ["retrying", "published"]
    assert network.counts()["bluesky"].get("create", 0) == 1  # only our direct one


def test_a_rate_limit_waits_for_ratelimit_reset(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "bluesky")
    network.inject_fault("bluesky", "create", "status", status=429, retry_after_s=2)
    post = publish_now(client, account["id"], "RateLimit-Reset is in epoch seconds.")
    assert settled(client, post["id"])["state"] == "published"
    first, second = attempts(client, post["id"])
    assert first["http_status"] == 429 and "Rate Limit Exceeded" in first["message"]
    assert seconds_between(first["finished_at"], second["started_at"]) >= 0.9
    assert len(created(network, "bluesky")) == 1
