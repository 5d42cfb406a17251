from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class PostState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"
    # A send whose outcome could not be confirmed: the user must say what happened.
    UNKNOWN = "unknown"
    # A post for an account published by hand has come due: the person publishes it and marks
    # it published or skipped (service.hand), or it becomes missed after the hand grace period.
    DUE = "due"
    SKIPPED = "skipped"


# States from which the user may edit and (re)schedule a post.
EDITABLE_STATES = frozenset(
    {PostState.DRAFT, PostState.SCHEDULED, PostState.FAILED, PostState.MISSED}
)
# An unknown post may also be cancelled: the user checked, and it should not go out.
CANCELLABLE_STATES = EDITABLE_STATES | {PostState.UNKNOWN}
# Posts in these states are never compared by the cross-post guard: they will never go out.
GUARD_IGNORED_STATES = frozenset({PostState.CANCELLED, PostState.SKIPPED})


class Post(SQLModel, table=True):
    """The text written for one account, and where it is in its life."""

    __tablename__ = "posts"
    __table_args__ = (
        # The dispatcher's claim query: due scheduled posts, earliest first.
        Index("ix_posts_state_next_attempt_at", "state", "next_attempt_at"),
        # Newest first; guard_length lets the guard pick the lengths it needs from the user's
        # recent posts in the index alone (service.posts.repository.guard_candidates).
        Index(
            "ix_posts_user_id_created_at_id_guard_length",
            "user_id",
            "created_at",
            "id",
            "guard_length",
        ),
        Index("ix_posts_user_id_scheduled_at_id", "user_id", "scheduled_at", "id"),
        # The queue (GET /posts?order=scheduled_at&state=scheduled): without the state, the
        # first page walks past every published post before the first scheduled one.
        Index("ix_posts_user_id_state_scheduled_at_id", "user_id", "state", "scheduled_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # The account's owner, kept on the post so the guard and listings need no join.
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), nullable=False))
    account_id: str = Field(
        sa_column=Column(String(32), ForeignKey("accounts.id"), nullable=False, index=True)
    )
    network: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=2048)
    # Someone else's post or link this post shares; it must carry the user's own comment.
    shares_url: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, max_length=1000)
    # Blog posts only: the summary shown in lists, and the tags. (Their featured image is the
    # post's one attached image, in post_media.)
    excerpt: str | None = Field(default=None, sa_column=Column(Text))
    tags: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    visibility: str = Field(max_length=32)
    call_to_action: str | None = Field(default=None, max_length=1000)
    # Where a post published by hand should go (a friends list, a group), shown to the person.
    audience: str | None = Field(default=None, max_length=255)
    goal: str | None = Field(default=None, max_length=255)
    # BCP 47; None means the account's language.
    language: str | None = Field(default=None, max_length=35)
    # A video's own fields as JSON (YouTube: tags, category_id, publish_at); see
    # service.youtube.service.
    video_options: str | None = Field(default=None, sa_column=Column(Text))
    state: str = Field(default=PostState.DRAFT, max_length=16)
    scheduled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    time_zone: str | None = Field(default=None, max_length=64)
    # When the dispatcher should next try: the scheduled time, or a retry's backoff time.
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    copied_from_id: str | None = Field(default=None, max_length=32)
    # A copy starts identical to its source; it cannot be scheduled until rewritten.
    needs_tailoring: bool = Field(default=False)
    guard_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    guard_length: int = Field(default=0)
    # Stable across retries and crashes: the network idempotency key where one exists.
    publish_key: str = Field(default_factory=new_id, max_length=32, unique=True)
    attempt_count: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The claiming worker, until it begins to send the post to a network that cannot take it
    # twice (then cleared, and committed before the send). A dead worker's post that still
    # names its claimed_by here was only claimed, never sent, so it can be sent again.
    claimed_unsent_by: str | None = Field(default=None, max_length=128)
    external_id: str | None = Field(default=None, max_length=255)
    external_url: str | None = Field(default=None, max_length=2048)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1)


class PostFingerprint(SQLModel, table=True):
    """One fingerprint of a post's comparable form: the guard's index of a user's wording.

    See service.guard.fingerprint. The rows follow the post's ``guard_text``: they are written
    in the same flush as the post (service.posts.repository), so they are never out of date.
    """

    __tablename__ = "post_fingerprints"
    __table_args__ = (Index("ix_post_fingerprints_post_id", "post_id"),)

    user_id: str = Field(sa_column=Column(String(32), primary_key=True))
    fingerprint: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    post_id: str = Field(sa_column=Column(String(32), ForeignKey("posts.id"), primary_key=True))
