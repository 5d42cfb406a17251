"""POST /posts/preview: the composer's dry run, with the server's own rules, writing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.support.api import assert_problem, create_account, create_post, in_seconds

ORIGINAL = "Weekly releases are here: sync is now twice as fast for everyone. https://ex.com/r"
TAILORED = (
    "Colleagues: we halved sync time this quarter by batching writes. "
    "What would your team do with the minutes saved? https://ex.com/r"
)


def preview(client: TestClient, account_id: str, text: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/posts/preview", json={"account_id": account_id, "text": text, **extra}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def accounts(client: TestClient) -> dict[str, dict[str, Any]]:
    return {n: create_account(client, n) for n in ("mastodon", "linkedin", "x", "youtube")}


def test_counts_as_the_network_does_and_agrees_with_the_stored_post(
    client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    x = accounts["x"]["id"]
    text = "Ship it 🚀 https://example.com/a/very/long/path/that/x/shortens/anyway"
    result = preview(client, x, text)
    # "Ship it " (8) + the emoji (2) + " " (1) + any URL (23): X's weighting, not len().
    assert (result["text_length"], result["text_limit"]) == (34, 280)
    created = create_post(client, x, text).json()
    assert created["text_length"] == result["text_length"]
    # YouTube counts UTF-8 bytes, and the link travels at the end of the description.
    youtube = preview(client, accounts["youtube"]["id"], "Käy", title="T", link="https://e.x/v")
    assert youtube["text_length"] == len("Käy\n\nhttps://e.x/v".encode())


def test_reports_every_rule_the_post_breaks_without_refusing(
    client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    result = preview(client, accounts["x"]["id"], "é" * 300, link="not a link")
    codes = {(v["field"], v["code"]) for v in result["violations"]}
    assert codes == {("text", "text-too-long"), ("link", "invalid-link")}
    too_long = next(v for v in result["violations"] if v["code"] == "text-too-long")
    assert "Shorten it by" in too_long["message"]

    youtube = preview(client, accounts["youtube"]["id"], "A talk", visibility="connections")
    assert {v["code"] for v in youtube["violations"]} == {
        "title-required",
        "unsupported-visibility",
    }
    assert preview(client, accounts["mastodon"]["id"], "   ")["violations"][0]["code"] == (
        "text-required"
    )


def test_gives_the_same_advice_as_a_saved_post(
    client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    linkedin = accounts["linkedin"]["id"]
    bare = preview(client, linkedin, TAILORED)
    assert [w["code"] for w in bare["warnings"]] == ["no-goal", "no-call-to-action"]
    assert bare["violations"] == [] and bare["cross_post"] is None
    complete = preview(
        client, linkedin, TAILORED, goal="personal brand", call_to_action="Reply below"
    )
    assert complete["warnings"] == []


def test_names_the_post_on_another_network_that_the_text_repeats(
    client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    earlier = create_post(
        client, accounts["mastodon"]["id"], ORIGINAL, scheduled_at=in_seconds(3600)
    ).json()
    copy = "WEEKLY releases are here 🎉 sync is now twice as fast for everyone #dev"
    result = preview(client, accounts["linkedin"]["id"], copy)
    cross = result["cross_post"]
    assert cross["conflicting_post"] == {
        "id": earlier["id"],
        "account_id": accounts["mastodon"]["id"],
        "network": "mastodon",
        "state": "scheduled",
        "text": ORIGINAL,
    }
    assert cross["similarity"] >= cross["threshold"] == 0.9
    assert "Mastodon" in cross["detail"]
    # It says exactly what creating the post would refuse with.
    problem = assert_problem(
        create_post(client, accounts["linkedin"]["id"], copy, scheduled_at=in_seconds(3600)),
        409,
        "cross-post",
    )
    assert {k: problem[k] for k in ("conflicting_post", "similarity", "threshold")} == {
        k: cross[k] for k in ("conflicting_post", "similarity", "threshold")
    }
    # The same text on the same account, and a rewritten version, are not cross-posts.
    assert preview(client, accounts["mastodon"]["id"], copy)["cross_post"] is None
    assert preview(client, accounts["linkedin"]["id"], TAILORED)["cross_post"] is None


def test_a_copy_still_like_its_source_is_reported_before_it_is_scheduled(
    client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    source = create_post(client, accounts["mastodon"]["id"], ORIGINAL).json()
    draft = client.post(
        f"/api/v1/posts/{source['id']}/copy", json={"account_id": accounts["linkedin"]["id"]}
    ).json()
    result = preview(client, accounts["linkedin"]["id"], draft["text"])
    assert result["cross_post"]["conflicting_post"]["id"] == source["id"]
    client.post(f"/api/v1/posts/{source['id']}/cancel")
    assert preview(client, accounts["linkedin"]["id"], draft["text"])["cross_post"] is None


def test_writes_nothing(client: TestClient, accounts: dict[str, dict[str, Any]]) -> None:
    create_post(client, accounts["mastodon"]["id"], ORIGINAL)
    before = client.get("/api/v1/posts").json()["items"]
    for text in (ORIGINAL, TAILORED, ""):
        preview(client, accounts["linkedin"]["id"], text, goal="brand")
    assert client.get("/api/v1/posts").json()["items"] == before


def test_bad_requests_are_problems(client: TestClient, accounts: dict[str, dict[str, Any]]) -> None:
    url = "/api/v1/posts/preview"
    missing = client.post(url, json={"account_id": "nope", "text": "Hello"})
    assert "nope" in assert_problem(missing, 404, "not-found")["detail"]
    # It previews content only: a schedule belongs to POST /posts.
    scheduled = client.post(
        url,
        json={"account_id": accounts["x"]["id"], "text": "Hi", "scheduled_at": in_seconds(60)},
    )
    problem = assert_problem(scheduled, 422, "validation-error")
    assert problem["errors"][0]["field"] == "scheduled_at"
    assert_problem(client.post(url, json={"text": "Hi"}), 422, "validation-error")


def test_only_the_callers_own_posts_count(
    make_client: AppFactory, client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    create_post(client, accounts["mastodon"]["id"], ORIGINAL)
    other = make_client(dispatch=False, as_user="bob")
    bobs = create_account(other, "linkedin", "bob-li")
    # Another user's words are not this user's cross-post, and their accounts are not found.
    assert preview(other, bobs["id"], ORIGINAL)["cross_post"] is None
    missing = other.post(
        "/api/v1/posts/preview", json={"account_id": accounts["linkedin"]["id"], "text": "Hi"}
    )
    assert_problem(missing, 404, "not-found")
    anonymous = make_client(dispatch=False, as_user=None)
    response = anonymous.post(
        "/api/v1/posts/preview", json={"account_id": bobs["id"], "text": "Hi"}
    )
    assert_problem(response, 401, "unauthenticated")


def test_preview_reports_bare_shares_and_unknown_goals_while_typing(client: TestClient) -> None:
    account = create_account(client, "mastodon", "previewer")
    client.post("/api/v1/strategy/goals", json={"name": "Build relationships"})
    body = {
        "account_id": account["id"],
        "text": "👍",
        "shares_url": "https://example.com/someone/post/1",
        "goal": "Fame",
    }
    preview = client.post("/api/v1/posts/preview", json=body).json()
    codes = {v["code"] for v in preview["violations"]}
    assert {"bare-share", "unknown-goal"} <= codes
    assert client.get("/api/v1/posts").json()["items"] == []


def test_says_where_each_network_makes_links_mentions_and_tags(client: TestClient) -> None:
    text = (
        "Hi @bob.bsky.social! Pluto: en.wikipedia.org/wiki/Pluto_(planet). #space https://example"
    )

    def found(network: str, handle: str, **extra: Any) -> list[tuple[str, str, str]]:
        account = create_account(client, network, handle)
        result = preview(client, account["id"], text, **extra)
        sent = result["sent_text"]
        assert all(sent[e["start"] : e["end"]] == e["text"] for e in result["entities"])
        return [(e["kind"], e["text"], e["value"]) for e in result["entities"]]

    wikipedia = "en.wikipedia.org/wiki/Pluto_(planet)"
    assert found("bluesky", "me.bsky.social") == [
        ("mention", "@bob.bsky.social", "bob.bsky.social"),
        ("link", wikipedia, f"https://{wikipedia}"),
        ("tag", "#space", "space"),
        # Bluesky links anything after a scheme, known domain or not.
        ("link", "https://example", "https://example"),
    ]
    # X links bare domains too, and only what twitter-text takes for a URL; its screen names
    # stop at the dot.
    assert found("x", "me") == [
        ("mention", "@bob", "bob"),
        ("link", wikipedia, f"https://{wikipedia}"),
        ("tag", "#space", "space"),
    ]
    # Mastodon links only what has a scheme; the link field travels at the end of the text.
    assert found("mastodon", "me", link="https://example.org/more") == [
        ("mention", "@bob.bsky.social", "bob.bsky.social"),
        ("link", "https://example.org/more", "https://example.org/more"),
    ]
