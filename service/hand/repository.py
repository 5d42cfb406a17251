"""Every query hand-publish makes: the moves out of ``due``, and the queue of due posts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.posts.models import Post, PostState


def overdue(session: Session, *, now: datetime, limit: int) -> list[Post]:
    """Due posts past their deadline (kept in ``next_attempt_at``), locked; replicas skip the
    rows another is settling. Served by the (state, next_attempt_at) index."""
    statement = (
        select(Post)
        .where(Post.state == PostState.DUE, col(Post.next_attempt_at) <= now)
        .order_by(col(Post.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(statement))


def settle_from(
    session: Session, post_id: str, states: Collection[str], version: int, values: dict[str, Any]
) -> bool:
    """Move a post on, if it is still in one of ``states`` at ``version``; False if not.

    The one conditional UPDATE is the whole race: of two requests marking one post (or a mark
    and the sweep that makes it missed), exactly one matches the row.
    """
    statement = (
        update(Post)
        .where(
            col(Post.id) == post_id,
            col(Post.state).in_(list(states)),
            col(Post.version) == version,
        )
        .values(version=Post.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.exec(statement).rowcount == 1)


def due_posts(session: Session, user_id: str, limit: int) -> list[tuple[Post, Account]]:
    """The user's posts waiting to be published by hand, the most urgent first."""
    statement = (
        select(Post, Account)
        .join(Account, col(Account.id) == col(Post.account_id))
        .where(Post.user_id == user_id, Post.state == PostState.DUE)
        .order_by(col(Post.scheduled_at), col(Post.id))
        .limit(limit)
    )
    return [(post, account) for post, account in session.exec(statement)]


def account_of(session: Session, post: Post) -> Account:
    account = session.get(Account, post.account_id)
    assert account is not None  # a post's account is never deleted (accounts.service.delete)
    return account
