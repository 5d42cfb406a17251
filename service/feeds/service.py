"""The calendar feed: its secret address (made, rotated, revoked) and the feed itself."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.config import Settings
from service.db import utcnow
from service.feeds import ics, repository
from service.feeds.models import CalendarFeed
from service.problems import ProblemError
from service.users import repository as users
from service.users.models import User
from service.users.security import digests_match, token_digest

FEED_PATH = "/api/v1/feeds/calendar/{secret}.ics"
# last_fetched_at is written at most this often, not on every fetch.
TOUCH_EVERY = timedelta(minutes=1)


def feed_url(base_url: str, secret: str) -> str:
    return base_url + FEED_PATH.format(secret=secret)


def webcal_url(url: str) -> str:
    """webcal:// asks the system to subscribe in its calendar application."""
    return "webcal://" + url.split("://", 1)[1]


def no_feed() -> ProblemError:
    return ProblemError(
        404, "not-found", "Not found", "You have no calendar feed; create one to get its address."
    )


def create(session: Session, user: User) -> tuple[CalendarFeed, str]:
    """The user's feed and its secret, which is returned once and only hashed here."""
    if repository.for_user(session, user.id) is not None:
        raise _exists()
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, secret_hash=token_digest(secret), created_at=utcnow())
    repository.add(session, feed)
    try:
        session.flush()
    except IntegrityError:  # a parallel request made one first
        raise _exists() from None
    return feed, secret


def rotate(session: Session, user: User) -> tuple[CalendarFeed, str]:
    """A new address; the old one stops working at once."""
    secret = secrets.token_urlsafe(32)
    if not repository.replace_secret(session, user.id, token_digest(secret), utcnow()):
        raise no_feed()
    feed = repository.for_user(session, user.id)
    assert feed is not None
    session.refresh(feed)
    return feed, secret


def revoke(session: Session, user: User) -> None:
    if not repository.remove(session, user.id):
        raise no_feed()


def find(session: Session, secret: str) -> CalendarFeed | None:
    """The feed this secret opens; None for an unknown or revoked one, after the same work.

    The lookup is by the secret's SHA-256, so how long it takes says nothing about how close
    a guess came; revoking deletes the row, so a revoked secret is simply unknown.
    """
    digest = token_digest(secret)
    feed = repository.by_secret_hash(session, digest)
    if feed is None or not digests_match(feed.secret_hash, digest):
        return None
    return feed


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    last_modified: datetime


def render(session: Session, feed: CalendarFeed, settings: Settings, base_url: str) -> Rendered:
    since = utcnow() - timedelta(days=settings.calendar_past_days)
    rows = repository.feed_posts(session, feed.user_id, since, settings.calendar_max_events)
    entries = [
        ics.FeedEntry(post, account.handle, account.display_name, account.mode)
        for post, account in rows
    ]
    owner = users.get(session, feed.user_id)
    body = ics.calendar(entries, base_url=base_url, owner=owner.username if owner else "")
    changed = repository.last_change(session, feed.user_id)
    last_modified = max(changed, feed.created_at) if changed else feed.created_at
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Rendered(body, etag, last_modified)


def note_fetched(session: Session, feed: CalendarFeed, now: datetime) -> bool:
    """Record the fetch, at most once a minute; whether anything was written."""
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < TOUCH_EVERY:
        return False
    repository.touch(session, feed.user_id, now)
    return True


def _exists() -> ProblemError:
    return ProblemError(
        409,
        "calendar-feed-exists",
        "You already have a calendar feed",
        "Your calendar feed exists; its address is shown only when it is made. Rotate it to "
        "get a new address (the old one stops working).",
    )
