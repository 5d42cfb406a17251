"""The API documentation as a developer meets it: /docs and /redoc in Chromium, with every
request outside the service refused, so the pages must work offline."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site
from tests.support.contract import spec
from tests.support.server import login

# The pages are the same whatever the database: one run, on SQLite.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def refuse_the_outside(page: Any, site: Site) -> list[str]:
    """Abort every request that leaves the service; returns the list of those tried."""
    tried: list[str] = []

    def handle(route: Any) -> None:
        if route.request.url.startswith(site.service.base_url):
            route.continue_()
        else:
            tried.append(route.request.url)
            route.abort()

    page.context.route("**/*", handle)
    return tried


def test_swagger_ui_lists_every_operation_and_tries_one_with_a_token(page: Any, site: Site) -> None:
    outside = refuse_the_outside(page, site)
    with httpx.Client(base_url=site.service.base_url) as api:
        login(api, site.username, site.password)
        token = api.headers["Authorization"].removeprefix("Bearer ")

    page.goto(site.service.base_url + "/docs")
    # An operation with two tags is listed under each; each shows its operation id.
    listed = sorted(
        operation["operationId"]
        for methods in spec()["paths"].values()
        for operation in methods.values()
        for _tag in operation["tags"]
    )
    shown = page.locator(".opblock-summary-operation-id")
    expect(shown).to_have_count(len(listed))
    assert sorted(shown.all_inner_texts()) == listed

    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input").fill(token)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()

    me = page.locator("#operations-auth-get_me")
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    expect(me.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    expect(me.locator(".live-responses-table .microlight").first).to_contain_text(site.username)
    assert outside == []


def test_redoc_shows_the_operations(browser: Any, site: Site) -> None:
    # Not the `page` fixture: ReDoc's footer shows a logo from its makers' CDN, which the
    # page's policy refuses (and Chromium reports); nothing else may be asked of the outside.
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    outside = refuse_the_outside(page, site)
    page.goto(site.service.base_url + "/redoc")
    expect(page.get_by_role("heading", name="Create Post").first).to_be_visible()
    expect(page.get_by_role("heading", name="List Publish Log").first).to_be_attached()
    context.close()
    assert errors == []
    assert [url for url in outside if "redoc" not in url] == []
