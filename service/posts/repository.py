"""Every query about posts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, event, func, insert, inspect, or_, union_all
from sqlalchemy.orm import Mapper
from sqlmodel import Session, col, select

from service import guard
from service.guard import GuardEntry
from service.posts.models import GUARD_IGNORED_STATES, Post, PostFingerprint


@dataclass(frozen=True)
class PostFilters:
    user_id: str
    account_id: str | None = None
    states: Collection[str] = ()
    scheduled_from: datetime | None = None
    scheduled_to: datetime | None = None


def get(session: Session, user_id: str, post_id: str) -> Post | None:
    """The user's post; another user's post is as absent as a missing one."""
    post = session.get(Post, post_id)
    return post if post is not None and post.user_id == user_id else None


def list_page(
    session: Session, filters: PostFilters, order: str, after: list[Any] | None, limit: int
) -> list[Post]:
    """One page in keyset order: newest first by creation, or soonest first by schedule."""
    statement = select(Post).where(Post.user_id == filters.user_id)
    if filters.account_id is not None:
        statement = statement.where(Post.account_id == filters.account_id)
    if filters.states:
        statement = statement.where(col(Post.state).in_(list(filters.states)))
    if filters.scheduled_from is not None:
        statement = statement.where(col(Post.scheduled_at) >= filters.scheduled_from)
    if filters.scheduled_to is not None:
        statement = statement.where(col(Post.scheduled_at) < filters.scheduled_to)
    if order == "scheduled_at":
        statement = statement.where(col(Post.scheduled_at).is_not(None))
        if after is not None:
            at, post_id = datetime.fromisoformat(after[0]), after[1]
            statement = statement.where(
                or_(
                    col(Post.scheduled_at) > at,
                    and_(col(Post.scheduled_at) == at, col(Post.id) > post_id),
                )
            )
        statement = statement.order_by(col(Post.scheduled_at), col(Post.id))
    else:
        if after is not None:
            at, post_id = datetime.fromisoformat(after[0]), after[1]
            statement = statement.where(
                or_(
                    col(Post.created_at) < at,
                    and_(col(Post.created_at) == at, col(Post.id) < post_id),
                )
            )
        statement = statement.order_by(col(Post.created_at).desc(), col(Post.id).desc())
    return list(session.exec(statement.limit(limit)))


def guard_candidates(
    session: Session,
    *,
    user_id: str,
    other_than_account: str,
    min_length: int,
    max_length: int,
    fingerprints: Collection[int],
    exclude_post_ids: Collection[str] = (),
    only_states: Collection[str] = (),
) -> list[GuardEntry]:
    """Posts on other accounts that could be too similar (see service.guard.fingerprint).

    The user's newest ``guard.RECENT_POSTS`` posts, and the older ones sharing the most of
    ``fingerprints``, narrowed by normalised length. Both lists are read through indexes and
    bounded, so the cost does not grow with the number of posts the user has.
    """
    recent = (
        select(Post.id)
        .where(Post.user_id == user_id)
        .order_by(col(Post.created_at).desc(), col(Post.id).desc())
        .limit(guard.RECENT_POSTS)
    )
    shared = (
        select(PostFingerprint.post_id)
        .where(
            PostFingerprint.user_id == user_id,
            col(PostFingerprint.fingerprint).in_(list(fingerprints)),
        )
        .group_by(col(PostFingerprint.post_id))
        .order_by(func.count().desc())
        .limit(guard.FINGERPRINT_CANDIDATES)
    )
    # Each branch as its own subquery: SQLite allows no LIMIT directly inside a UNION.
    ids = union_all(select(recent.subquery().c.id), select(shared.subquery().c.post_id))
    statement = select(Post.id, Post.account_id, Post.network, Post.guard_text).where(
        col(Post.id).in_(ids),
        Post.user_id == user_id,
        Post.account_id != other_than_account,
        col(Post.guard_length) >= min_length,
        col(Post.guard_length) <= max_length,
    )
    if only_states:
        statement = statement.where(col(Post.state).in_(list(only_states)))
    else:
        statement = statement.where(col(Post.state).not_in([str(s) for s in GUARD_IGNORED_STATES]))
    if exclude_post_ids:
        statement = statement.where(col(Post.id).not_in(list(exclude_post_ids)))
    return [
        GuardEntry(post_id=row[0], account_id=row[1], network=row[2], normalised=row[3])
        for row in session.exec(statement)
    ]


# --- the guard's fingerprints follow each post's guard_text, in the same flush ---------------


def _insert_fingerprints(connection: Connection, post: Post) -> None:
    rows = [
        {"user_id": post.user_id, "fingerprint": fingerprint, "post_id": post.id}
        for fingerprint in guard.fingerprints(post.guard_text)
    ]
    if rows:
        connection.execute(insert(PostFingerprint), rows)


@event.listens_for(Post, "after_insert")
def _fingerprint_new_post(_mapper: Mapper[Post], connection: Connection, post: Post) -> None:
    _insert_fingerprints(connection, post)


@event.listens_for(Post, "after_update")
def _fingerprint_changed_post(_mapper: Mapper[Post], connection: Connection, post: Post) -> None:
    if not inspect(post).attrs.guard_text.history.has_changes():
        return
    connection.execute(delete(PostFingerprint).where(col(PostFingerprint.post_id) == post.id))
    _insert_fingerprints(connection, post)
