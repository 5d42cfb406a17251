"""The front end as a person uses it, in headless Chromium against the real service.

The main flow is the issue's: log in, connect two networks, write a post, tailor a second
version from it (the guard refuses the unchanged copy inline, naming the first post), schedule
both a few seconds ahead, and see both published in the log. Screenshots of each main screen
go to $HANDPOST_SCREENSHOTS (default: handpost-screenshots in the system's temporary folder).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIME_ZONE, Site, screenshot
from tests.support.api import create_account, create_post
from tests.support.server import login

pytestmark = pytest.mark.slow

LINKEDIN_TEXT = (
    "Colleagues: we cut our release cycle from a month to a week. The trick was smaller "
    "changes, not more people. What slows your releases down?"
)
MASTODON_TEXT = (
    "Weekly releases, a year in: boring deploys are the best deploys. Small changes, "
    "shipped every Tuesday, and nobody stays late any more. Notes: https://example.org/weekly"
)


def local_input(seconds_ahead: float) -> str:
    """A datetime-local value `seconds_ahead` from now, on the browser's wall clock."""
    at = datetime.now(ZoneInfo(TIME_ZONE)) + timedelta(seconds=seconds_ahead)
    return at.strftime("%Y-%m-%dT%H:%M:%S")


def log_in(page: Any, site: Site) -> None:
    page.goto(site.url)
    expect(page.get_by_role("heading", name="Log in to Handpost")).to_be_visible()
    page.get_by_label("Username").fill(site.username)
    page.get_by_label("Password").fill(site.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()


def add_account(page: Any, network: str, handle: str, purpose: str, audience: str) -> None:
    page.get_by_label("Network").select_option(label=network)
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Purpose").fill(purpose)
    page.get_by_label("Audience").fill(audience)
    page.get_by_role("button", name="Add account").click()
    expect(page.locator(".account-card", has_text=handle)).to_be_visible()


def test_write_tailor_schedule_and_see_both_published(page: Any, new_page: Any, site: Site) -> None:
    page.goto(site.url)
    expect(page.get_by_role("heading", name="Log in to Handpost")).to_be_visible()
    screenshot(page, "login")
    log_in(page, site)

    # Accounts: the empty state, then two networks, each with its purpose.
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_text("No accounts yet")).to_be_visible()
    add_account(page, "LinkedIn", "a1b2c3", "professionals", "colleagues and clients")
    add_account(page, "Mastodon", "ada", "society", "the fediverse tech crowd")
    expect(page.locator(".account-card")).to_have_count(2)
    screenshot(page, "accounts")

    # Compose for LinkedIn: the counter is the server's count; the fields fit LinkedIn.
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("heading", name="Write a post")).to_be_visible()
    page.get_by_label("Account").select_option(label="LinkedIn · a1b2c3 — professionals")
    text = page.get_by_label(re.compile("^Text for LinkedIn"))
    text.fill(LINKEDIN_TEXT)
    expect(page.locator(".counter")).to_have_text(f"{len(LINKEDIN_TEXT)} / 3000")
    expect(page.get_by_label("Who can see it")).to_be_visible()  # LinkedIn has several
    expect(page.get_by_text(re.compile("should invite the reader"))).to_be_visible()
    page.get_by_label("Goal it serves").fill("builds my personal brand")
    page.get_by_label("Call to action").fill("Reply with your bottleneck")
    expect(page.locator(".checks-summary")).to_have_text("Fits LinkedIn.")
    expect(page.get_by_label("Time zone")).to_have_value(TIME_ZONE)
    page.get_by_label("Publish at").fill(local_input(30))
    screenshot(page, "compose")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    first = page.locator(".post-card", has_text="we cut our release cycle")
    expect(first).to_be_visible()

    # Tailor for another network: the copy is refused inline, naming the LinkedIn post.
    first.get_by_role("button", name="Tailor for another network").click()
    dialog = page.get_by_role("dialog", name="Tailor for another network")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # Esc closes a dialog...
    expect(dialog).to_be_hidden()
    first.get_by_role("button", name="Tailor for another network").click()  # ...and reopens
    dialog.get_by_label("Write a version for").select_option(label="Mastodon · ada")
    dialog.get_by_role("button", name="Start draft").click()
    expect(page.get_by_role("heading", name="Tailor this draft")).to_be_visible()
    refusal = page.locator(".check-crosspost")
    expect(refusal).to_contain_text("100% the same as your LinkedIn post")
    expect(refusal).to_contain_text("Colleagues: we cut our release")
    expect(refusal).to_contain_text("rewrite this version for its audience")
    schedule = page.get_by_role("button", name="Schedule", exact=True)
    expect(schedule).to_be_disabled()
    screenshot(page, "compose-guard")

    # Trivial changes do not get past the guard either.
    text = page.get_by_label(re.compile("^Text for Mastodon"))
    text.fill(LINKEDIN_TEXT.upper().replace("?", "!! 🚀 #devops"))
    expect(refusal).to_contain_text("the same as your LinkedIn post")
    expect(schedule).to_be_disabled()

    # Rewritten for Mastodon's audience, it may go.
    text.fill(MASTODON_TEXT)
    # Mastodon counts any URL as 23 characters: the counter is the network's, not len().
    url = "https://example.org/weekly"
    expect(page.locator(".counter")).to_have_text(f"{len(MASTODON_TEXT) - len(url) + 23} / 500")
    expect(refusal).to_have_count(0)
    expect(schedule).to_be_enabled()
    page.get_by_label("Goal it serves").fill("advances my cause")
    page.get_by_label("Publish at").fill(local_input(20))
    schedule.click()
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    expect(page.locator(".post-card", has_text="boring deploys")).to_be_visible()
    expect(page.locator(".post-card", has_text="we cut our release cycle")).to_be_visible()
    screenshot(page, "queue")

    # The queue on a phone: one readable column.
    phone = new_page(390, 844)
    log_in(phone, site)
    expect(phone.locator(".post-card")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "queue-phone")

    # The publish log fills in by itself as the dispatcher publishes both.
    page.get_by_role("link", name="Publish log").click()
    expect(page.get_by_role("heading", name="Publish log")).to_be_visible()
    published = page.locator("tr.outcome-published")
    expect(published).to_have_count(2, timeout=90_000)
    expect(page.get_by_role("link", name="View on LinkedIn")).to_be_visible()
    expect(page.get_by_role("link", name="View on Mastodon")).to_be_visible()
    expect(page.locator("tr.attention")).to_have_count(0)
    screenshot(page, "publish-log")

    # Published posts have left the queue.
    page.get_by_role("link", name="Queue").click()
    expect(page.get_by_text("No posts scheduled yet — write one.")).to_be_visible()


