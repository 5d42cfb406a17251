"""The dispatcher writes finished sends in batches: one transaction, settled per post."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from service.config import Settings
from service.db import Database
from service.posts.models import Post, PostState
from service.publishing import repository
from service.publishing.dispatcher import Dispatcher
from service.publishing.models import PublishAttempt
from service.publishing.outcomes import Finished
from service.publishing.publishers import PublishResult
from service.publishing.registry import PublisherRegistry
from tests.conftest import AppFactory
from tests.support.api import create_account, distinct_text
from tests.support.rows import insert_post


def _publishing(database: Database, account_id: str, seed: int, claimed_by: str) -> str:
    now = datetime.now(UTC)
    return insert_post(
        database,
        account_id,
        distinct_text(seed),
        state=PostState.PUBLISHING,
        scheduled_at=now,
        next_attempt_at=now,
        attempt_count=1,
        claimed_by=claimed_by,
        claimed_until=now + timedelta(minutes=2),
    )


def test_a_batch_settles_its_posts_and_marks_a_lapsed_claim(
    make_client: AppFactory, database: Database, database_url: str
) -> None:
    account = create_account(make_client(dispatch=False), "mastodon")
    mine = [_publishing(database, account["id"], i, "this-worker") for i in range(3)]
    # Its claim lapsed and another worker's recovery took the post over meanwhile.
    taken = _publishing(database, account["id"], 9, "recovering-worker")
    dispatcher = Dispatcher(
        database, Settings(database_url=database_url, worker_id="this-worker"), PublisherRegistry()
    )
    now = datetime.now(UTC)
    with database.session() as session:
        posts = {p.id: p for p in session.exec(select(Post))}
    batch = [
        Finished(
            posts[post_id],
            now,
            now,
            PublishResult(f"ext-{post_id}", f"https://example.org/{post_id}", 200, "ok", None),
        )
        for post_id in [*mine, taken]
    ]

    dispatcher.recorder.record_many(batch)

    with database.session() as session:
        states = {p.id: (p.state, p.claimed_by) for p in session.exec(select(Post))}
        messages = {a.post_id: a.message or "" for a in session.exec(select(PublishAttempt))}
    assert all(states[post_id] == (PostState.PUBLISHED, None) for post_id in mine)
    assert states[taken] == (PostState.PUBLISHING, "recovering-worker")
    assert set(messages) == {*mine, taken}
    assert "claim had expired" in messages[taken]
    assert not any("claim had expired" in messages[post_id] for post_id in mine)


def test_a_batch_takes_its_posts_in_id_order(
    make_client: AppFactory, database: Database, database_url: str
) -> None:
    """Each set of new values is one statement, so a batch would lock its posts in no set
    order, and two batches holding the same posts (after a lapsed claim) could deadlock.
    It locks them in id order first: while it waits for the lowest, it holds no other."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: SQLite serialises whole write transactions")
    account = create_account(make_client(dispatch=False), "mastodon")
    low, high = sorted(_publishing(database, account["id"], i, "this-worker") for i in range(2))
    now = datetime.now(UTC)
    # The first statement (published) writes `high`; the second (failed) writes `low`.
    settlements = [
        (high, {"state": PostState.PUBLISHED, "updated_at": now}),
        (low, {"state": PostState.FAILED, "last_error": "refused", "updated_at": now}),
    ]
    settled: list[bool] = []

    def write_batch() -> None:
        with database.session() as session:
            settled.append(repository.settle_many(session, "this-worker", settlements))
            session.commit()

    with database.engine.connect() as other:
        other.execute(text("SELECT id FROM posts WHERE id = :id FOR UPDATE"), {"id": low})
        batch = threading.Thread(target=write_batch)
        batch.start()
        time.sleep(0.5)  # the batch is now waiting for `low`
        # It holds nothing else meanwhile: `high` can be taken at once.
        taken = other.execute(
            text("SELECT id FROM posts WHERE id = :id FOR UPDATE NOWAIT"), {"id": high}
        ).scalar_one()
        assert taken == high
        other.rollback()
    batch.join(timeout=10)
    assert settled == [True]
    with database.session() as session:
        states = {p.id: p.state for p in session.exec(select(Post))}
    assert states == {high: PostState.PUBLISHED, low: PostState.FAILED}
