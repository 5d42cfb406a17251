"""Posts published by hand, in the front end: at their time the queue shows them with the text
ready to copy, the audience, a link to the network's composer, and the two answers: published
(with its address) or skipped. The dispatcher of the real `handpost serve` makes them due."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot
from tests.browser.test_ui import log_in
from tests.support.api import create_account, wait_for
from tests.support.server import login

pytestmark = pytest.mark.slow

FAMILY = "Aino's first fish!\n\nShe caught it at the lake this morning, and we ate it for dinner."
GROUP = "The choir sings at the market square on Saturday at noon: come and listen."
POST_URL = "https://www.facebook.com/ada/posts/pfbid0fish"


def test_a_post_due_by_hand_is_copied_published_and_skipped_from_the_queue(
    page: Any, site: Site
) -> None:
    with httpx.Client(base_url=site.service.base_url, timeout=10) as api:
        login(api, site.username, site.password)
        account = create_account(api, "facebook", "ada.lovelace", mode="hand")
        for text, audience in ((FAMILY, "Family list"), (GROUP, "Helsinki choir group")):
            response = api.post(
                "/api/v1/posts",
                json={
                    "account_id": account["id"],
                    "text": text,
                    "publish_now": True,
                    "audience": audience,
                },
            )
            assert response.status_code == 201, response.text
        wait_for(lambda: len(api.get("/api/v1/due-by-hand").json()) == 2)

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url[:-1])
    log_in(page, site)
    section = page.locator("section.due-by-hand")
    expect(section.get_by_role("heading", name="Due now — publish by hand")).to_be_visible()
    card = section.locator(".due-card", has_text="Aino's first fish")
    expect(card).to_contain_text("Audience: Family list")
    composer = card.get_by_role("link", name="Open Facebook")
    expect(composer).to_have_attribute("href", "https://www.facebook.com/")
    expect(composer).to_have_attribute("target", "_blank")
    card.get_by_role("button", name="Copy text").click()
    expect(page.locator("#status")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == FAMILY
    screenshot(page, "hand-due-queue")

    card.get_by_role("button", name="Mark published").click()
    dialog = page.get_by_role("dialog", name="Mark it published")
    address = dialog.get_by_label("Address of the post on Facebook")
    address.fill("javascript:alert(1)")
    dialog.get_by_role("button", name="Mark published").click()
    expect(dialog).to_be_visible()  # refused next to the field, nothing sent
    address.fill(POST_URL)
    address.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("Marked published on Facebook")
    expect(section.locator(".due-card")).to_have_count(1)

    other = section.locator(".due-card", has_text="The choir sings")
    expect(other).to_contain_text("Audience: Helsinki choir group")
    other.get_by_role("button", name="Skip").click()
    confirm = page.get_by_role("dialog", name="Skip this post?")
    confirm.get_by_role("button", name="Skip it").click()
    expect(confirm).to_be_hidden()
    expect(section).to_have_count(0)

    page.get_by_role("link", name="Publish log").click()
    published = page.locator("tr.outcome-published")
    expect(published).to_contain_text(f"Published by hand by {site.username}: {POST_URL}")
    expect(published.get_by_role("link", name="View on Facebook")).to_have_attribute(
        "href", POST_URL
    )
    expect(page.locator("tr.outcome-skipped")).to_contain_text("You chose not to publish it.")
    expect(page.locator("tr.outcome-due")).to_have_count(2)
    screenshot(page, "hand-log")


def test_a_hand_account_from_adding_it_to_writing_for_it_and_where_to_be_told(
    page: Any, site: Site
) -> None:
    """A network without an API can only be added as by hand; the composer then asks where
    its post goes; Calendar & webhooks keeps where to be told."""
    log_in(page, site)
    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("Network").select_option(label="Another network")
    publishing = page.get_by_label("Publishing")
    expect(publishing).to_have_value("hand")
    expect(publishing.locator('option[value="sandbox"]')).to_be_disabled()
    page.get_by_label("Handle").fill("ada@forum")
    page.get_by_label("Purpose").fill("neighbours")
    page.get_by_label("Audience").fill("the street's forum")
    page.get_by_label("Where to publish").fill("https://forum.example.org/new-topic")
    page.get_by_role("button", name="Add account").click()
    card = page.locator(".account-card", has_text="ada@forum")
    expect(card).to_contain_text("By hand: you are told when a post is due")
    expect(card).to_contain_text("https://forum.example.org/new-topic")

    page.get_by_role("link", name="Compose").click()
    where = page.get_by_label("Where it goes")
    chosen = page.get_by_label("Account")
    chosen.select_option(label=chosen.locator("option", has_text="ada@forum").inner_text())
    expect(where).to_be_visible()
    where.fill("The street's forum, Events board")

    page.get_by_role("link", name="Calendar & webhooks").click()
    email = page.get_by_label("Email")
    email.fill("ada@example")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(f"#{email.get_attribute('id')}-error")).to_be_visible()
    email.fill("ada@example.org")
    page.get_by_label("Push address").fill("https://9.9.9.9/ada-topic")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator("#status")).to_contain_text("Saved where to tell you.")
    page.reload()
    expect(page.get_by_label("Email")).to_have_value("ada@example.org")
    expect(page.get_by_label("Push address")).to_have_value("https://9.9.9.9/ada-topic")
