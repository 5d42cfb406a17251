"""What YouTube publishing keeps in the database: each upload's progress, each day's quota."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, utcnow


class YouTubeUpload(SQLModel, table=True):
    """One post's video upload in flight, so any worker can continue it after a crash.

    The session URI is a capability (it uploads to the channel without further checks by
    whoever holds it), so it is stored encrypted and never shown; it is cleared once the
    video is recorded (post_media_uploads) or YouTube has forgotten the session.
    """

    __tablename__ = "youtube_uploads"

    post_id: str = Field(sa_column=Column(String(32), ForeignKey("posts.id"), primary_key=True))
    publish_key: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    session_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    total_bytes: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    # The bytes YouTube confirmed (a 308's Range), as last saved.
    confirmed_bytes: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    session_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    sessions_opened: int = Field(default=0)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class YouTubeQuotaDay(SQLModel, table=True):
    """Quota units one Google project used on one Pacific day (Google resets at midnight in
    America/Los_Angeles). ``exhausted``: YouTube itself said quotaExceeded."""

    __tablename__ = "youtube_quota_days"

    project: str = Field(sa_column=Column(String(255), primary_key=True))
    day: str = Field(sa_column=Column(String(10), primary_key=True))
    used_units: int = Field(default=0)
    exhausted: bool = Field(default=False)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
