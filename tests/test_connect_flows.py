"""Connecting each network through its real flow against the emulator, then publishing.

The browser tests (tests/browser/test_connect_ui.py) click through the same flows in
Chromium; here the API and the emulator are driven directly, so every network's request and
answer can be checked.
"""

from __future__ import annotations

import pytest

from tests.emulator.server import EmulatorServer
from tests.support.connect import (
    client_id_for,
    connect_through,
    connected_account,
    consent,
    finish,
    query_of,
    start,
)
from tests.support.live import created, publish_now, settled

pytestmark = pytest.mark.usefixtures("secret_key")

REGISTRATIONS = {
    "x": {"username": "ada", "user_id": "2244994945", "display_name": "Ada L"},
    "linkedin": {"user_id": "aBcD123", "display_name": "Ada Lovelace"},
    "facebook": {"page_id": "101234567890123", "name": "Ada's Bakery"},
    "threads": {"username": "ada", "user_id": "17841400000000001"},
    "youtube": {"account_id": "UCadaLovelace000000000a", "username": "@ada", "name": "Ada talks"},
}


@pytest.mark.parametrize("name", ["x", "linkedin", "facebook", "threads"])
def test_connect_then_publish(connecting, network: EmulatorServer, name: str) -> None:
    client = connecting()
    network.register_account(name, **REGISTRATIONS[name])
    account = connect_through(client, name)
    assert account["mode"] == "live" and account["status"] == "active"
    assert account["has_credentials"] is True
    post = publish_now(client, account["id"], f"Hello from Handpost on {name}, by hand.")
    final = settled(client, post["id"])
    assert final["state"] == "published", final
    [made] = created(network, name)
    assert made["text"].startswith("Hello from Handpost")
    events = client.get(f"/api/v1/accounts/{account['id']}/events").json()["items"]
    assert events[-1]["kind"] == "connected"


def test_x_flow_uses_pkce_and_basic_auth(connecting, network: EmulatorServer) -> None:
    client = connecting()
    network.register_account("x", **REGISTRATIONS["x"])
    flow = start(client, "x")
    asked = query_of(flow["authorize_url"])
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43
    assert asked["redirect_uri"] == "http://testserver/connect/x/callback"
    assert set(asked["scope"].split()) >= {"tweet.write", "offline.access", "media.write"}
    account = connected_account(client, finish(client, consent(flow["authorize_url"])))
    assert account["handle"] == "ada" and account["display_name"] == "Ada L"
    [exchange] = [r for r in network.received("x", "token") if r["method"] == "POST"]
    assert exchange["headers"]["authorization"].startswith("Basic ")
    assert exchange["body"]["grant_type"] == "authorization_code"
    assert len(exchange["body"]["code_verifier"]) == 43
    assert flow["authorize_url"].find(exchange["body"]["code_verifier"]) == -1


def test_youtube_connects_with_offline_access_and_reads_the_channel(
    connecting, network: EmulatorServer
) -> None:
    client = connecting()
    network.register_account("youtube", **REGISTRATIONS["youtube"])
    flow = start(client, "youtube")
    asked = query_of(flow["authorize_url"])
    assert asked["access_type"] == "offline" and asked["prompt"] == "consent"
    account = connected_account(client, finish(client, consent(flow["authorize_url"])))
    assert account["handle"] == "@ada" and account["display_name"] == "Ada talks"
    [channels] = network.received("youtube", "channels")
    assert channels["query"] == {"part": "snippet", "mine": "true"}
    connection = client.get("/api/v1/connect/connections").json()
    [mine] = [c for c in connection if c["account_id"] == account["id"]]
    assert mine["external_id"] == "UCadaLovelace000000000a"
    assert mine["refreshable"] is True


