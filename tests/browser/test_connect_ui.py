"""Connecting every network from the accounts page, in Chromium, against the emulator.

Click Connect, consent on the network's page, land back on the account, and publish a post
through it (YouTube: its channel was read). No token is ever typed: the self-hoster set the
app credentials, the person only clicks. Plus Reconnect from the queue, a refusal page, and
"not set up" for a network without app credentials.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot
from tests.browser.test_ui import log_in
from tests.emulator.server import EmulatorServer
from tests.support.api import create_post, wait_for
from tests.support.connect import connect_environment, register_apps
from tests.support.server import login

pytestmark = pytest.mark.slow

NAMES = {
    "x": "X",
    "linkedin": "LinkedIn",
    "facebook": "Facebook",
    "threads": "Threads",
    "youtube": "YouTube",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
}
REGISTRATIONS: dict[str, dict[str, Any]] = {
    "x": {"username": "ada", "display_name": "Ada L"},
    "linkedin": {"user_id": "aBcD123", "display_name": "Ada Lovelace"},
    "facebook": {"page_id": "101234567890123", "name": "Ada's Bakery"},
    "threads": {"username": "ada", "display_name": "Ada"},
    "youtube": {"username": "@adatalks", "name": "Ada talks"},
    "mastodon": {"username": "ada", "display_name": "Ada"},
    "bluesky": {"handle": "ada.test", "app_password": "abcd-efgh-ijkl-mnop"},
}
HANDLES = {
    "x": "ada",
    "linkedin": "aBcD123",
    "facebook": "101234567890123",
    "threads": "ada",
    "youtube": "@adatalks",
    "bluesky": "ada.test",
}


@pytest.fixture
def site_env(network: EmulatorServer) -> dict[str, str]:
    """Every network set up, all its hosts on the emulator; the redirect URIs follow the
    address the browser uses (no HANDPOST_PUBLIC_URL). Credentials are stored, so on
    PostgreSQL the server needs its key."""
    return {
        **connect_environment(network, None),
        "HANDPOST_SECRET_KEY": Fernet.generate_key().decode(),
    }


def api_client(site: Site) -> httpx.Client:
    client = httpx.Client(base_url=site.service.base_url, timeout=10)
    login(client, site.username, site.password)
    return client


def fill_profile(page: Any, name: str) -> None:
    page.get_by_label("Network").select_option(label=name)
    page.get_by_label("Purpose").fill("professionals")
    page.get_by_label("Audience").fill("colleagues and clients")


def consent(page: Any, name: str) -> None:
    """On the network's own page: who is signed in, what Handpost asks; allow it."""
    expect(
        page.get_by_role("heading", name=re.compile("Authorize Handpost to use your"))
    ).to_be_visible()
    page.get_by_role("button", name="Authorize app").click()


