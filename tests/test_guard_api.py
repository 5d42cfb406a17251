"""The cross-post guard as a user meets it: through the API and at publish time."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.db import Database
from service.posts.models import Post
from tests.conftest import AppFactory
from tests.support.api import (
    assert_problem,
    create_account,
    create_post,
    in_seconds,
    post_state,
    wait_for,
)

ORIGINAL = (
    "Tänään julkaisimme uuden version: synkronointi on kaksi kertaa nopeampi! https://ex.com/r"
)
TAILORED = (
    "Colleagues: we halved sync time this quarter by batching writes. "
    "What would your team do with the minutes saved? https://ex.com/r"
)


@pytest.fixture
def accounts(client: TestClient) -> tuple[dict, dict]:
    return create_account(client, "mastodon"), create_account(client, "linkedin")


def test_an_unchanged_copy_on_another_network_is_refused(client: TestClient, accounts) -> None:
    mastodon, linkedin = accounts
    first = create_post(client, mastodon["id"], ORIGINAL, scheduled_at=in_seconds(3600)).json()
    trivially_changed = (
        "TÄNÄÄN julkaisimme uuden version 🚀 synkronointi on kaksi kertaa nopeampi #release "
        "https://other.example/x"
    )
    response = create_post(client, linkedin["id"], trivially_changed, scheduled_at=in_seconds(3600))
    problem = assert_problem(response, 409, "cross-post")
    assert problem["conflicting_post"]["id"] == first["id"]
    assert problem["conflicting_post"]["network"] == "mastodon"
    assert problem["similarity"] >= problem["threshold"] == 0.9
    assert "Mastodon" in problem["detail"]
    assert len(client.get("/api/v1/posts").json()["items"]) == 1


def test_a_tailored_version_sharing_the_link_passes(client: TestClient, accounts) -> None:
    mastodon, linkedin = accounts
    create_post(client, mastodon["id"], ORIGINAL, scheduled_at=in_seconds(3600))
    response = create_post(client, linkedin["id"], TAILORED, scheduled_at=in_seconds(3600))
    assert response.status_code == 201, response.text


def test_editing_a_post_into_a_copy_is_refused(client: TestClient, accounts) -> None:
    mastodon, linkedin = accounts
    create_post(client, mastodon["id"], ORIGINAL)
    created = create_post(client, linkedin["id"], TAILORED)
    url = f"/api/v1/posts/{created.json()['id']}"
    response = client.patch(
        url, json={"text": ORIGINAL.upper()}, headers={"If-Match": created.headers["etag"]}
    )
    assert_problem(response, 409, "cross-post")
    assert client.get(url).json()["text"] == TAILORED


def test_the_same_text_on_the_same_account_is_not_a_cross_post(
    client: TestClient, accounts
) -> None:
    mastodon, _ = accounts
    create_post(client, mastodon["id"], ORIGINAL)
    assert create_post(client, mastodon["id"], ORIGINAL).status_code == 201


def test_cancelled_posts_do_not_block(client: TestClient, accounts) -> None:
    mastodon, linkedin = accounts
    first = create_post(client, mastodon["id"], ORIGINAL).json()
    client.post(f"/api/v1/posts/{first['id']}/cancel")
    assert create_post(client, linkedin["id"], ORIGINAL).status_code == 201


def test_a_copy_is_a_draft_that_must_be_tailored_before_scheduling(
    client: TestClient, accounts
) -> None:
    mastodon, linkedin = accounts
    source = create_post(client, mastodon["id"], ORIGINAL, scheduled_at=in_seconds(3600)).json()
    copied = client.post(f"/api/v1/posts/{source['id']}/copy", json={"account_id": linkedin["id"]})
    assert copied.status_code == 201
    draft = copied.json()
    assert draft["state"] == "draft"
    assert draft["needs_tailoring"] is True
    assert draft["copied_from_id"] == source["id"]
    assert "needs-tailoring" in {w["code"] for w in draft["warnings"]}
    url = f"/api/v1/posts/{draft['id']}"

    refused = client.post(f"{url}/schedule", json={"scheduled_at": in_seconds(3600)})
    assert assert_problem(refused, 409, "cross-post")["conflicting_post"]["id"] == source["id"]
    assert post_state(client, draft["id"]) == "draft"

    # A small edit keeps it a draft that still needs tailoring...
    etag = client.get(url).headers["etag"]
    nudged = client.patch(url, json={"text": ORIGINAL + "!"}, headers={"If-Match": etag})
    assert nudged.status_code == 200
    assert nudged.json()["needs_tailoring"] is True
    # ...a real rewrite is free to go.
    rewritten = client.patch(
        url, json={"text": TAILORED}, headers={"If-Match": nudged.headers["etag"]}
    )
    assert rewritten.json()["needs_tailoring"] is False
    scheduled = client.post(f"{url}/schedule", json={"scheduled_at": in_seconds(3600)})
    assert scheduled.status_code == 200
    assert scheduled.json()["state"] == "scheduled"


def test_copy_to_the_same_account_is_refused(client: TestClient, accounts) -> None:
    mastodon, _ = accounts
    source = create_post(client, mastodon["id"], ORIGINAL).json()
    response = client.post(
        f"/api/v1/posts/{source['id']}/copy", json={"account_id": mastodon["id"]}
    )
    assert_problem(response, 409, "same-account")


def test_the_threshold_is_configurable(make_client: AppFactory) -> None:
    strict = make_client(dispatch=False, guard_threshold=0.5)
    mastodon, linkedin = create_account(strict, "mastodon"), create_account(strict, "linkedin")
    create_post(strict, mastodon["id"], "We moved the office to Tampere this spring, come visit")
    response = create_post(
        strict, linkedin["id"], "We moved our office to Tampere in the spring; do visit us"
    )
    assert assert_problem(response, 409, "cross-post")["threshold"] == 0.5


def test_the_guard_runs_again_at_publish_time(make_client: AppFactory, database: Database) -> None:
    """Looser limits let two near-copies in; the stricter ones refuse the second at publish."""
    # The second text is the first with a line added: every measure must be loosened.
    loose = make_client(
        dispatch=False, guard_threshold=1.0, guard_copied_share=1.0, guard_line_added_share=1.0
    )
    mastodon, linkedin = create_account(loose, "mastodon"), create_account(loose, "linkedin")
    first = create_post(loose, mastodon["id"], ORIGINAL, publish_now=True).json()
    second = create_post(
        loose, linkedin["id"], ORIGINAL + " Nähdään!", scheduled_at=in_seconds(1)
    ).json()

    strict = make_client(dispatch=True)
    wait_for(lambda: post_state(strict, second["id"]) == "failed")
    assert post_state(strict, first["id"]) == "published"
    log = strict.get("/api/v1/publish-log", params={"post_id": second["id"]}).json()["items"]
    assert log[0]["outcome"] == "failed"
    assert "cross-post guard" in log[0]["message"]
    assert first["id"] in log[0]["message"]
    with database.session() as session:
        stored = session.exec(select(Post).where(Post.id == second["id"])).one()
        assert stored.external_id is None
