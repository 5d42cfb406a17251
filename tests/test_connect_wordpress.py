"""Connecting WordPress through the site's own "authorise application" page, on the real
WordPress: the person logs in there, approves (or refuses) Handpost, and WordPress sends the
browser back with an application password. The browser is plain HTTP following the forms."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.realservers.wordpress import WordPressServer
from tests.support.api import assert_problem
from tests.support.connect import TEST_PUBLIC_URL
from tests.support.live import FAST, attempts, publish_now, settled

pytestmark = pytest.mark.usefixtures("secret_key")

_INPUT = re.compile(r"<input\b[^>]*>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


def form_fields(page: str) -> dict[str, str]:
    """The named inputs of the page's form and their values, as a browser would send them."""
    fields = {}
    for tag in _INPUT.findall(page):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if "name" in attributes and attributes.get("type") in ("hidden", "text"):
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return fields


def handpost(make_client: AppFactory, **settings: Any) -> TestClient:
    return make_client(**{**FAST, "public_url": TEST_PUBLIC_URL, **settings})


def start(client: TestClient, site: str, **extra: Any) -> httpx.Response:
    body = {"network": "wordpress", "site": site, "purpose": "essays", "audience": "readers"}
    return client.post("/api/v1/connect/flows", json={**body, **extra})


class WordPressBrowser:
    """The person's browser at their WordPress: logged in, answering the approval form."""

    def __init__(self, server: WordPressServer) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)
        self.http.cookies.set("wordpress_test_cookie", "WP Cookie check")
        login = self.http.post(
            "/wp-login.php",
            data={"log": "admin", "pwd": server.admin_password, "testcookie": "1",
                  "redirect_to": "/wp-admin/"},
        )  # fmt: skip
        assert login.status_code == 302, login.text[:500]

    def answer(self, authorize_url: str, button: str) -> str:
        """Open the approval page, press ``button`` ("approve" or "reject"): where to next."""
        page = self.http.get(authorize_url)
        assert page.status_code == 200, page.text[:500]
        form = form_fields(page.text)
        assert form["action"] == "authorize_application_password"
        form[button] = "1"
        answered = self.http.post("/wp-admin/authorize-application.php", data=form)
        assert answered.status_code == 302, answered.text[:500]
        return answered.headers["location"]


@pytest.fixture
def browser(wordpress: WordPressServer) -> WordPressBrowser:
    return WordPressBrowser(wordpress)


def back_to_handpost(client: TestClient, location: str) -> httpx.Response:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == TEST_PUBLIC_URL
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def app_passwords(server: WordPressServer) -> list[str]:
    listed = server.api("GET", "/wp/v2/users/me/application-passwords").json()
    return [item["name"] for item in listed]


def test_approving_handpost_connects_the_blog_and_it_publishes(
    make_client: AppFactory, wordpress: WordPressServer, browser: WordPressBrowser
) -> None:
    client = handpost(make_client)
    started = start(client, f"{wordpress.url}/")
    assert started.status_code == 201, started.text
    authorize_url = started.json()["authorize_url"]
    assert authorize_url.startswith(f"{wordpress.url}/wp-admin/authorize-application.php?")

    location = browser.answer(authorize_url, "approve")
    assert "password=" in location and "state=" in location
    done = back_to_handpost(client, location)
    assert done.status_code == 303, done.text
    account_id = done.headers["location"].rsplit("connected=", 1)[1]

    account = client.get(f"/api/v1/accounts/{account_id}").json()
    assert account["network"] == "wordpress" and account["mode"] == "live"
    assert account["base_url"] == wordpress.url and account["has_credentials"]
    assert account["handle"] == f"admin@{urlsplit(wordpress.url).netloc}"
    name = parse_qs(urlsplit(authorize_url).query)["app_name"][0]
    assert name.startswith("Handpost (") and name in app_passwords(wordpress)

    post = publish_now(client, account_id, "Connected without pasting anything.",
                       title=f"Connected ({account_id[:6]})")  # fmt: skip
    final = settled(client, post["id"])
    assert final["state"] == "published", final["last_error"]
    assert attempts(client, post["id"])[0]["external_url"].startswith(wordpress.url)


def test_each_connection_asks_for_a_name_of_its_own_and_reconnects_the_same_account(
    make_client: AppFactory, wordpress: WordPressServer, browser: WordPressBrowser
) -> None:
    client = handpost(make_client)
    first = start(client, wordpress.url).json()
    second = start(client, wordpress.url).json()
    names = [parse_qs(urlsplit(f["authorize_url"]).query)["app_name"][0] for f in (first, second)]
    assert names[0] != names[1]
    for flow in (first, second):
        done = back_to_handpost(client, browser.answer(flow["authorize_url"], "approve"))
        assert done.status_code == 303, done.text
    assert set(names) <= set(app_passwords(wordpress))
    accounts = [a for a in client.get("/api/v1/accounts").json() if a["network"] == "wordpress"]
    assert len(accounts) == 1  # the same person on the same site: one account, reconnected


def test_refusing_on_wordpress_connects_nothing(
    make_client: AppFactory, wordpress: WordPressServer, browser: WordPressBrowser
) -> None:
    client = handpost(make_client)
    flow = start(client, wordpress.url).json()
    page = back_to_handpost(client, browser.answer(flow["authorize_url"], "reject"))
    assert page.status_code == 400 and "did not allow Handpost" in page.text
    assert client.get("/api/v1/accounts").json() == []


def test_an_answer_naming_another_site_or_replayed_is_refused(
    make_client: AppFactory, wordpress: WordPressServer, browser: WordPressBrowser
) -> None:
    client = handpost(make_client)
    flow = start(client, wordpress.url).json()
    location = browser.answer(flow["authorize_url"], "approve")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    forged = urlencode({**query, "site_url": "https://attacker.example"})
    page = client.get(f"/connect/wordpress/callback?{forged}", follow_redirects=False)
    assert page.status_code == 400 and "another site" in page.text
    replayed = back_to_handpost(client, location)  # the flow was used up by the forgery
    assert replayed.status_code == 400
    assert query["password"] not in page.text + replayed.text
    assert client.get("/api/v1/accounts").json() == []


def test_a_callback_from_another_browser_is_refused(
    make_client: AppFactory, wordpress: WordPressServer, browser: WordPressBrowser
) -> None:
    client = handpost(make_client)
    flow = start(client, wordpress.url).json()
    location = browser.answer(flow["authorize_url"], "approve")
    client.cookies.clear()
    page = back_to_handpost(client, location)
    assert page.status_code == 403 and "another browser" in page.text
    assert client.get("/api/v1/accounts").json() == []


def test_a_site_that_is_not_wordpress_or_not_allowed_is_refused_at_the_start(
    make_client: AppFactory, wordpress: WordPressServer
) -> None:
    private = handpost(make_client, outbound_allow_private=False)
    problem = assert_problem(start(private, wordpress.url), 422, "connect-refused")
    assert "loopback" in problem["detail"]
    client = handpost(make_client)
    not_wordpress = start(client, f"{wordpress.url}/no-such-blog")
    assert_problem(not_wordpress, 422, "connect-refused")
    for site in ("", "ftp://example.com", "https://user:pw@example.com"):
        assert_problem(start(client, site), 422, "validation-error")
