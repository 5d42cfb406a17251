"""Connecting a blog from the accounts page, in Chromium, against the real WordPress and Ghost.

WordPress: type the site, click Connect, log in to WordPress and approve Handpost on its own
"authorise application" page, land back on the account. Ghost: type the site and paste the
integration's Admin API key. Both then publish a post, read back from the blog.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot
from tests.browser.test_connect_ui import api_client, fill_profile
from tests.browser.test_ui import log_in
from tests.realservers.ghost import GhostServer
from tests.realservers.wordpress import WordPressServer
from tests.support.api import create_post, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def site_env() -> dict[str, str]:
    """The blogs listen on loopback; credentials are stored, so the server needs its key."""
    return {
        "HANDPOST_OUTBOUND_ALLOW_PRIVATE": "true",
        "HANDPOST_SECRET_KEY": Fernet.generate_key().decode(),
    }


def connected_account(page: Any, site: Site, name: str) -> dict[str, Any]:
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    card = page.locator(".account-card").first
    expect(card).to_contain_text("Live")
    screenshot(page, f"connected-{name.lower()}")
    [account] = api_client(site).get("/api/v1/accounts").json()
    return dict(account)


def publishes(site: Site, account: dict[str, Any], title: str) -> str:
    client = api_client(site)
    post = create_post(client, account["id"], "From the browser, to the blog.", title=title,
                       publish_now=True).json()  # fmt: skip

    def url() -> str | None:
        read = client.get(f"/api/v1/posts/{post['id']}").json()
        assert read["state"] in ("scheduled", "publishing", "published"), read
        return read["external_url"] if read["state"] == "published" else None

    found: str = wait_for(url, timeout=30)
    return found


def test_connect_wordpress_on_its_own_approval_page(
    page: Any, site: Site, wordpress: WordPressServer
) -> None:
    log_in(page, site)
    page.goto(site.url + "#/accounts")
    fill_profile(page, "WordPress")
    page.get_by_label("Site").fill(wordpress.url)
    page.get_by_role("button", name="Connect WordPress").click()
    # WordPress asks its own user to log in, then to approve Handpost.
    page.locator("#user_login").fill("admin")
    page.locator("#user_pass").fill(wordpress.admin_password)
    page.locator("#wp-submit").click()
    expect(page.locator("#app_name")).to_have_value(re.compile(r"^Handpost \([0-9a-f]{8}\)$"))
    page.locator("#approve").click()
    account = connected_account(page, site, "WordPress")
    assert account["network"] == "wordpress" and account["base_url"] == wordpress.url
    url = publishes(site, account, f"From Chromium ({account['id'][:6]})")
    assert url.startswith(wordpress.url)


def test_connect_ghost_with_its_admin_api_key(page: Any, site: Site, ghost: GhostServer) -> None:
    log_in(page, site)
    page.goto(site.url + "#/accounts")
    fill_profile(page, "Ghost")
    page.get_by_label("Site").fill(ghost.url)
    page.get_by_label("Admin API key").fill(ghost.admin_key)
    page.get_by_role("button", name="Connect Ghost").click()
    account = connected_account(page, site, "Ghost")
    assert account["network"] == "ghost" and account["display_name"] == "Handpost test blog"
    url = publishes(site, account, f"From Chromium ({account['id'][:6]})")
    assert url.startswith(ghost.url)
