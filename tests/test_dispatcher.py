"""Publishing as the user sees it: on time, once, recorded, and honest about missed posts."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import func, select

from service.db import Database
from service.posts.models import Post, PostState
from service.publishing.models import PublishAttempt
from tests.conftest import AppFactory
from tests.support.api import (
    assert_problem,
    create_account,
    create_post,
    distinct_text,
    in_seconds,
    post_state,
    wait_for,
)
from tests.support.rows import insert_post


def test_due_posts_are_published_and_logged(make_client: AppFactory) -> None:
    client = make_client()
    mastodon = create_account(client, "mastodon", base_url="https://fosstodon.org")
    post = create_post(
        client,
        mastodon["id"],
        "Release notes, written for humans.",
        scheduled_at=in_seconds(1),
        visibility="unlisted",
    ).json()
    published = wait_for(
        lambda: (
            (p := client.get(f"/api/v1/posts/{post['id']}").json())["state"] == "published" and p
        )
    )
    assert published["external_url"].startswith("https://fosstodon.org/@me-mastodon/")
    assert published["published_at"] is not None

    [attempt] = client.get(f"/api/v1/posts/{post['id']}/attempts").json()["items"]
    assert attempt["outcome"] == "published"
    assert attempt["external_url"] == published["external_url"]
    assert attempt["due_at"] == published["scheduled_at"]
    assert attempt["lateness_ms"] >= 0
    # The sandbox records exactly the request a live account would send.
    assert attempt["request"]["url"] == "https://fosstodon.org/api/v1/statuses"
    assert attempt["request"]["json"] == {
        "status": "Release notes, written for humans.",
        "visibility": "unlisted",
    }
    assert attempt["request"]["headers"]["Idempotency-Key"]
    assert attempt["request"]["headers"]["Authorization"] == "Bearer <redacted>"


def test_publish_now(make_client: AppFactory) -> None:
    client = make_client()
    bluesky = create_account(client, "bluesky", "ada.bsky.social")
    post = create_post(
        client, bluesky["id"], "Right now, from the garden.", publish_now=True
    ).json()
    wait_for(lambda: post_state(client, post["id"]) == "published", timeout=5)


def test_log_filters_by_account_and_outcome(make_client: AppFactory, database: Database) -> None:
    client = make_client()
    x = create_account(client, "x")
    fb = create_account(client, "facebook", "42")
    a = create_post(
        client, x["id"], "A thread on scheduling, with a question at the end?", publish_now=True
    ).json()
    insert_post(
        database,
        fb["id"],
        "Old news from last night",
        state=PostState.SCHEDULED,
        scheduled_at=datetime.now(UTC) - timedelta(hours=5),
        next_attempt_at=datetime.now(UTC) - timedelta(hours=5),
    )
    wait_for(lambda: len(client.get("/api/v1/publish-log").json()["items"]) == 2)
    by_account = client.get("/api/v1/publish-log", params={"account_id": x["id"]}).json()["items"]
    assert [e["post_id"] for e in by_account] == [a["id"]]
    missed = client.get("/api/v1/publish-log", params={"outcome": "missed"}).json()["items"]
    assert [e["account_id"] for e in missed] == [fb["id"]]
    future = client.get("/api/v1/publish-log", params={"from": in_seconds(60)}).json()["items"]
    assert future == []


def test_after_downtime_recent_posts_go_out_and_old_ones_are_missed(
    make_client: AppFactory, database: Database
) -> None:
    api = make_client(dispatch=False)
    account = create_account(api, "facebook", "1001")
    now = datetime.now(UTC)
    recent = insert_post(
        database,
        account["id"],
        "Good morning, family!",
        state=PostState.SCHEDULED,
        scheduled_at=now - timedelta(minutes=5),
        next_attempt_at=now - timedelta(minutes=5),
    )
    stale = insert_post(
        database,
        account["id"],
        "Good morning, everyone!",
        state=PostState.SCHEDULED,
        scheduled_at=now - timedelta(hours=16),
        next_attempt_at=now - timedelta(hours=16),
    )

    client = make_client(missed_grace_seconds=1800)  # the service comes back
    wait_for(
        lambda: post_state(client, recent) == "published" and post_state(client, stale) == "missed"
    )
    missed = client.get(f"/api/v1/posts/{stale}").json()
    assert "grace window" in missed["last_error"]
    [entry] = client.get(f"/api/v1/posts/{stale}/attempts").json()["items"]
    assert entry["outcome"] == "missed"
    assert entry["lateness_ms"] >= 16 * 3600 * 1000
    # A missed post can be given a new time.
    again = client.post(f"/api/v1/posts/{stale}/schedule", json={"scheduled_at": in_seconds(1)})
    assert again.json()["state"] == "scheduled"
    wait_for(lambda: post_state(client, stale) == "published")


def test_two_dispatchers_never_publish_a_post_twice(
    make_client: AppFactory, database: Database
) -> None:
    api = make_client(dispatch=False)
    accounts = [create_account(api, "mastodon", f"user{i}") for i in range(4)]
    due = datetime.now(UTC) - timedelta(seconds=1)
    ids = [
        insert_post(
            database,
            accounts[i % 4]["id"],
            distinct_text(i),
            state=PostState.SCHEDULED,
            scheduled_at=due,
            next_attempt_at=due,
        )
        for i in range(300)
    ]
    first = make_client(publish_concurrency=8, worker_id="first")
    make_client(publish_concurrency=8, worker_id="second")

    def all_published() -> bool:
        with database.session() as session:
            return session.exec(
                select(func.count()).where(Post.state == PostState.PUBLISHED)
            ).one() == len(ids)

    wait_for(all_published, timeout=60)
    with database.session() as session:
        attempts = session.exec(select(PublishAttempt.post_id, PublishAttempt.worker)).all()
    per_post = Counter(post_id for post_id, _ in attempts)
    assert set(per_post) == set(ids)
    assert max(per_post.values()) == 1
    assert (
        first.get("/api/v1/publish-log", params={"limit": 1}).json()["items"][0]["outcome"]
        == "published"
    )


def _left_by_a_dead_worker(make_client: AppFactory, database: Database, attempts: int) -> str:
    """A Mastodon post whose worker died mid-send: still claimed, its lease just expired."""
    account = create_account(make_client(dispatch=False), "mastodon")
    now = datetime.now(UTC)
    return insert_post(
        database,
        account["id"],
        f"Sent when the worker died (attempt {attempts})",
        state=PostState.PUBLISHING,
        scheduled_at=now - timedelta(seconds=30),
        next_attempt_at=now - timedelta(seconds=30),
        attempt_count=attempts,
        claimed_by="dead-worker",
        claimed_until=now - timedelta(seconds=1),
    )


def test_a_post_left_mid_publish_by_a_dead_worker_is_recovered(
    make_client: AppFactory, database: Database
) -> None:
    orphan = _left_by_a_dead_worker(make_client, database, attempts=1)
    client = make_client()
    wait_for(lambda: post_state(client, orphan) == "published")
    log = client.get(f"/api/v1/posts/{orphan}/attempts").json()["items"]
    assert [e["outcome"] for e in log] == ["published", "retrying"]
    assert "dead-worker stopped while publishing" in log[1]["message"]


def test_the_scheduler_holds_no_job_per_post(make_client: AppFactory, database: Database) -> None:
    api = make_client(dispatch=False)
    account = create_account(api, "threads")
    far = datetime.now(UTC) + timedelta(days=30)
    for i in range(200):
        insert_post(
            database,
            account["id"],
            distinct_text(i),
            state=PostState.SCHEDULED,
            scheduled_at=far + timedelta(minutes=i),
            next_attempt_at=far + timedelta(minutes=i),
        )
    client = make_client()
    dispatcher = client.app.state.dispatcher
    # Read once: each poll's look clears it while it runs (a loaded machine catches it so).
    wake = wait_for(lambda: dispatcher._next_wake)
    jobs = client.portal.call(_jobs, dispatcher)
    assert len(jobs) <= 2  # the poll, and one wake-up at the next due time
    assert wake == far


async def _jobs(dispatcher) -> list:
    await asyncio.sleep(0)
    return dispatcher._scheduler.get_jobs()


def test_nothing_is_published_without_a_dispatcher(client: TestClient) -> None:
    account = create_account(client, "x")
    post = create_post(
        client, account["id"], "Scheduled but nobody is dispatching", publish_now=True
    ).json()
    assert post_state(client, post["id"]) == "scheduled"


def _unknown_post(make_client: AppFactory, database: Database) -> tuple[TestClient, str]:
    client = make_client(dispatch=False)
    account = create_account(client, "x")
    now = datetime.now(UTC)
    post_id = insert_post(
        database,
        account["id"],
        "Did this one go out?",
        state=PostState.UNKNOWN,
        scheduled_at=now - timedelta(hours=2),
        attempt_count=1,
        last_error="Timed out after sending",
    )
    return client, post_id


def test_an_unknown_post_is_marked_published_with_its_url(
    make_client: AppFactory, database: Database
) -> None:
    client, post_id = _unknown_post(make_client, database)
    url = f"/api/v1/posts/{post_id}/resolve"
    assert_problem(client.post(url, json={"outcome": "published"}), 422, "validation-error")
    resolved = client.post(
        url, json={"outcome": "published", "external_url": "https://x.com/me/status/1"}
    ).json()
    assert resolved["state"] == "published"
    assert resolved["external_url"] == "https://x.com/me/status/1"
    [entry] = client.get(f"/api/v1/posts/{post_id}/attempts").json()["items"]
    assert entry["outcome"] == "published" and "Marked published by you" in entry["message"]
    assert_problem(client.post(url, json={"outcome": "requeue"}), 409, "not-unknown")


def test_an_unknown_post_that_did_not_go_out_is_requeued_and_sent(
    make_client: AppFactory, database: Database
) -> None:
    client, post_id = _unknown_post(make_client, database)
    requeued = client.post(f"/api/v1/posts/{post_id}/resolve", json={"outcome": "requeue"})
    assert requeued.json()["state"] == "scheduled"
    publisher = make_client()
    wait_for(lambda: post_state(publisher, post_id) == "published")
    outcomes = [
        e["outcome"] for e in publisher.get(f"/api/v1/posts/{post_id}/attempts").json()["items"]
    ]
    assert outcomes == ["published", "retrying"]


def test_an_unknown_post_can_be_cancelled(make_client: AppFactory, database: Database) -> None:
    client, post_id = _unknown_post(make_client, database)
    assert client.post(f"/api/v1/posts/{post_id}/cancel").json()["state"] == "cancelled"


def test_a_post_whose_sends_keep_dying_stops_being_resent(
    make_client: AppFactory, database: Database
) -> None:
    orphan = _left_by_a_dead_worker(make_client, database, attempts=5)
    client = make_client(max_attempts=5)
    wait_for(lambda: post_state(client, orphan) == "unknown")
    [entry] = client.get(f"/api/v1/posts/{orphan}/attempts").json()["items"]
    assert entry["outcome"] == "unknown"
    assert "interrupted 5 times" in entry["message"]