@pytest.mark.parametrize("network_name", list(NAMES))
def test_connect_from_the_accounts_page_and_publish(
    page: Any, site: Site, network: EmulatorServer, network_name: str
) -> None:
    name = NAMES[network_name]
    register_apps(network, site.service.base_url)
    registered = network.register_account(network_name, **REGISTRATIONS[network_name])
    log_in(page, site)
    page.goto(site.url + "#/accounts")
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    fill_profile(page, name)
    if network_name == "mastodon":
        page.get_by_label("Server").fill(network.url_for("mastodon"))
    if network_name == "bluesky":
        page.get_by_label("Handle").fill("ada.test")
        page.get_by_label("App password").fill("abcd-efgh-ijkl-mnop")
    page.get_by_role("button", name=f"Connect {name}").click()
    if network_name != "bluesky":
        consent(page, "Google" if network_name == "youtube" else name)
    if network_name == "facebook":
        expect(page.get_by_role("heading", name="Choose a Facebook Page")).to_be_visible()
        page.get_by_label("Ada's Bakery").check()
        page.get_by_role("button", name="Connect this Page").click()
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    card = page.locator(".account-card").first
    expect(card).to_contain_text("Live")
    expect(card.get_by_role("heading", level=3)).to_be_focused()
    if network_name in ("x", "youtube", "threads", "bluesky"):
        expect(card).to_contain_text("Renewed automatically")
    if network_name == "linkedin":
        expect(card).to_contain_text("reconnect before then")
    card.get_by_text("Connection history").click()
    expect(card.locator(".events")).to_contain_text("Connected as")
    screenshot(page, f"connected-{network_name}")

    client = api_client(site)
    [account] = client.get("/api/v1/accounts").json()
    if network_name == "mastodon":
        assert account["handle"].startswith("ada@127.0.0.1:")
    else:
        assert account["handle"] == HANDLES[network_name]
    if network_name == "youtube":
        # The connection is proved by reading the channel (publishing: test_youtube_*.py).
        [channels] = network.received("youtube", "channels")
        assert channels["response_status"] == 200
        assert account["display_name"] == "Ada talks"
        return
    text = f"Connected from the browser, published on {name}. What do you think?"
    post = create_post(client, account["id"], text, publish_now=True, call_to_action="Reply").json()

    def published() -> bool:
        state = client.get(f"/api/v1/posts/{post['id']}").json()["state"]
        assert state in ("scheduled", "publishing", "published"), state
        return state == "published"

    wait_for(published, timeout=20)
    made = [p for p in network.posts(network_name) if p["text"].startswith("Connected from")]
    assert len(made) == 1
    assert registered  # the account the person consented as is the one that posted


def test_reconnect_from_the_queue_keeps_the_account(
    page: Any, site: Site, network: EmulatorServer
) -> None:
    register_apps(network, site.service.base_url)
    network.register_account("x", username="ada", user_id="7")
    log_in(page, site)
    page.goto(site.url + "#/accounts")
    fill_profile(page, "X")
    page.get_by_role("button", name="Connect X").click()
    consent(page, "X")
    expect(page.locator(".account-card")).to_contain_text("Live")
    client = api_client(site)
    [account] = client.get("/api/v1/accounts").json()
    # The person removes Handpost at X; the next renewal is refused.
    for token in network.tokens("x"):
        network.revoke_token("x", token["token"])
    post = create_post(client, account["id"], "Needs the renewal first.", publish_now=True).json()
    wait_for(
        lambda: client.get(f"/api/v1/posts/{post['id']}").json()["state"] == "failed", timeout=20
    )

    page.goto(site.url + "#/queue")
    banner = page.locator(".needs-reconnect")
    expect(banner).to_contain_text("Reconnect before your posts go out")
    banner.get_by_role("button", name=re.compile("^Reconnect X")).click()
    consent(page, "X")
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    expect(page.locator(".needs-reconnect")).to_have_count(0)
    [again] = client.get("/api/v1/accounts").json()
    assert again["id"] == account["id"] and again["status"] == "active"
    screenshot(page, "reconnected")


def test_a_refusal_page_leads_back(page: Any, site: Site, network: EmulatorServer) -> None:
    register_apps(network, site.service.base_url)
    network.register_account("x", username="ada")
    log_in(page, site)
    page.goto(site.url + "#/accounts")
    fill_profile(page, "X")
    page.get_by_role("button", name="Connect X").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="You did not allow Handpost on X")).to_be_visible()
    screenshot(page, "connect-refused")
    page.get_by_role("link", name="Back to your accounts").click()
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    expect(page.get_by_text("No accounts yet")).to_be_visible()


@pytest.mark.server_env(HANDPOST_X_CLIENT_ID="")
def test_a_network_without_app_credentials_says_not_set_up(page: Any, site: Site) -> None:
    log_in(page, site)
    page.goto(site.url + "#/accounts")
    page.get_by_label("Network").select_option(label="X")
    status = page.locator(".connect-status")
    expect(status).to_contain_text("X is not set up on this server")
    expect(status.get_by_role("link", name="docs/connect.md")).to_be_visible()
    expect(status).to_contain_text(f"{site.service.base_url}/connect/x/callback")
    expect(page.get_by_role("button", name="Connect X")).to_be_hidden()
    # Sandbox accounts can still be added.
    expect(page.get_by_role("button", name="Add account")).to_be_visible()