def test_keyboard_only_login_and_logout(page: Any, site: Site) -> None:
    page.goto(site.url)
    username = page.get_by_label("Username")
    expect(username).to_be_focused()
    page.keyboard.type(site.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text(re.compile("username or password is wrong"))
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(site.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    # Focus starts at the screen's heading; Shift+Tab reaches the navigation, Enter follows it.
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_focused()
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "Accounts":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Handpost")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('handpost.token')") is None


def test_field_errors_a_stale_edit_and_an_expired_session(page: Any, site: Site) -> None:
    with httpx.Client(base_url=site.service.base_url, timeout=10) as api:
        login(api, site.username, site.password)
        account = create_account(api, "x", "ada_x")
        draft = create_post(api, account["id"], "A draft about weekly releases", goal="brand")
        assert draft.status_code == 201, draft.text
        post = draft.json()

        log_in(page, site)
        page.goto(f"{site.url}#/compose/{post['id']}")
        expect(page.get_by_role("heading", name="Edit post")).to_be_visible()
        # X has one visibility and no title: the composer shows neither.
        expect(page.get_by_label("Who can see it")).to_be_hidden()
        expect(page.get_by_label(re.compile("^Title"))).to_be_hidden()

        # A wall-clock time the clocks skip: the API's message sits next to the field.
        when = page.get_by_label("Publish at")
        when.fill("2027-03-28T03:30")
        page.get_by_role("button", name="Schedule", exact=True).click()
        expect(when).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{when.get_attribute('id')}-error")
        expect(error).to_contain_text("does not exist in Europe/Helsinki")
        assert error.get_attribute("id") in when.get_attribute("aria-describedby")

        # Over X's limit as X counts it (emoji weigh 2): the counter and the field say so.
        text = page.get_by_label(re.compile("^Text for X"))
        text.fill("🚀" * 141)
        expect(page.locator(".counter")).to_have_text("282 / 280")
        expect(page.locator(".counter")).to_have_class(re.compile("over"))
        expect(text).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("button", name="Schedule", exact=True)).to_be_disabled()
        text.fill("A draft about weekly releases, now with a question: how often do you ship?")

        # Someone changes the post in another tab: saving here is refused, with a reload.
        changed = api.patch(
            f"/api/v1/posts/{post['id']}",
            json={"text": "Changed elsewhere: how often do you ship?"},
            headers={"If-Match": draft.headers["etag"]},
        )
        assert changed.status_code == 200, changed.text
        page.get_by_role("button", name="Save draft").click()
        stale = page.get_by_role("alert").filter(has_text="This post changed elsewhere")
        expect(stale).to_be_visible()
        stale.get_by_role("button", name="Reload").click()
        expect(page.get_by_label(re.compile("^Text for X"))).to_have_value(
            "Changed elsewhere: how often do you ship?"
        )

        # The session ends (logged out elsewhere): the next call brings back the login.
        token = page.evaluate("sessionStorage.getItem('handpost.token')")
        api.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        page.get_by_role("link", name="Publish log").click()
        expect(page.get_by_role("heading", name="Log in to Handpost")).to_be_visible()
        expect(page.locator("#status")).to_contain_text("Log in again")
