"""Blog posts (WordPress, Ghost) through the API, without a blog: fields, refusals, the
guard, the sandbox record, the Markdown and the Ghost token. tests/test_live_blogs.py
publishes to the real servers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.networks._blog import render_html
from service.networks.ghost import MalformedKey, admin_token
from tests.conftest import AppFactory
from tests.support.api import assert_problem, create_account, create_post
from tests.support.live import attempts, settled
from tests.support.media import image_bytes, upload_ok

SITE = "https://blog.example.com"
ESSAY = (
    "Every morning at five I write for an hour before anyone else is awake. The house is "
    "quiet, the phone is off, and the ideas that were too shy during the day come out. "
    "Over a year this added up to forty essays, and most of them started as a single "
    "sentence scribbled the evening before. Scheduling lets them reach readers at noon."
)


def blog_account(client: TestClient, network: str = "wordpress", **extra: Any) -> dict[str, Any]:
    return create_account(client, network, f"my {network} blog", base_url=SITE, **extra)


def test_a_blog_account_needs_its_site_address(client: TestClient) -> None:
    for network in ("wordpress", "ghost"):
        response = client.post(
            "/api/v1/accounts",
            json={"network": network, "handle": "b", "purpose": "p", "audience": "a"},
        )
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["field"] == "base_url"
    assert client.get("/api/v1/accounts").json() == []


def test_a_blog_post_keeps_its_title_excerpt_and_tags(client: TestClient) -> None:
    account = blog_account(client)
    response = create_post(
        client,
        account["id"],
        ESSAY,
        title="Why I write at five",
        excerpt="Mornings, explained.",
        tags=["Writing", "Habits"],
    )
    assert response.status_code == 201, response.text
    post = response.json()
    assert (post["title"], post["excerpt"], post["tags"]) == (
        "Why I write at five",
        "Mornings, explained.",
        ["Writing", "Habits"],
    )
    changed = client.patch(
        f"/api/v1/posts/{post['id']}", json={"tags": None}, headers={"If-Match": '"1"'}
    ).json()
    assert changed["tags"] == [] and changed["excerpt"] == "Mornings, explained."


@pytest.mark.parametrize(
    ("network", "fields", "field", "code"),
    [
        ("wordpress", {}, "title", "title-required"),
        ("wordpress", {"title": "T", "link": "https://example.org/"}, "link", "link-in-body"),
        ("ghost", {"title": "T", "excerpt": "x" * 301}, "excerpt", "excerpt-too-long"),
        ("ghost", {"title": "x" * 256}, "title", "title-too-long"),
        ("wordpress", {"title": "T", "tags": ["a,b"]}, "tags", "invalid-tag"),
    ],
)
def test_a_blog_post_that_does_not_fit_is_refused(
    client: TestClient, network: str, fields: dict[str, Any], field: str, code: str
) -> None:
    account = blog_account(client, network)
    problem = assert_problem(create_post(client, account["id"], ESSAY, **fields), 422,
                             "validation-error")  # fmt: skip
    assert (field, code) in [(e["field"], e["code"]) for e in problem["errors"]]


@pytest.mark.parametrize(
    "fields",
    [
        {"tags": "Writing"},  # not a list
        {"tags": [1, 2]},
        {"tags": ["ok"] * 21},
        {"tags": ["bad\u0000tag"]},
        {"tags": [""]},
        {"excerpt": 5},
        {"media": [{"media_id": ["x"]}]},
    ],
)
def test_hostile_blog_fields_are_refused(client: TestClient, fields: dict[str, Any]) -> None:
    account = blog_account(client)
    response = create_post(client, account["id"], ESSAY, title="T", **fields)
    assert_problem(response, 422, "validation-error")
    assert client.get("/api/v1/posts").json()["items"] == []


def test_blog_fields_are_refused_on_other_networks(client: TestClient) -> None:
    account = create_account(client, "mastodon")
    response = create_post(client, account["id"], "A toot.", excerpt="x", tags=["t"])
    problem = assert_problem(response, 422, "validation-error")
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("excerpt", "blog-only"),
        ("tags", "blog-only"),
    }


def test_the_guard_compares_a_blog_post_with_other_posts(client: TestClient) -> None:
    blog = blog_account(client)
    mastodon = create_account(client, "mastodon")
    post = create_post(client, blog["id"], ESSAY, title="Why I write at five").json()

    copied = create_post(client, mastodon["id"], ESSAY[:480])
    problem = assert_problem(copied, 409, "cross-post")
    assert problem["conflicting_post"]["id"] == post["id"]

    pointer = create_post(
        client,
        mastodon["id"],
        "New essay on my blog: why I write at five, and what an hour before dawn gave me. "
        "https://blog.example.com/2026/12/why-i-write-at-five/",
    )
    assert pointer.status_code == 201, pointer.text


def test_a_blog_post_repeating_a_social_post_with_a_title_is_refused(
    client: TestClient,
) -> None:
    mastodon = create_account(client, "mastodon")
    blog = blog_account(client, "ghost")
    earlier = create_post(client, mastodon["id"], ESSAY[:480]).json()
    copied = create_post(client, blog["id"], ESSAY[:480], title="Mornings")
    assert assert_problem(copied, 409, "cross-post")["conflicting_post"]["id"] == earlier["id"]


def test_a_sandbox_blog_post_records_the_html_and_its_marker(make_client: AppFactory) -> None:
    client = make_client(retry_base_seconds=0.05, poll_seconds=0.1)
    account = blog_account(client)
    post = create_post(
        client,
        account["id"],
        "Hello *there* <b>bold?</b>",
        title="Fish & chips",
        tags=["Food"],
        publish_now=True,
    ).json()
    assert settled(client, post["id"])["state"] == "published"
    [entry] = attempts(client, post["id"])
    body = entry["request"]["json"]
    assert entry["request"]["url"] == f"{SITE}/wp-json/wp/v2/posts"
    assert body["title"] == "Fish &amp; chips" and body["status"] == "publish"
    assert body["content"].startswith("<p>Hello <em>there</em> &lt;b&gt;bold?&lt;/b&gt;</p>")
    assert "<!-- handpost:" in body["content"]
    assert body["tags"] == ["<id of tag 'Food'>"]
    assert entry["request"]["headers"]["Authorization"] == "Basic <redacted>"


def test_markdown_is_rendered_and_raw_html_escaped() -> None:
    rendered = render_html(
        "# Head\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ "
        "[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<h1>Head</h1>" in rendered and "<table>" in rendered and "<s>old</s>" in rendered
    assert "javascript:" not in rendered.replace("[x](javascript:alert(1))", "")
    assert "<img" not in rendered and "&lt;img src=x onerror=alert(1)&gt;" in rendered


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_the_ghost_token_is_what_ghost_checks() -> None:
    secret = "ab" * 32
    token = admin_token(f"key-id:{secret}", now=1_800_000_000)
    header, payload, signature = token.split(".")
    assert json.loads(_b64decode(header)) == {"alg": "HS256", "typ": "JWT", "kid": "key-id"}
    assert json.loads(_b64decode(payload)) == {
        "iat": 1_800_000_000,
        "exp": 1_800_000_300,
        "aud": "/admin/",
    }
    expected = hmac.new(bytes.fromhex(secret), f"{header}.{payload}".encode(), hashlib.sha256)
    assert _b64decode(signature) == expected.digest()
    for malformed in ("no-colon", "id:not-hex", ":abab", "id:"):
        with pytest.raises(MalformedKey):
            admin_token(malformed)


def test_a_blog_post_takes_one_image_its_featured_image(make_client: AppFactory) -> None:
    client = make_client(retry_base_seconds=0.05, poll_seconds=0.1)
    account = blog_account(client, "ghost")
    first = upload_ok(client, image_bytes(), filename="one.jpg", alt_text="One")
    second = upload_ok(client, image_bytes(color=(0, 0, 200)), filename="two.jpg")
    both = [{"media_id": first["id"]}, {"media_id": second["id"]}]
    refused = create_post(client, account["id"], ESSAY, title="T", media=both)
    assert "media" in {
        e["field"] for e in assert_problem(refused, 422, "validation-error")["errors"]
    }

    post = create_post(client, account["id"], ESSAY, title="T", media=both[:1], publish_now=True)
    assert settled(client, post.json()["id"])["state"] == "published"
    [entry] = attempts(client, post.json()["id"])
    sent = entry["request"]["json"]["posts"][0]
    assert sent["feature_image"] == "<URL of uploaded 'one.jpg'>"
    assert sent["feature_image_alt"] == "One"


def test_a_copy_to_another_network_leaves_the_blog_fields_behind(client: TestClient) -> None:
    blog = blog_account(client)
    mastodon = create_account(client, "mastodon")
    post = create_post(
        client, blog["id"], ESSAY[:400], title="Mornings", excerpt="Why.", tags=["Writing"]
    ).json()
    copy = client.post(f"/api/v1/posts/{post['id']}/copy", json={"account_id": mastodon["id"]})
    assert copy.status_code == 201, copy.text
    draft = copy.json()
    assert (draft["title"], draft["excerpt"], draft["tags"]) == (None, None, [])
    assert draft["needs_tailoring"] is True
