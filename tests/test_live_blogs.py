"""WordPress and Ghost, live, against the real servers (tests/realservers), not an emulator.

What is checked is read back from the blog itself: the post's title, its HTML, tags, excerpt
and status, and that its public page exists. An unclear send is made real by a proxy that
lets the create reach the blog and hangs up before the answer comes back.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.networks.ghost import admin_token
from tests.conftest import AppFactory
from tests.realservers._proxy import AnswerDroppingProxy
from tests.realservers.ghost import GhostServer
from tests.realservers.wordpress import WordPressServer
from tests.support.api import assert_problem, create_account
from tests.support.live import attempts, live_client, publish_now, settled
from tests.support.media import image_bytes, upload_ok

pytestmark = pytest.mark.usefixtures("secret_key")

TITLE = "Fish & chips <3: why I write at 5 a.m."
BODY = (
    "Writing *early* is how I keep my mornings.\n\n"
    "<script>alert('hi')</script>\n\n"
    "More in [my notes](https://example.org/notes)."
)


@dataclass
class Blog:
    """One real blog, and how to read a post back from it, as its own API shows it."""

    network: str
    url: str
    credentials: dict[str, str]
    create_path: str  # in the request line of the call that creates a post
    lookup_path: str  # in the request line of the call that looks for the marker
    read: Callable[[str], dict[str, Any]]
    posts_titled: Callable[[str], int]


def _wordpress(server: WordPressServer) -> Blog:
    def read(post_id: str) -> dict[str, Any]:
        post = server.api("GET", f"/wp/v2/posts/{post_id}", params={"context": "edit"}).json()
        ids = ",".join(str(i) for i in post["tags"])
        tags = server.api("GET", "/wp/v2/tags", params={"include": ids}).json() if ids else []
        image = {"source_url": None, "alt_text": None}
        if post["featured_media"]:
            image = server.api("GET", f"/wp/v2/media/{post['featured_media']}").json()
        return {
            "title": html.unescape(post["title"]["rendered"]),
            "html": post["content"]["rendered"],
            "excerpt": post["excerpt"]["raw"],
            "tags": {html.unescape(t["name"]) for t in tags},
            "status": post["status"],
            "url": post["link"],
            "image": image["source_url"],
            "image_alt": image["alt_text"],
        }

    def posts_titled(title: str) -> int:
        found = server.api("GET", "/wp/v2/posts", params={"search": title, "status": "publish"})
        return sum(1 for p in found.json() if html.unescape(p["title"]["rendered"]) == title)

    credentials = {"username": "admin", "application_password": server.app_password}
    return Blog("wordpress", server.url, credentials, "POST /wp-json/wp/v2/posts",
                "GET /wp-json/wp/v2/posts?search=", read, posts_titled)  # fmt: skip


def _ghost(server: GhostServer) -> Blog:
    def call(path: str, **params: str) -> Any:
        headers = {"Authorization": f"Ghost {admin_token(server.admin_key)}"}
        response = httpx.get(f"{server.admin_api}{path}", params=params, headers=headers)
        response.raise_for_status()
        return response.json()

    def read(post_id: str) -> dict[str, Any]:
        [post] = call(f"/posts/{post_id}/", formats="html", include="tags")["posts"]
        return {
            "title": post["title"],
            "html": post["html"],
            "excerpt": post["custom_excerpt"],
            "tags": {t["name"] for t in post["tags"]},
            "status": post["status"],
            "url": post["url"],
            "image": post["feature_image"],
            "image_alt": post["feature_image_alt"],
        }

    def posts_titled(title: str) -> int:
        posts = call("/posts/", limit="all", fields="title")["posts"]
        return sum(1 for p in posts if p["title"] == title)

    credentials = {"admin_api_key": server.admin_key}
    return Blog("ghost", server.url, credentials, "POST /ghost/api/admin/posts/",
                "GET /ghost/api/admin/posts/?filter=", read, posts_titled)  # fmt: skip


@pytest.fixture(params=["wordpress", "ghost"])
def blog(request: pytest.FixtureRequest) -> Blog:
    if request.param == "wordpress":
        return _wordpress(request.getfixturevalue("wordpress"))
    return _ghost(request.getfixturevalue("ghost"))


@pytest.fixture
def proxied(blog: Blog) -> Iterator[AnswerDroppingProxy]:
    proxy = AnswerDroppingProxy(int(blog.url.rsplit(":", 1)[1])).start()
    yield proxy
    proxy.stop()


def connect_blog(client: TestClient, blog: Blog, base_url: str | None = None) -> dict[str, Any]:
    return create_account(
        client,
        blog.network,
        f"my {blog.network} blog",
        mode="live",
        base_url=base_url or blog.url,
        credentials=blog.credentials,
    )


def test_a_post_is_published_with_its_title_html_tags_and_excerpt(
    make_client: AppFactory, blog: Blog
) -> None:
    client = live_client(make_client)
    account = connect_blog(client, blog)
    title = f"{TITLE} ({blog.network}, {account['id'][:6]})"
    photo = upload_ok(client, image_bytes("PNG", (120, 80)), filename="dawn.png",
                      alt_text="A window at dawn")  # fmt: skip
    post = publish_now(
        client,
        account["id"],
        BODY,
        title=title,
        excerpt="Why mornings, in one line.",
        tags=["Writing", "Mornings"],
        media=[{"media_id": photo["id"]}],
    )
    final = settled(client, post["id"])
    assert final["state"] == "published", final["last_error"]

    seen = blog.read(final["external_id"])
    assert seen["title"] == title
    assert "<em>early</em>" in seen["html"]
    assert 'href="https://example.org/notes"' in seen["html"]
    # Raw HTML in the Markdown reaches the blog as text, never as a script.
    assert "<script>" not in seen["html"] and "&lt;script&gt;" in seen["html"]
    assert seen["tags"] == {"Writing", "Mornings"}
    assert seen["excerpt"] == "Why mornings, in one line."
    # Published now by Handpost, not handed to the blog's own scheduler.
    assert seen["status"] in ("publish", "published")
    assert final["external_url"] == seen["url"]
    [entry] = attempts(client, post["id"])
    assert entry["outcome"] == "published" and entry["external_url"] == seen["url"]
    assert httpx.get(seen["url"], timeout=30).status_code == 200  # the public page exists
    # The featured image: the post's attached image, uploaded to the blog with its alt text.
    assert seen["image_alt"] == "A window at dawn"
    served = httpx.get(seen["image"], timeout=30)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"


def test_an_answer_lost_after_sending_is_found_on_the_blog_not_sent_twice(
    make_client: AppFactory, blog: Blog, proxied: AnswerDroppingProxy
) -> None:
    client = live_client(make_client)
    account = connect_blog(client, blog, base_url=proxied.url)
    proxied.drop_answer_to(blog.create_path)
    title = f"Sent once, though unanswered ({blog.network}, {account['id'][:6]})"

    post = publish_now(client, account["id"], "The blog got this; Handpost never heard.",
                       title=title)  # fmt: skip
    final = settled(client, post["id"])

    assert len(proxied.dropped) == 1  # the create reached the blog and its answer was lost
    assert final["state"] == "published", final["last_error"]
    assert blog.posts_titled(title) == 1
    assert blog.read(final["external_id"])["title"] == title
    [entry] = attempts(client, post["id"])
    assert "found by its marker" in entry["message"]


def test_when_even_the_lookup_fails_the_next_attempt_looks_before_sending(
    make_client: AppFactory, blog: Blog, proxied: AnswerDroppingProxy
) -> None:
    client = live_client(make_client)
    account = connect_blog(client, blog, base_url=proxied.url)
    proxied.drop_answer_to(blog.create_path)
    proxied.drop_answer_to(blog.lookup_path)
    title = f"Looked up on the next attempt ({blog.network}, {account['id'][:6]})"

    post = publish_now(client, account["id"], "Two answers lost, one post made.", title=title)
    final = settled(client, post["id"])

    assert len(proxied.dropped) == 2
    assert final["state"] == "published", final["last_error"]
    assert blog.posts_titled(title) == 1
    log = attempts(client, post["id"])
    assert [entry["outcome"] for entry in log] == ["retrying", "published"]
    assert "looks for it again before sending" in log[0]["message"]
    assert "found by its marker" in log[1]["message"]


def add_live_blog(client: TestClient, blog: Blog, credentials: dict[str, str]) -> Any:
    """``POST /accounts`` for the blog with these credentials, answered as it may be."""
    return client.post(
        "/api/v1/accounts",
        json={"network": blog.network, "handle": "my blog", "purpose": "essays",
              "audience": "readers", "mode": "live", "base_url": blog.url,
              "credentials": credentials},
    )  # fmt: skip


def test_wrong_credentials_are_refused_before_anything_is_saved(
    make_client: AppFactory, blog: Blog
) -> None:
    client = live_client(make_client)
    wrong = (
        {"username": "admin", "application_password": "abcd efgh ijkl mnop qrst uvwx"}
        if blog.network == "wordpress"
        else {"admin_api_key": blog.credentials["admin_api_key"].split(":")[0] + ":" + "ab" * 32}
    )
    response = add_live_blog(client, blog, wrong)
    problem = assert_problem(response, 422, "validation-error")
    assert "refused" in problem["detail"] and "Nothing was saved" in problem["detail"]
    assert problem["errors"][0]["field"] == "credentials"
    assert wrong[next(iter(wrong.keys() - {"username"}))] not in response.text
    assert client.get("/api/v1/accounts").json() == []


def test_a_blog_on_a_private_address_is_refused_by_default(
    make_client: AppFactory, blog: Blog
) -> None:
    client = live_client(make_client, outbound_allow_private=False)  # the gate as shipped
    response = add_live_blog(client, blog, blog.credentials)
    problem = assert_problem(response, 422, "validation-error")
    assert "loopback" in problem["detail"]
    assert client.get("/api/v1/accounts").json() == []


def test_a_revoked_application_password_asks_for_reconnection(
    make_client: AppFactory, wordpress: WordPressServer
) -> None:
    client = live_client(make_client)
    made = wordpress.api(
        "POST", "/wp/v2/users/me/application-passwords", json={"name": "revoked-later"}
    ).json()
    blog = _wordpress(wordpress)
    blog.credentials = {"username": "admin", "application_password": made["password"]}
    account = connect_blog(client, blog)
    wordpress.api("DELETE", f"/wp/v2/users/me/application-passwords/{made['uuid']}")

    post = publish_now(client, account["id"], "Too late: access was revoked.", title="Revoked")
    final = settled(client, post["id"])
    assert final["state"] == "failed"
    assert "WordPress refused the user name or application password" in final["last_error"]
    assert made["password"] not in final["last_error"]
    assert client.get(f"/api/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"
