from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, utcnow


class CalendarFeed(SQLModel, table=True):
    """A user's calendar feed: the address carries a secret; only its SHA-256 is kept.

    One per user. Revoking deletes the row, so a revoked secret and one that never existed
    are the same to the feed: not found.
    """

    __tablename__ = "calendar_feeds"

    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("users.id"), primary_key=True, nullable=False)
    )
    secret_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # When a calendar application last fetched it (written at most once a minute).
    last_fetched_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
