"""A YouTube post's own fields (tags, category, release time) under hostile input: every bad
value is a clear 422 naming the field, and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.support.api import create_account, create_post

SOON = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def _post(client: TestClient, account_id: str, **extra: Any) -> Any:
    body = {"title": "A talk", "visibility": "private", "scheduled_at": SOON.isoformat(), **extra}
    return create_post(client, account_id, "The talk, recorded.", **body)


@pytest.mark.parametrize(
    ("youtube", "field", "code"),
    [
        ({"tags": "release, delivery"}, "youtube.tags", None),
        ({"tags": ["fine", "bad\u0000tag"]}, "youtube.tags.1", None),
        ({"tags": ["line\nbreak"]}, "youtube.tags.0", None),
        ({"tags": ["a,b"]}, "youtube.tags[0]", "bad-tag"),
        ({"tags": ["<script>"]}, "youtube.tags[0]", "bad-tag"),
        ({"tags": [" padded"]}, "youtube.tags[0]", "bad-tag"),
        ({"tags": [""]}, "youtube.tags[0]", "bad-tag"),
        ({"tags": [f"tag number {n}" for n in range(40)]}, "youtube.tags", "tags-too-long"),
        ({"tags": ["x"] * 101}, "youtube.tags", None),
        ({"tags": [7]}, "youtube.tags.0", None),
        ({"category_id": "99"}, "youtube.category_id", "unknown-category"),
        ({"category_id": 22}, "youtube.category_id", None),
        ({"category_id": "22; DROP TABLE posts"}, "youtube.category_id", None),
        ({"publish_at": "2027-13-01T00:00:00Z"}, "youtube.publish_at", None),
        ({"publish_at": "2027-01-01T00:00:00"}, "youtube.publish_at", None),
        ({"publish_at": "2027-01-01T00:00:00+25:00"}, "youtube.publish_at", None),
        ({"publish_at": "9999-12-31T23:59:59Z"}, "youtube.publish_at", None),
        ({"publish_at": 1798761600}, "youtube.publish_at", None),
        ({"publish_at": True}, "youtube.publish_at", None),
        ({"made_for_kids": True}, "youtube.made_for_kids", None),
    ],
)
def test_bad_youtube_fields_are_refused_by_name(
    client: TestClient, youtube: dict[str, Any], field: str, code: str | None
) -> None:
    account = create_account(client, "youtube")
    response = _post(client, account["id"], youtube=youtube)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("validation-error")
    fields = [
        e.get("field") or ".".join(str(p) for p in e.get("loc", [])) for e in problem["errors"]
    ]
    assert any(f.startswith(field) or field in f for f in fields), problem["errors"]
    if code is not None:
        assert code in [e.get("code") for e in problem["errors"]]
    assert client.get("/api/v1/posts").json()["items"] == []


def test_a_release_time_needs_a_private_video_after_the_upload(client: TestClient) -> None:
    account = create_account(client, "youtube")
    public = _post(
        client,
        account["id"],
        visibility="public",
        youtube={"publish_at": (SOON + timedelta(days=1)).isoformat()},
    )
    assert public.status_code == 422
    assert public.json()["errors"][0]["code"] == "publish-at-needs-private"
    before = _post(client, account["id"], youtube={"publish_at": SOON.isoformat()})
    assert before.status_code == 422
    assert before.json()["errors"][0]["code"] == "publish-at-before-upload"
    # In a zone 14 hours ahead of UTC, one second after the upload is fine (kept in UTC).
    later = SOON + timedelta(seconds=1)
    fine = _post(
        client,
        account["id"],
        youtube={"publish_at": later.astimezone(ZoneInfo("Pacific/Kiritimati")).isoformat()},
    )
    assert fine.status_code == 201, fine.text
    assert datetime.fromisoformat(fine.json()["youtube"]["publish_at"]) == later
    assert len(client.get("/api/v1/posts").json()["items"]) == 1


def test_youtube_fields_belong_to_youtube_posts_only(client: TestClient) -> None:
    account = create_account(client, "mastodon")
    response = create_post(client, account["id"], "Hello fediverse.", youtube={"tags": ["a"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "not-youtube"


def test_youtube_fields_are_edited_and_cleared(client: TestClient) -> None:
    account = create_account(client, "youtube")
    created = _post(client, account["id"], youtube={"tags": ["talks"], "category_id": "27"})
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["youtube"]["tags"] == ["talks"] and post["youtube"]["category_id"] == "27"
    etag = client.get(f"/api/v1/posts/{post['id']}").headers["etag"]
    changed = client.patch(
        f"/api/v1/posts/{post['id']}",
        json={"youtube": {"tags": ["talks", "release trains"]}},
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["youtube"]["tags"] == ["talks", "release trains"]
    assert changed.json()["youtube"]["category_id"] is None
    cleared = client.patch(
        f"/api/v1/posts/{post['id']}",
        json={"youtube": None},
        headers={"If-Match": changed.headers["etag"]},
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["youtube"] is None


def test_the_guard_reads_a_video_title_like_any_text(client: TestClient) -> None:
    """A YouTube title that repeats another network's post, above a copied description, is
    the same post again."""
    mastodon = create_account(client, "mastodon")
    youtube = create_account(client, "youtube")
    text = "We ship every week now: the test suite got three times faster to keep up."
    assert create_post(client, mastodon["id"], text).status_code == 201
    copied = create_post(client, youtube["id"], text, title="We ship every week now")
    assert copied.status_code == 409, copied.text
    assert copied.json()["type"].endswith("cross-post")
