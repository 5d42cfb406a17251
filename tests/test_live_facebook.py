"""Facebook Pages, live: POST /{version}/{page}/feed, then the permalink; Graph error codes."""

from __future__ import annotations

import pytest

from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import (
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
    client = live_client(make_client, facebook_graph_version="v25.0")
    account, registered = connect(client, network, "facebook")
    post = publish_now(
        client,
        account["id"],
        "Family news, with the photos link.",
        link="https://example.org/photos",
    )
    final = settled(client, post["id"])
    assert final["state"] == "published"

    [request] = network.received("facebook", "create")
    page = registered["account"]
    assert request["path"] == f"/v25.0/{page}/feed"  # the configured Graph version
    assert request["body"] == {
        "message": "Family news, with the photos link.",
        "link": "https://example.org/photos",
        "access_token": registered["access_token"],
    }
    [story] = created(network, "facebook")
    assert final["external_id"] == story["id"] and story["id"].startswith(f"{page}_")
    # The public URL is the permalink_url read back from Graph.
    [read] = network.received("facebook", "get")
    assert read["query"]["fields"] == "permalink_url"
    assert final["external_url"] == story["url"]


def test_code_190_needs_reconnecting_and_is_not_retried(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "facebook")
    network.inject_fault("facebook", "create", "expired_token")
    post = publish_now(client, account["id"], "The Page token died with a password change.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"].startswith(
        "Reconnect your Facebook account: Facebook refused the access token: "
        "Error validating access token: Session has expired"
    )
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"
    assert len(network.received("facebook", "create")) == 1


def test_throttling_waits_for_the_estimated_time_to_regain_access(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "facebook")
    # Code 32 (Page request limit) with X-Business-Use-Case-Usage saying: 2 minutes.
    network.inject_fault("facebook", "create", "status", status=400, code=32, retry_after_s=90)
    post = publish_now(client, account["id"], "Too many calls to this Page for now.")

    read = rescheduled_after_first_attempt(client, post["id"])
    [entry] = attempts(client, post["id"])
    assert entry["outcome"] == "retrying"
    assert "(#32) Page request limit reached" in entry["message"]
    assert seconds_between(entry["finished_at"], read["next_attempt_at"]) >= 115


def test_a_duplicate_post_is_refused_with_its_code(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "facebook")
    network.inject_fault("facebook", "create", "duplicate")
    post = publish_now(client, account["id"], "Same as the last one on the Page.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"].startswith(
        "Facebook refused the post as a duplicate of the Page's last post: Duplicate status "
        "message (This status update is identical to the last one you posted."
    )


def test_an_invalid_parameter_fails_fast(make_client: AppFactory, network: EmulatorServer) -> None:
    client = live_client(make_client)
    account, _ = connect(client, network, "facebook")
    network.inject_fault(
        "facebook", "create", "status", status=400, code=100, message="(#100) Invalid parameter"
    )
    post = publish_now(client, account["id"], "Graph does not like a parameter.")
    assert settled(client, post["id"])["state"] == "failed"
    [entry] = attempts(client, post["id"])
    assert entry["message"] == "Facebook refused the post: (#100) Invalid parameter"
    assert len(network.received("facebook", "create")) == 1
