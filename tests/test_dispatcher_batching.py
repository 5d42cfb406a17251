"""The dispatcher writes finished sends in batches: one transaction, settled per post."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from service.config import Settings
from service.db import Database
from service.posts.models import Post, PostState
from service.publishing.dispatcher import Dispatcher, Finished
from service.publishing.models import PublishAttempt
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

    dispatcher._record_many(batch)

    with database.session() as session:
        states = {p.id: (p.state, p.claimed_by) for p in session.exec(select(Post))}
        messages = {a.post_id: a.message or "" for a in session.exec(select(PublishAttempt))}
    assert all(states[post_id] == (PostState.PUBLISHED, None) for post_id in mine)
    assert states[taken] == (PostState.PUBLISHING, "recovering-worker")
    assert set(messages) == {*mine, taken}
    assert "claim had expired" in messages[taken]
    assert not any("claim had expired" in messages[post_id] for post_id in mine)