def test_mastodon_registers_once_per_instance(connecting, network: EmulatorServer) -> None:
    client = connecting()
    network.register_account("mastodon", username="ada", account_id="109876")
    instance = network.url_for("mastodon")
    first = connect_through(client, "mastodon", instance=instance)
    assert first["handle"] == f"ada@{instance.split('://')[1].split('/')[0]}"
    assert first["base_url"] == instance
    post = publish_now(client, first["id"], "Toot, written by hand.")
    assert settled(client, post["id"])["state"] == "published"
    # Reconnecting reuses the registration: one POST /api/v1/apps per instance.
    again = start(client, "mastodon", account_id=first["id"])
    callback = finish(client, consent(again["authorize_url"]))
    assert connected_account(client, callback)["id"] == first["id"]
    assert len(network.received("mastodon", "apps")) == 1
    [app] = [c for c in network.clients("mastodon")]
    assert app["redirect_uris"] == ["http://testserver/connect/mastodon/callback"]
    assert query_of(again["authorize_url"])["code_challenge_method"] == "S256"


def test_an_older_mastodon_gets_read_accounts_and_no_pkce(
    connecting, network: EmulatorServer
) -> None:
    network.configure(mastodon_oauth_metadata=False)
    client = connecting()
    network.register_account("mastodon", username="ada")
    flow = start(client, "mastodon", instance=network.url_for("mastodon"))
    asked = query_of(flow["authorize_url"])
    assert "code_challenge" not in asked
    assert asked["scope"] == "write:statuses write:media read:accounts"
    account = connected_account(client, finish(client, consent(flow["authorize_url"])))
    assert account["status"] == "active"


def test_facebook_lists_pages_and_connects_the_chosen_one(
    connecting, network: EmulatorServer
) -> None:
    client = connecting()
    network.register_account("facebook", kind="user", user_id="900", name="Ada", access_token="u")
    for page, name in (("111", "Bakery"), ("222", "Choir")):
        network.register_account("facebook", page_id=page, name=name, managed_by="900")
    flow = start(client, "facebook")
    callback = finish(client, consent(flow["authorize_url"]))
    assert callback.status_code == 303
    assert callback.headers["location"] == f"/#/connect/{flow['flow_id']}"
    listed = client.get(f"/api/v1/connect/flows/{flow['flow_id']}").json()
    assert [(p["id"], p["name"]) for p in listed["pages"]] == [("111", "Bakery"), ("222", "Choir")]
    assert "token" not in str(listed)
    chosen = client.post(f"/api/v1/connect/flows/{flow['flow_id']}/page", json={"page_id": "222"})
    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["handle"] == "222" and chosen.json()["display_name"] == "Choir"
    # The short-lived user token was exchanged for a long-lived one before reading Pages.
    exchanges = [r["query"].get("grant_type") for r in network.received("facebook", "token")]
    assert exchanges == [None, "fb_exchange_token"]
    post = publish_now(client, chosen.json()["id"], "Choir practice moves to Thursday.")
    assert settled(client, post["id"])["state"] == "published"
    assert created(network, "facebook")[0]["account"] == "222"
    # A second choice of the same flow is refused.
    again = client.post(f"/api/v1/connect/flows/{flow['flow_id']}/page", json={"page_id": "111"})
    assert again.status_code == 409


def test_threads_exchanges_for_the_long_lived_token(connecting, network: EmulatorServer) -> None:
    client = connecting()
    network.register_account("threads", **REGISTRATIONS["threads"])
    account = connect_through(client, "threads")
    [exchange] = network.received("threads", "exchange")
    assert exchange["query"]["grant_type"] == "th_exchange_token"
    [mine] = client.get("/api/v1/connect/connections").json()
    assert mine["refreshable"] is True
    assert mine["token_expires_at"] is not None
    tokens = network.tokens("threads")
    short = [t for t in tokens if t["short_lived"]]
    assert len(short) == 1 and account["status"] == "active"


def test_client_id_is_the_configured_one(connecting, network: EmulatorServer) -> None:
    client = connecting()
    for name in ("x", "linkedin", "threads", "youtube"):
        flow = start(client, name)
        assert query_of(flow["authorize_url"])["client_id"] == client_id_for(name)
