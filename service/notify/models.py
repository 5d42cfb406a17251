"""Where a person wants to be told, and the notifications on their way (the outbox)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class Channel(StrEnum):
    EMAIL = "email"
    PUSH = "push"  # an ntfy-style HTTP POST to an address the person gave


class NotificationState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt, or being sent under a lease
    SENT = "sent"
    FAILED = "failed"  # every attempt failed
    DROPPED = "dropped"  # not sent: the post was settled (published, skipped) before it went


class NotificationSettings(SQLModel, table=True):
    """One row per user who gave an address; no row (or nulls) means that channel is off."""

    __tablename__ = "notification_settings"

    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), primary_key=True))
    email: str | None = Field(default=None, max_length=254)
    push_url: str | None = Field(default=None, max_length=2048)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1)


class Notification(SQLModel, table=True):
    """One message to one channel about one post, written with the post's move to due."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The delivery chore's claim: due pending notifications, earliest first.
        Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_notifications_post_id", "post_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), nullable=False))
    post_id: str = Field(sa_column=Column(String(32), ForeignKey("posts.id"), nullable=False))
    channel: str = Field(max_length=16)
    # The address as it was when the post came due: a later change does not redirect it.
    target: str = Field(max_length=2048)
    subject: str = Field(max_length=255)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # The link a push opens (the post in the web UI, or the network's composer).
    click_url: str | None = Field(default=None, max_length=2048)
    state: str = Field(default=NotificationState.PENDING, max_length=16)
    attempt_count: int = Field(default=0)
    # When the next attempt is due; while a worker sends it, the end of that worker's lease.
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claimed_by: str | None = Field(default=None, max_length=128)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
