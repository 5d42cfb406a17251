"""X, live: POST /2/tweets with an OAuth 2.0 user token, refreshed when refused."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post
from tests.support.live import (
    CLIENT_ID,
    CLIENT_SECRET,
    attempts,
    connect,
    created,
    live_client,
    publish_now,
    rescheduled_after_first_attempt,
    seconds_between,
    settled,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def test_the_request_is_the_documented_one(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, registered = connect(client, network, "x")
    post = publish_now(
        client,
        account["id"],
        "Scheduling beats 5 a.m. posting. Agree?",
        link="https://example.org/why",
    )
    final = settled(client, post["id"])
    assert final["state"] == "published"

    [request] = network.received("x", "create")
    assert request["path"] == "/2/tweets"
    assert request["headers"]["authorization"] == f"Bearer {registered['access_token']}"
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == {
        "text": "Scheduling beats 5 a.m. posting. Agree?\n\nhttps://example.org/why"
    }
    [tweet] = created(network, "x")
    assert final["external_id"] == tweet["id"]
    assert final["external_url"] == f"https://x.com/{registered['username']}/status/{tweet['id']}"


def test_weighted_length_matches_x(make_client: AppFactory, network: EmulatorServer) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "x")
    # CJK weighs 2: 140 characters are exactly 280, and X takes them.
    full = publish_now(client, account["id"], "漢" * 139 + "字")
    assert settled(client, full["id"])["state"] == "published"
    # One more is refused when written, not at publish time.
    refused = create_post(client, account["id"], "字" * 141, publish_now=True)
    assert refused.status_code == 422
    assert "282 of 280 weighted characters" in refused.text


def test_an_expired_token_is_refreshed_once_and_the_post_sent_once(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "x")
    network.inject_fault("x", "create", "expired_token")

    post = publish_now(client, account["id"], "A 401 first, a fresh token, then the post.")
    assert settled(client, post["id"])["state"] == "published"
    assert [r["response_status"] for r in network.received("x", "create")] == [401, 201]
    [refresh] = network.received("x", "token")
    assert refresh["body"]["grant_type"] == "refresh_token"
    assert refresh["body"]["client_id"] == CLIENT_ID
    assert len(created(network, "x")) == 1
    [entry] = attempts(client, post["id"])
    # Every call of the attempt is in the log, in order.
    assert [c["url"].rsplit("/", 2)[-2:] for c in entry["request"]["calls"]] == [
        ["2", "tweets"],
        ["oauth2", "token"],
        ["2", "tweets"],
    ]


def test_a_confidential_client_authenticates_the_refresh(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "x", extra_credentials={"client_secret": CLIENT_SECRET})
    network.inject_fault("x", "create", "expired_token")

    post = publish_now(client, account["id"], "Refreshed by a confidential app.")
    assert settled(client, post["id"])["state"] == "published"
    [refresh] = network.received("x", "token")
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert refresh["headers"]["authorization"] == f"Basic {expected}"


def test_duplicate_content_is_refused_with_xs_words(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "x")
    network.inject_fault("x", "create", "duplicate")

    post = publish_now(client, account["id"], "Said before, word for word.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["http_status"] == 403
    assert entry["message"] == (
        "X refused the post as a duplicate of an earlier post: "
        "You are not allowed to create a Tweet with duplicate content."
    )


def test_a_usage_cap_waits_for_the_reset(make_client: AppFactory, network: EmulatorServer) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "x")
    network.inject_fault("x", "create", "status", status=429, usage_capped=True, retry_after_s=600)

    post = publish_now(client, account["id"], "The monthly cap is reached; wait for it.")

    read = rescheduled_after_first_attempt(client, post["id"])
    [entry] = attempts(client, post["id"])
    assert "usage cap" in entry["message"] and "resets in" in entry["message"]
    # The next attempt is set at X's reset (10 minutes), not at the 50 ms backoff.
    assert seconds_between(entry["finished_at"], read["next_attempt_at"]) > 500
