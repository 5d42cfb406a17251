"""Calendar & webhooks in the front end: the calendar link made, copied, rotated and turned
off; a webhook added (a refused address said inline), its secret shown once, a test event
delivered to a real receiver that verifies the signature, redelivered, turned off, deleted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot
from tests.browser.test_ui import log_in
from tests.support.webhooks import Receiver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("secret_key"),
    pytest.mark.server_env(
        HANDPOST_OUTBOUND_ALLOWED_NETWORKS="127.0.0.1/32",
        HANDPOST_WEBHOOK_POLL_SECONDS="0.2",
    ),
]


def open_screen(page: Any, site: Site) -> None:
    log_in(page, site)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Calendar & webhooks").click()
    expect(page.get_by_role("heading", name="Calendar & webhooks", level=1)).to_be_visible()


def confirm(page: Any, button: str) -> None:
    page.get_by_role("dialog").get_by_role("button", name=button).click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_the_calendar_link_is_made_copied_rotated_and_turned_off(page: Any, site: Site) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    open_screen(page, site)
    calendar = page.get_by_role("region", name="Calendar feed")
    calendar.get_by_role("button", name="Create calendar link").click()
    link = calendar.get_by_label("Calendar link")
    expect(link).to_be_focused()
    first = link.input_value()
    assert first.startswith(f"{site.service.base_url}/api/v1/feeds/calendar/")
    expect(calendar.get_by_role("link", name="Subscribe")).to_have_attribute(
        "href", "webcal:" + first.split(":", 1)[1]
    )
    calendar.get_by_role("button", name="Copy").click()
    expect(page.locator("#status")).to_have_text("Copied the calendar link.")
    assert page.evaluate("navigator.clipboard.readText()") == first
    feed = httpx.get(first, timeout=10)
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
    screenshot(page, "calendar-link")

    # Back later: the link is not shown again, but when it was last fetched is.
    page.reload()
    calendar = page.get_by_role("region", name="Calendar feed")
    expect(calendar.get_by_text("The link is shown only when it is made.")).to_be_visible()
    expect(calendar.get_by_label("Calendar link")).to_have_count(0)
    expect(calendar.locator(".last-fetched")).not_to_have_text("Not yet by any calendar")

    calendar.get_by_role("button", name="Make a new link").click()
    confirm(page, "Make a new link")
    second = calendar.get_by_label("Calendar link").input_value()
    assert second != first
    assert httpx.get(first, timeout=10).status_code == 404
    assert httpx.get(second, timeout=10).status_code == 200

    calendar.get_by_role("button", name="Turn off").click()
    confirm(page, "Turn it off")
    expect(calendar.get_by_role("button", name="Create calendar link")).to_be_visible()
    assert httpx.get(second, timeout=10).status_code == 404


def test_a_webhook_is_added_tested_redelivered_turned_off_and_deleted(
    page: Any, site: Site, receiver: Receiver
) -> None:
    open_screen(page, site)
    hooks = page.get_by_role("region", name="Webhooks")
    expect(hooks.get_by_text("No webhooks yet.")).to_be_visible()

    # An address inside the network is refused, next to the field.
    hooks.get_by_label("Endpoint URL").fill("http://169.254.169.254/latest/meta-data/")
    hooks.get_by_role("button", name="Add webhook").click()
    expect(hooks.locator(".field-error", has_text="169.254.169.254")).to_be_visible()
    expect(hooks.get_by_label("Endpoint URL")).to_have_attribute("aria-invalid", "true")

    hooks.get_by_label("Endpoint URL").fill(receiver.url())
    hooks.get_by_label("Description").fill("My publish-log mirror")
    hooks.get_by_role("checkbox", name="post.due_by_hand").uncheck()
    hooks.get_by_role("button", name="Add webhook").click()
    card = hooks.locator(".webhook-card", has_text=receiver.url())
    expect(card).to_be_visible()
    expect(card.locator(".webhook-events")).not_to_contain_text("post.due_by_hand")
    secret = card.get_by_label("Signing secret")
    expect(secret).to_be_focused()
    receiver.secrets.append(secret.input_value())
    assert receiver.secrets[0].startswith("whsec_")

    card.get_by_role("button", name="Send test event").click()
    log = card.locator(".delivery-log")
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log.locator("tbody tr").first).to_contain_text("Delivered")
    expect(log.locator("tbody tr").first).to_contain_text("HTTP 200")
    [event] = receiver.wait_for_events(1)
    assert event.verified and event.payload["type"] == "webhook.test"
    screenshot(page, "webhooks")

    log.get_by_role("button", name="Redeliver").click()
    expect(log.locator("tbody tr")).to_have_count(2)
    receiver.wait_for_events(2)
    assert receiver.events()[1].id == event.id

    card.get_by_role("button", name="Turn off").click()
    expect(card.locator(".state-off")).to_have_text("off")
    expect(card.get_by_role("button", name="Send test event")).to_be_disabled()
    expect(card.get_by_role("button", name="Turn on")).to_be_focused()

    # Reloaded, the secret is gone from the page for good.
    page.reload()
    hooks = page.get_by_role("region", name="Webhooks")
    card = hooks.locator(".webhook-card", has_text=receiver.url())
    expect(card.get_by_label("Signing secret")).to_have_count(0)
    assert receiver.secrets[0] not in page.content()

    card.get_by_role("button", name="Delete").click()
    confirm(page, "Delete")
    expect(hooks.get_by_text("No webhooks yet.")).to_be_visible()
