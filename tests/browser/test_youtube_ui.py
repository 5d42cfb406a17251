"""Writing a YouTube post in Chromium: the composer shows YouTube's own fields (tags,
category, release time) for a YouTube account only, checks them, and saves them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot
from tests.browser.test_ui import log_in
from tests.support.api import create_account
from tests.support.media import video_file
from tests.support.server import login

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("secret_key")]


def choose_account(page: Any, network: str) -> None:
    option = page.locator("select[name=account_id] option", has_text=network)
    page.get_by_label("Account").select_option(option.get_attribute("value"))


def test_the_composer_offers_youtube_fields_for_a_youtube_account(
    page: Any, site: Site, tmp_path: Path
) -> None:
    with httpx.Client(base_url=site.service.base_url) as api:
        login(api, site.username, site.password)
        create_account(api, "mastodon", "ada")
        create_account(api, "youtube", "ada-talks")
    log_in(page, site)
    page.get_by_role("link", name="Compose").click()
    youtube = page.locator("fieldset.youtube-fields")
    expect(youtube).to_be_hidden()  # the first account is Mastodon's
    choose_account(page, "YouTube")
    expect(youtube).to_be_visible()
    page.get_by_label(re.compile("^Text for YouTube")).fill(
        "The whole talk on release trains, with the questions at the end."
    )
    page.get_by_label("Title").fill("Release trains, the talk")
    page.get_by_label("Who can see it").select_option("public")
    page.get_by_label(re.compile("^Tags")).fill("release engineering, talks")
    page.get_by_label("Category").select_option(label="Education")
    release = (datetime.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    page.get_by_label(re.compile("^YouTube makes it public at")).fill(
        release.strftime("%Y-%m-%dT%H:%M")
    )
    # A release time needs a private upload: the checks say so until it is private.
    expect(page.locator(".check-error", has_text="private")).to_be_visible()
    page.get_by_label("Who can see it").select_option("private")
    expect(page.locator(".check-error", has_text="private")).to_have_count(0)
    clip = video_file(tmp_path / "talk.mp4", seconds=1.0)
    page.locator("input[type=file]").set_input_files(str(clip))
    expect(page.locator(".media-item")).to_have_count(1)
    # Uploaded and read (its thumbnail shows): only then is it part of what is saved.
    expect(page.locator(".media-item img.media-thumb")).to_have_count(1, timeout=60_000)
    screenshot(page, "compose-youtube")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Edit post")).to_be_visible()

    with httpx.Client(base_url=site.service.base_url) as api:
        login(api, site.username, site.password)
        [post] = api.get("/api/v1/posts").json()["items"]
    assert post["network"] == "youtube" and post["visibility"] == "private"
    assert post["youtube"]["tags"] == ["release engineering", "talks"]
    assert post["youtube"]["category_id"] == "27"
    # The release time is the browser's wall-clock time, as an instant.
    instant = page.evaluate("(t) => new Date(t).toISOString()", release.strftime("%Y-%m-%dT%H:%M"))
    assert datetime.fromisoformat(post["youtube"]["publish_at"]) == datetime.fromisoformat(instant)
    assert [m["filename"] for m in post["media"]] == ["talk.mp4"]
    # Opened again, the fields show what was saved; Mastodon's composer has none of them.
    expect(page.get_by_label(re.compile("^Tags"))).to_have_value("release engineering, talks")
    page.get_by_role("link", name="Compose").click()
    choose_account(page, "Mastodon")
    expect(page.locator("fieldset.youtube-fields")).to_be_hidden()
