"""Posts whose outcome is unknown, answered in the front end: it went out (with its URL), it did
not (send it now), or cancel it, from the publish log and from the queue's "Needs attention".

The unknown posts are written straight into the server's database, as the dispatcher leaves
them after a send it could not confirm: state `unknown`, with an `unknown` row in the log.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from service.accounts.models import Account
from service.db import Database
from service.posts.models import Post, PostState
from service.publishing.models import PublishAttempt
from tests.browser.conftest import Site, screenshot
from tests.browser.test_ui import log_in
from tests.support.api import create_account
from tests.support.rows import insert_post
from tests.support.server import login

pytestmark = pytest.mark.slow

WENT_OUT = "Release day: the scheduler now tells you when it is not sure a post went out."
NOT_SENT = "Small changes, shipped every Tuesday: a year of weekly releases in one thread."
DROPPED = "An old teaser for a talk that was moved to next year."
POST_URL = "https://x.com/ada_x/status/1850000000000000001"


def unknown_post(database: Database, account_id: str, text: str) -> str:
    """A post whose send Handpost could not confirm: unknown, with its attempt in the log."""
    now = datetime.now(UTC)
    post_id = insert_post(
        database,
        account_id,
        text,
        state=PostState.UNKNOWN,
        scheduled_at=now - timedelta(hours=2),
        attempt_count=1,
        last_error="Timed out after sending",
    )
    with database.session() as session:
        post = session.get(Post, post_id)
        assert post is not None
        account = session.get(Account, account_id)
        assert account is not None
        session.add(
            PublishAttempt(
                user_id=account.user_id,
                post_id=post.id,
                account_id=account_id,
                network=account.network,
                attempt=1,
                due_at=now - timedelta(hours=2),
                started_at=now - timedelta(hours=2),
                finished_at=now - timedelta(hours=2) + timedelta(seconds=30),
                duration_ms=30_000,
                outcome="unknown",
                message="Timed out after sending",
            )
        )
        session.commit()
        return post.id


def test_unknown_posts_are_resolved_from_the_log_and_the_queue(
    page: Any, site: Site, database_url: str
) -> None:
    with httpx.Client(base_url=site.service.base_url, timeout=10) as api:
        login(api, site.username, site.password)
        account = create_account(api, "x", "ada_x")
    database = Database(database_url)
    try:
        for text in (WENT_OUT, NOT_SENT, DROPPED):
            unknown_post(database, account["id"], text)
    finally:
        database.dispose()

    # The queue asks about all three, each with the three answers.
    log_in(page, site)
    attention = page.locator("section.attention")
    expect(attention.locator(".post-card")).to_have_count(3)
    for text in (WENT_OUT, NOT_SENT, DROPPED):
        card = attention.locator(".post-card", has_text=text[:30])
        expect(card.get_by_text("Check X to see whether it went out")).to_be_visible()
        for answer in ("It went out", "It did not go out — send now", "Cancel it"):
            expect(card.get_by_role("button", name=answer)).to_be_visible()
    screenshot(page, "unknown-queue")

    # Publish log: "It went out", with the post's address checked next to the field.
    page.get_by_role("link", name="Publish log").click()
    expect(page.locator("tr.outcome-unknown")).to_have_count(3)
    row = page.locator("tr.outcome-unknown", has_text=WENT_OUT[:30])
    went_out = row.get_by_role("button", name="It went out")
    went_out.click()
    dialog = page.get_by_role("dialog", name="Mark it published")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # Esc closes it, and focus is back on the button
    expect(dialog).to_be_hidden()
    expect(went_out).to_be_focused()
    page.keyboard.press("Enter")  # the keyboard opens it again
    expect(dialog).to_be_visible()
    address = dialog.get_by_label("Address of the post on X")
    expect(address).to_be_focused()
    mark = dialog.get_by_role("button", name="Mark published")
    mark.click()
    error = dialog.locator(f"#{address.get_attribute('id')}-error")
    expect(error).to_have_text("Paste the post's address, starting with https://.")
    expect(address).to_have_attribute("aria-invalid", "true")
    assert error.get_attribute("id") in address.get_attribute("aria-describedby")
    address.fill("x.com/ada_x/status/1")
    mark.click()
    expect(error).to_contain_text("not a web address")
    address.fill("ftp://x.com/ada_x/status/1")
    mark.click()
    expect(error).to_contain_text("must start with https://")
    screenshot(page, "unknown-mark-published")
    address.fill(POST_URL)
    address.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("Marked published on X")
    mine = page.locator("tr.outcome-published", has_text=WENT_OUT[:30])
    expect(mine).to_contain_text(f"Marked published by you: {POST_URL}")
    expect(mine.get_by_role("link", name="View on X")).to_have_attribute("href", POST_URL)
    # The unknown row stays as history, without the buttons now.
    expect(row.get_by_role("button")).to_have_count(0)
    expect(
        page.locator("tr.outcome-unknown").get_by_role("button", name="It went out")
    ).to_have_count(2)

    # Queue: "It did not go out — send now", confirmed first (and Esc backs out of it).
    page.get_by_role("link", name="Queue").click()
    expect(attention.locator(".post-card")).to_have_count(2)
    card = attention.locator(".post-card", has_text=NOT_SENT[:30])
    send_now = card.get_by_role("button", name="It did not go out — send now")
    send_now.click()
    confirm = page.get_by_role("dialog", name="Send it now?")
    expect(confirm).to_contain_text("it will appear twice")
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(send_now).to_be_focused()
    page.keyboard.press("Enter")
    confirm.get_by_role("button", name="Send it now").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("Requeued: Handpost is sending it to X now.")
    expect(attention.locator(".post-card", has_text=NOT_SENT[:30])).to_have_count(0)

    # Queue: "Cancel it", confirmed; the queue then has nothing needing attention.
    dropped = attention.locator(".post-card", has_text=DROPPED[:30])
    dropped.get_by_role("button", name="Cancel it").click()
    cancel = page.get_by_role("dialog", name="Cancel this post?")
    expect(cancel).to_contain_text("Handpost only stops tracking it")
    cancel.get_by_role("button", name="Cancel post").click()
    expect(cancel).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("Cancelled the X post.")
    expect(attention).to_have_count(0)

    # The log: the answer for each, and the requeued post sent by the dispatcher.
    page.get_by_role("link", name="Publish log").click()
    requeued = page.locator("tr", has_text=NOT_SENT[:30])
    expect(requeued.filter(has_text="Requeued by you")).to_have_class(
        re.compile("outcome-retrying")
    )
    expect(page.locator("tr.outcome-published", has_text=NOT_SENT[:30])).to_have_count(
        1, timeout=60_000
    )
    expect(page.locator("tr.outcome-published")).to_have_count(2)
    expect(page.locator("tr.outcome-unknown")).to_have_count(3)
    expect(page.locator("tr.outcome-unknown").get_by_role("button")).to_have_count(0)
    expect(page.locator("tr.outcome-unknown", has_text=DROPPED[:30])).to_contain_text(
        "Answered since: the post is cancelled now."
    )
    screenshot(page, "unknown-resolve")
