"""Attaching media in the composer, in Chromium against the real service: pick files, see
the upload resume after a dropped connection, thumbnails, alt text, order, limits."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot
from tests.browser.test_ui import log_in
from tests.support.api import create_account
from tests.support.media import image_bytes
from tests.support.server import login

# Media links are signed with a key derived from HANDPOST_SECRET_KEY (required on PostgreSQL).
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("secret_key")]


def test_attach_describe_reorder_and_save_media(page: Any, site: Site) -> None:
    with httpx.Client(base_url=site.service.base_url) as api:
        login(api, site.username, site.password)
        create_account(api, "bluesky", "ada.example")
    log_in(page, site)
    # The first PATCH is cut off: the page asks the server where it stands and resumes.
    cut = {"done": False}

    def drop_first_patch(route: Any) -> None:
        if route.request.method == "PATCH" and not cut["done"]:
            cut["done"] = True
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/media/uploads/.*"), drop_first_patch)
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_text(re.compile(r"Bluesky takes up to 4 images"))).to_be_visible()
    page.get_by_label(re.compile("^Text for Bluesky")).fill(
        "Two views of the harbour this morning, fog lifting over the water."
    )
    page.locator("input[type=file]").set_input_files(
        [
            {
                "name": "fog.jpg",
                "mimeType": "image/jpeg",
                "buffer": image_bytes("JPEG", (400, 300)),
            },
            {"name": "sun.png", "mimeType": "image/png", "buffer": image_bytes("PNG", (300, 300))},
        ]
    )
    items = page.locator(".media-item")
    expect(items).to_have_count(2)
    expect(items.locator("img.media-thumb")).to_have_count(2)
    assert cut["done"]
    # Alt text is required: the checks say so, naming the file, until it is written.
    expect(page.locator(".check-error li", has_text="fog.jpg")).to_be_visible()
    page.get_by_label("Alt text for fog.jpg").fill("Fog over the harbour")
    page.get_by_label("Alt text for sun.png").fill("The sun breaking through")
    expect(page.locator(".check-error")).to_have_count(0)
    page.get_by_role("button", name="Move sun.png up").click()
    expect(items.first).to_contain_text("sun.png")
    screenshot(page, "compose-media")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Edit post")).to_be_visible()

    with httpx.Client(base_url=site.service.base_url) as api:
        login(api, site.username, site.password)
        post = api.get("/api/v1/posts").json()["items"][0]
    assert [(m["filename"], m["alt_text"]) for m in post["media"]] == [
        ("sun.png", "The sun breaking through"),
        ("fog.jpg", "Fog over the harbour"),
    ]
    # Removing one and saving again.
    page.get_by_role("button", name="Remove fog.jpg").click()
    expect(items).to_have_count(1)
    page.get_by_role("button", name="Save draft").click()
    with httpx.Client(base_url=site.service.base_url) as api:
        login(api, site.username, site.password)
        post = api.get(f"/api/v1/posts/{post['id']}").json()
    assert [m["filename"] for m in post["media"]] == ["sun.png"]
