"""Every query about posts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    tuple_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Mapper
from sqlmodel import Session, col, select

from service import guard
from service.db import UTCDateTime
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


def _at(moment: datetime) -> Any:
    """A bound time stored the way the column stores it (naive UTC on SQLite)."""
    return literal(moment, UTCDateTime())


def _id(post_id: str) -> Any:
    return literal(post_id, String())


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
            # A row comparison, which both databases read as a range of the index; the
            # equivalent OR made them scan every earlier page again (cost grew with depth).
            statement = statement.where(
                tuple_(col(Post.scheduled_at), col(Post.id)) > tuple_(_at(at), _id(post_id))
            )
        statement = statement.order_by(col(Post.scheduled_at), col(Post.id))
    else:
        if after is not None:
            at, post_id = datetime.fromisoformat(after[0]), after[1]
            statement = statement.where(
                tuple_(col(Post.created_at), col(Post.id)) < tuple_(_at(at), _id(post_id))
            )
        statement = statement.order_by(col(Post.created_at).desc(), col(Post.id).desc())
    return list(session.exec(statement.limit(limit)))


@dataclass(frozen=True)
class GuardCandidates:
    """The earlier posts a guard check compares with, newest first, and which of them were
    reached through a shared fingerprint (those may be any length above the shared window's
    low end; see service.guard.policy.candidate_windows)."""

    entries: list[GuardEntry]
    by_fingerprint: frozenset[str]


def guard_candidates(
    session: Session,
    *,
    user_id: str,
    other_than_account: str | None,
    windows: guard.CandidateWindows,
    fingerprints: Collection[int],
    exclude_post_ids: Collection[str] = (),
    only_states: Collection[str] = (),
    fingerprint_candidates: int | None = None,
) -> GuardCandidates:
    """Posts that could be too similar (see service.guard.fingerprint), by normalised length.

    The user's newest ``guard.RECENT_POSTS`` posts with a length in ``windows.recent``, and
    the older ones sharing the most of ``fingerprints`` with a length in ``windows.shared``;
    none on ``other_than_account`` (when given). Both lists are read through indexes and
    bounded, so the cost does not grow with the number of posts the user has.
    """
    newest = (
        select(Post.id, Post.guard_length)
        .where(Post.user_id == user_id)
        .order_by(col(Post.created_at).desc(), col(Post.id).desc())
        .limit(guard.RECENT_POSTS)
        .subquery()
    )
    recent_low, recent_high = map(_length_bound, windows.recent)
    recent = select(newest.c.id).where(
        newest.c.guard_length >= recent_low, newest.c.guard_length <= recent_high
    )
    shared = (
        select(PostFingerprint.post_id)
        .where(
            PostFingerprint.user_id == user_id,
            col(PostFingerprint.fingerprint).in_(list(fingerprints)),
        )
        .group_by(col(PostFingerprint.post_id))
        .order_by(func.count().desc())
        .limit(fingerprint_candidates or guard.FINGERPRINT_CANDIDATES)
    )
    # Each list of ids picks its posts by key, and nothing else in the query may use an
    # index: given the user or the state, SQLite's planner would rather scan all the user's
    # posts of this length, or in that state. The owner is checked here instead.
    columns = (
        col(Post.id),
        col(Post.user_id),
        col(Post.account_id),
        col(Post.network),
        col(Post.guard_text),
    )
    # coalesce() keeps the planner off the state index (the state is never null).
    state = func.coalesce(col(Post.state), "")
    in_state = (
        state.in_(sorted(map(str, only_states)))
        if only_states
        else state.not_in(sorted(map(str, GUARD_IGNORED_STATES)))
    )
    shared_low, shared_high = map(_length_bound, windows.shared)
    postgresql = session.get_bind().dialect.name == "postgresql"
    statement = union_all(
        sa_select(*columns, literal(False).label("by_fingerprint")).where(
            _by_key(recent, postgresql),
            col(Post.guard_length) >= recent_low,
            col(Post.guard_length) <= recent_high,
            in_state,
        ),
        sa_select(*columns, literal(True).label("by_fingerprint")).where(
            _by_key(shared, postgresql),
            col(Post.guard_length) >= shared_low,
            col(Post.guard_length) <= shared_high,
            in_state,
        ),
    )
    seen = set(exclude_post_ids)
    found: list[GuardEntry] = []
    by_fingerprint: set[str] = set()
    for post_id, owner, account_id, network, text, fingerprinted in session.execute(statement):
        if fingerprinted:
            by_fingerprint.add(post_id)
        if post_id in seen:
            continue
        seen.add(post_id)
        if owner == user_id and account_id != other_than_account:
            found.append(GuardEntry(post_id, account_id, network, text))
    return GuardCandidates(found, frozenset(by_fingerprint))


# posts.guard_length is a 32-bit INTEGER: a bound beyond it (an open window) would not bind.
_LONGEST = 2**31 - 1


def _length_bound(length: int) -> int:
    return min(max(length, 0), _LONGEST)


def _by_key(ids: Select[Any], postgresql: bool) -> ColumnElement[bool]:
    """The posts whose id is in ``ids``, read through the primary key.

    PostgreSQL is given the ids as one array, computed first: with ``IN (subquery)`` it may
    rather scan the whole table and hash-join, which reads every row version of every user's
    posts (after a burst of updates, many times the table).
    """
    if postgresql:
        return col(Post.id) == func.any(func.array(ids.scalar_subquery()))
    return col(Post.id).in_(ids)


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
