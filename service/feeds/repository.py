"""Every query the calendar feed makes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.feeds.models import CalendarFeed
from service.posts.models import Post, PostState

# What the feed shows: what is coming, and how recent posts went. Drafts have no time yet;
# cancelled posts drop out (a subscribed calendar then removes their events).
FEED_STATES = (
    PostState.SCHEDULED,
    PostState.PUBLISHING,
    PostState.PUBLISHED,
    PostState.FAILED,
    PostState.MISSED,
    PostState.UNKNOWN,
)


def for_user(session: Session, user_id: str) -> CalendarFeed | None:
    return session.get(CalendarFeed, user_id)


def by_secret_hash(session: Session, digest: str) -> CalendarFeed | None:
    """One indexed lookup by the secret's SHA-256, the same work for every secret."""
    return session.exec(select(CalendarFeed).where(CalendarFeed.secret_hash == digest)).first()


def add(session: Session, feed: CalendarFeed) -> None:
    session.add(feed)


def replace_secret(session: Session, user_id: str, digest: str, now: datetime) -> bool:
    statement = (
        update(CalendarFeed)
        .where(col(CalendarFeed.user_id) == user_id)
        .values(secret_hash=digest, created_at=now, last_fetched_at=None)
    )
    return bool(session.exec(statement).rowcount == 1)


def remove(session: Session, user_id: str) -> bool:
    statement = delete(CalendarFeed).where(col(CalendarFeed.user_id) == user_id)
    return bool(session.exec(statement).rowcount == 1)


def touch(session: Session, user_id: str, now: datetime) -> None:
    session.exec(
        update(CalendarFeed).where(col(CalendarFeed.user_id) == user_id).values(last_fetched_at=now)
    )


def feed_posts(
    session: Session, user_id: str, since: datetime, limit: int
) -> list[tuple[Post, Account]]:
    """The user's posts from ``since`` on, earliest first, with their accounts."""
    statement = (
        select(Post, Account)
        .join(Account, col(Account.id) == col(Post.account_id))
        .where(
            Post.user_id == user_id,
            col(Post.state).in_(FEED_STATES),
            col(Post.scheduled_at) >= since,
        )
        .order_by(col(Post.scheduled_at), col(Post.id))
        .limit(limit)
    )
    return [(post, account) for post, account in session.exec(statement)]


def last_change(session: Session, user_id: str) -> datetime | None:
    """The latest change to any of the user's posts or accounts: a post cancelled or moved
    out of the feed changes it too."""
    moments = [
        session.exec(select(func.max(Post.updated_at)).where(Post.user_id == user_id)).one(),
        session.exec(select(func.max(Account.updated_at)).where(Account.user_id == user_id)).one(),
    ]
    found = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None]
    return max(found) if found else None
