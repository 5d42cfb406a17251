"""The strategy in the front end: goals, a handful of networks each for a purpose, the value
advice while composing, the refusal of a bare share, and the six-monthly review.

The server allows two active accounts (HANDPOST_MAX_ACTIVE_ACCOUNTS=2), so the third one is
refused with the "handful of networks" message. Screenshots go to $HANDPOST_SCREENSHOTS.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from service.db import Database
from service.strategy.models import Strategy
from service.users.models import User
from tests.browser.conftest import TIME_ZONE, Site, screenshot
from tests.browser.test_ui import local_input, log_in
from tests.support.server import login

pytestmark = pytest.mark.slow

REVIEW_DUE = (
    "Time for your six-monthly review: who you follow, what you communicate, which networks"
)
SHARED = "https://www.linkedin.com/posts/someone_personal-social-media-strategy-activity-1"
POST_TEXT = (
    "Colleagues: I wrote down my social media strategy this week. Three goals, three networks, "
    "and a review every six months. Which network did you drop, and why?"
)


def make_review_due(site: Site, database_url: str) -> None:
    """The user last reviewed their strategy seven months ago: a review is due."""
    with httpx.Client(base_url=site.service.base_url, timeout=10) as api:
        login(api, site.username, site.password)
        saved = api.patch("/api/v1/strategy", json={"review_interval_months": 6})
        assert saved.status_code == 200, saved.text
    database = Database(database_url)
    try:
        with database.session() as session:
            user = session.exec(select(User).where(User.username == site.username)).one()
            strategy = session.get(Strategy, user.id)
            assert strategy is not None
            strategy.last_reviewed_at = datetime.now(UTC) - timedelta(days=212)
            session.add(strategy)
            session.commit()
    finally:
        database.dispose()


def add_account(page: Any, network: str, handle: str, sphere: str, audience: str) -> None:
    page.get_by_label("Network").select_option(label=network)
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Sphere").select_option(label=sphere)
    # The sphere suggests the purpose; the user may keep it or write their own.
    expect(page.get_by_label("Purpose")).to_have_value(sphere.lower())
    page.get_by_label("Audience").fill(audience)
    page.get_by_role("button", name="Add account").click()


def go(page: Any, screen: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=screen).click()


def card(page: Any, text: str) -> Any:
    return page.locator(".account-card", has_text=text)


@pytest.mark.server_env(HANDPOST_MAX_ACTIVE_ACCOUNTS="2")
def test_goals_networks_advice_a_bare_share_and_the_review(
    page: Any, new_page: Any, site: Site, database_url: str
) -> None:
    make_review_due(site, database_url)
    log_in(page, site)

    # The review is due: the Queue says so at the top.
    banner = page.locator(".banner-review")
    expect(banner).to_contain_text(REVIEW_DUE)
    expect(banner.get_by_role("link", name="Open your strategy")).to_be_visible()

    # Strategy: empty goals, advice on what is missing, then two goals.
    go(page, "Strategy")
    expect(page.get_by_role("heading", name="Strategy", level=1)).to_be_visible()
    expect(page.get_by_text("No goals yet — what do you want from social media?")).to_be_visible()
    expect(page.locator(".strategy-advice")).to_contain_text("Write down your goals")
    expect(page.get_by_text("No networks yet — choose a handful")).to_be_visible()
    goal = page.get_by_label("Goal", exact=True)
    goal.fill("Build relationships")
    page.get_by_role("button", name="Add goal").click()
    expect(page.locator(".goal-card h3")).to_have_text(["Build relationships"])
    expect(goal).to_be_focused()  # ready for the next one
    goal.fill("Advance my cause")
    page.get_by_label("Description").fill("Say why I organise the meetup, not just where it is.")
    page.get_by_role("button", name="Add goal").click()
    expect(page.locator(".goal-card h3")).to_have_text(["Build relationships", "Advance my cause"])
    # A goal is named once (in any case): the refusal sits next to the name.
    goal.fill("build RELATIONSHIPS")
    page.get_by_role("button", name="Add goal").click()
    expect(goal).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{goal.get_attribute('id')}-error")).to_contain_text(
        "already have a goal"
    )
    goal.fill("")
    # Rename a goal; Escape would leave the editor, Save keeps the change.
    cause = page.locator(".goal-card", has_text="Advance my cause")
    cause.get_by_role("button", name="Edit").click()
    editor = page.get_by_role("form", name="Edit the goal Advance my cause")
    expect(editor.get_by_label("Goal", exact=True)).to_be_focused()
    editor.get_by_label("Goal", exact=True).fill("Advance our cause")
    editor.get_by_role("button", name="Save goal").click()
    expect(page.locator(".goal-card h3")).to_have_text(["Build relationships", "Advance our cause"])
    expect(page.locator(".goal-card", has_text="Advance our cause")).to_contain_text(
        "not just where it is"
    )

    # Accounts: each with its sphere; the third is one too many for this install (2).
    go(page, "Accounts")
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    expect(page.locator(".in-use")).to_have_text("0 of 2 networks in use.")
    add_account(page, "LinkedIn", "a1b2c3", "Professionals", "colleagues and clients")
    expect(card(page, "a1b2c3")).to_contain_text("Professionals")
    add_account(page, "Mastodon", "ada", "Society", "the fediverse tech crowd")
    expect(card(page, "the fediverse")).to_contain_text("Society")
    expect(page.locator(".in-use")).to_contain_text("2 of 2 networks in use.")
    add_account(page, "Facebook", "1234567", "Family and friends", "family and close friends")
    refusal = page.locator(".too-many")
    expect(refusal).to_contain_text("You already have your handful of networks.")
    expect(refusal).to_contain_text("You already use 2 networks")
    expect(refusal).to_contain_text("each chosen for a purpose")
    expect(page.locator(".account-card")).to_have_count(2)
    screenshot(page, "accounts-limit")
    # Take Mastodon out of use (by keyboard): now Facebook fits.
    mastodon_switch = card(page, "the fediverse").get_by_role("switch", name="In use")
    expect(mastodon_switch).to_be_checked()
    mastodon_switch.focus()
    page.keyboard.press("Space")
    expect(card(page, "the fediverse").get_by_role("switch", name="In use")).not_to_be_checked()
    expect(card(page, "the fediverse").get_by_role("switch", name="In use")).to_be_focused()
    expect(card(page, "the fediverse")).to_contain_text("Not in use")
    expect(page.locator(".in-use")).to_contain_text("1 of 2 networks in use.")
    page.get_by_role("button", name="Add account").click()
    expect(card(page, "1234567")).to_contain_text("Family and friends")
    expect(page.locator(".too-many")).to_have_count(0)

    # Compose: the review banner, only the networks in use, and the goal as a choice.
    go(page, "Compose")
    expect(page.get_by_role("heading", name="Write a post")).to_be_visible()
    expect(page.locator(".banner-review")).to_contain_text(REVIEW_DUE)
    account = page.get_by_label("Account")
    expect(account.locator("option")).to_have_text(
        ["LinkedIn · a1b2c3 — professionals", "Facebook · 1234567 — family and friends"]
    )
    account.select_option(label="LinkedIn · a1b2c3 — professionals")
    goal = page.get_by_label("Goal it serves")
    expect(goal.locator("option")).to_have_text(
        ["None", "Build relationships", "Advance our cause"]
    )
    text = page.get_by_label(re.compile("^Text for LinkedIn"))
    text.fill(POST_TEXT)
    advice = page.locator(".check-advice")
    expect(advice.locator('[data-code="no-goal"]')).to_contain_text("Always deliver value")
    goal.select_option(label="Build relationships")
    # Advice, not an error: a LinkedIn post without a call to action may still go.
    expect(advice.locator('[data-code="no-goal"]')).to_have_count(0)
    cta_advice = advice.locator('[data-code="no-call-to-action"]')
    expect(cta_advice).to_contain_text("Try to include a call to action.")
    expect(cta_advice).to_contain_text("should invite the reader")
    expect(page.locator(".checks-summary")).to_have_text("Fits LinkedIn, with advice below.")
    expect(page.locator(".check-error")).to_have_count(0)
    expect(page.get_by_role("button", name="Schedule", exact=True)).to_be_enabled()
    screenshot(page, "compose-advice")

    # A bare share is refused, next to the text.
    page.get_by_label("Shares someone else's post").fill(SHARED)
    text.fill("Must read 👀")
    page.get_by_role("button", name="Save draft").click()
    expect(text).to_have_attribute("aria-invalid", "true")
    text_error = page.locator(f"#{text.get_attribute('id')}-error")
    expect(text_error).to_contain_text("A share needs your own comment")
    expect(page.get_by_role("alert")).to_contain_text("Fix the marked fields")
    # The dry run of the new text comes back: the refusal stays until the text changes.
    expect(page.locator(".counter")).not_to_have_text(f"{len(POST_TEXT)} / 3000")
    expect(page.locator(".check-error")).to_contain_text("A share needs your own comment")
    expect(text_error).to_be_visible()
    expect(page.get_by_role("heading", name="Write a post")).to_be_visible()  # nothing saved
    screenshot(page, "compose-bare-share")

    # With words of the user's own it may go; once goals exist, scheduling needs one.
    text.fill(POST_TEXT)
    page.get_by_label("Call to action").fill("Tell me which network you dropped")
    expect(page.locator(".checks-summary")).to_have_text("Fits LinkedIn.")
    goal.select_option(label="None")
    page.get_by_label("Publish at").fill(local_input(3600))
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(goal).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{goal.get_attribute('id')}-error")).to_contain_text("Choose a goal")
    goal.select_option(label="Build relationships")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    expect(
        page.locator(".post-card", has_text="wrote down my social media strategy")
    ).to_be_visible()
    expect(page.locator(".banner-review")).to_be_visible()

    # Strategy: networks with their sphere, purpose and audience; Mastodon is resting.
    go(page, "Strategy")
    expect(page.get_by_role("heading", name="Strategy", level=1)).to_be_visible()
    expect(page.locator(".strategy-ok")).to_contain_text("Always deliver value")
    expect(page.locator(".in-use")).to_contain_text("2 of 2 networks in use.")
    linkedin = page.locator(".network-card", has_text="a1b2c3")
    expect(linkedin.get_by_label("Sphere")).to_have_value("professionals")
    linkedin.get_by_label("Audience").fill("colleagues, clients and peers in scheduling")
    linkedin.get_by_role("button", name="Save").click()
    expect(page.locator("#status")).to_contain_text("Saved the purpose of LinkedIn · a1b2c3")
    expect(linkedin.get_by_role("button", name="Save")).to_be_focused()
    expect(page.locator(".resting")).to_contain_text("ada")
    # LinkedIn has a post scheduled: it cannot be taken out of use, and the card says why.
    linkedin.get_by_role("switch", name="In use").click()
    expect(linkedin).to_contain_text("still has scheduled posts")
    expect(linkedin.get_by_role("link", name="See the queue")).to_be_visible()
    expect(linkedin.get_by_role("switch", name="In use")).to_be_checked()
    # The goal switch, by keyboard: off, then on again.
    require = page.get_by_role("switch", name="Every post names the goal it serves")
    expect(require).to_be_checked()
    require.focus()
    page.keyboard.press("Space")
    expect(page.locator("#status")).to_contain_text("may be scheduled without a goal")
    page.keyboard.press("Space")
    expect(page.locator("#status")).to_contain_text("must now name a goal")
    expect(require).to_be_checked()
    expect(page.locator(".banner-review")).to_contain_text(REVIEW_DUE)
    expect(page.locator(".review-facts")).to_contain_text("due now")
    screenshot(page, "strategy")

    # On a phone the banner fits too.
    phone = new_page(390, 844)
    log_in(phone, site)
    expect(phone.locator(".banner-review")).to_contain_text(REVIEW_DUE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "queue-review-phone")

    # Mark the review done, with notes: the banner goes, the dates move on.
    page.locator(".banner-review").get_by_role("button", name="Mark reviewed").click()
    dialog = page.get_by_role("dialog", name="Mark your review done")
    expect(dialog.get_by_label("What did you change?")).to_be_focused()
    dialog.get_by_label("What did you change?").fill(
        "Unfollowed the accounts I never read. Mastodon rests for now."
    )
    dialog.get_by_role("button", name="Mark reviewed").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".banner-review")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("Review recorded")
    today = datetime.now(ZoneInfo(TIME_ZONE))
    facts = page.locator(".review-facts")
    expect(facts).to_contain_text(f"{today.day} {today:%B} {today.year}")
    expect(facts).not_to_contain_text("due now")
    expect(facts.locator(".review-notes")).to_have_text(
        "Unfollowed the accounts I never read. Mastodon rests for now."
    )
    go(page, "Queue")
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    expect(page.locator(".banner-review")).to_have_count(0)

    # The strategy on a phone: one readable column, nothing wider than the screen.
    phone.goto(f"{site.url}#/strategy")
    expect(phone.get_by_role("heading", name="Strategy", level=1)).to_be_visible()
    expect(phone.locator(".goal-card")).to_have_count(2)
    expect(phone.locator(".network-card")).to_have_count(3)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "strategy-phone")


def test_goal_editing_and_an_empty_strategy_on_a_small_phone(new_page: Any, site: Site) -> None:
    """360 px, keyboard only: a goal is added, described, renamed and deleted."""
    page = new_page(360, 740)
    log_in(page, site)
    page.goto(f"{site.url}#/strategy")
    expect(page.get_by_role("heading", name="Strategy", level=1)).to_be_visible()
    expect(page.get_by_text("No goals yet — what do you want from social media?")).to_be_visible()
    expect(page.locator(".banner-review")).to_have_count(0)  # a new strategy is not due
    expect(page.locator(".review-facts")).to_contain_text("Not yet")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # A yearly review, recorded early and without notes.
    page.get_by_label("Review every").select_option(label="12 months")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#status")).to_contain_text("review your strategy every year")
    page.get_by_role("button", name="Record a review").click()
    dialog = page.get_by_role("dialog", name="Mark your review done")
    dialog.get_by_role("button", name="Mark reviewed").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".review-facts")).not_to_contain_text("Not yet")
    expect(page.get_by_role("button", name="Record a review")).to_be_focused()
    next_year = datetime.now(ZoneInfo(TIME_ZONE)).year + 1
    expect(page.locator(".review-facts dd").nth(1)).to_contain_text(str(next_year))

    goal = page.get_by_label("Goal", exact=True)
    goal.fill("Build my personal brand")
    goal.press("Enter")  # submits the form
    expect(page.locator(".goal-card h3")).to_have_text(["Build my personal brand"])
    brand = page.locator(".goal-card", has_text="Build my personal brand")
    brand.get_by_role("button", name="Edit").click()
    editor = page.locator("form.goal-card")
    editor.get_by_label("Description").fill("Be known for calm, useful posts about scheduling.")
    page.keyboard.press("Escape")  # leaves without saving, focus back on Edit
    expect(page.locator("form.goal-card")).to_have_count(0)
    expect(brand.get_by_role("button", name="Edit")).to_be_focused()
    expect(brand).to_contain_text("No description yet.")
    page.keyboard.press("Enter")
    editor = page.locator("form.goal-card")
    editor.get_by_label("Description").fill("Be known for calm, useful posts about scheduling.")
    editor.get_by_role("button", name="Save goal").click()
    expect(brand).to_contain_text("calm, useful posts")
    expect(brand.get_by_role("button", name="Edit")).to_be_focused()

    brand.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete the goal “Build my personal brand”?")
    dialog.get_by_role("button", name="Delete goal").click()
    expect(page.get_by_text("No goals yet — what do you want from social media?")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Deleted the goal")
