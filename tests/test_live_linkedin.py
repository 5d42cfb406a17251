"""LinkedIn, live: the Posts API with the configured LinkedIn-Version; URN from x-restli-id."""

from __future__ import annotations

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import (
    CLIENT_ID,
    CLIENT_SECRET,
    attempts,
    connect,
    created,
    live_client,
    publish_now,
    seconds_between,
    settled,
)

pytestmark = pytest.mark.usefixtures("secret_key")


def test_the_request_is_the_documented_one(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client, linkedin_version="202601")
    account, registered = connect(client, network, "linkedin")
    post = publish_now(
        client,
        account["id"],
        "Colleagues: smaller changes, faster releases. What slows yours?",
        link="https://example.org/releases",
        title="Weekly releases",
    )
    final = settled(client, post["id"])
    assert final["state"] == "published"

    [request] = network.received("linkedin", "create")
    assert request["path"] == "/rest/posts"
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {registered['access_token']}"
    assert headers["linkedin-version"] == "202601"  # from configuration
    assert headers["x-restli-protocol-version"] == "2.0.0"
    body = request["body"]
    assert body["author"] == registered["author"]
    assert body["visibility"] == "PUBLIC" and body["lifecycleState"] == "PUBLISHED"
    assert body["content"] == {
        "article": {"source": "https://example.org/releases", "title": "Weekly releases"}
    }
    # The URN comes from the x-restli-id header of the empty 201.
    [share] = created(network, "linkedin")
    assert final["external_id"] == share["id"] and share["id"].startswith("urn:li:share:")
    assert final["external_url"] == f"https://www.linkedin.com/feed/update/{share['id']}/"


def test_reserved_characters_are_escaped_so_nothing_is_truncated(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    text_ = "Results (Q3) [draft]: {fast} <safe> *bold* _x_ ~y~ a|b @team \\o/ #releases"
    post = publish_now(client, account["id"], text_)
    assert settled(client, post["id"])["state"] == "published"
    [share] = created(network, "linkedin")
    assert share["details"]["truncated"] is False
    assert share["details"]["rendered_text"] == text_


def test_a_sunset_version_fails_with_a_configuration_hint(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client, linkedin_version="202401")
    account, _ = connect(client, network, "linkedin")
    post = publish_now(client, account["id"], "Sent with an API version LinkedIn retired.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["http_status"] == 426
    assert "Requested version 20240101 is not active" in entry["message"]
    assert "HANDPOST_LINKEDIN_VERSION" in entry["message"]


def test_a_duplicate_on_the_first_attempt_is_refused(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    network.inject_fault("linkedin", "create", "duplicate")
    post = publish_now(client, account["id"], "Posted by hand already, a minute ago.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["http_status"] == 422
    assert entry["message"].startswith(
        "LinkedIn refused the post as a duplicate of an earlier post: Content is a duplicate of "
        "urn:li:share:"
    )


def test_a_daily_limit_honours_retry_after(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin")
    network.inject_fault("linkedin", "create", "status", status=429, headers={"Retry-After": "1"})
    post = publish_now(client, account["id"], "Throttled once, then through.")
    assert settled(client, post["id"])["state"] == "published"
    first, second = attempts(client, post["id"])
    assert first["http_status"] == 429
    assert "APPLICATION DAY limit" in first["message"]
    assert seconds_between(first["finished_at"], second["started_at"]) >= 0.9
    assert len(created(network, "linkedin")) == 1


def test_an_expired_token_is_refreshed_with_the_refresh_token(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin", refresh_token=True)
    network.inject_fault("linkedin", "create", "expired_token")
    post = publish_now(client, account["id"], "Refreshed, then posted.")
    assert settled(client, post["id"])["state"] == "published"
    [refresh] = network.received("linkedin", "token")
    assert refresh["path"] == "/oauth/v2/accessToken"
    assert refresh["body"]["client_id"] == CLIENT_ID
    assert refresh["body"]["client_secret"] == CLIENT_SECRET
    [entry] = attempts(client, post["id"])
    assert CLIENT_SECRET not in str(entry)


def test_an_expired_token_without_refresh_token_needs_reconnecting(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "linkedin", token_expires_in=0.01)
    post = publish_now(client, account["id"], "The 60 days are over.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"].startswith(
        "Reconnect your LinkedIn account: LinkedIn refused the access token: "
        "The token used in the request has expired"
    )
    read = client.get(f"/api/v1/accounts/{account['id']}").json()
    assert read["status"] == "needs_reconnect"
    assert network.received("linkedin", "token") == []
