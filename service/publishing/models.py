from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class Outcome(StrEnum):
    PUBLISHED = "published"
    FAILED = "failed"  # permanent: the network refused, or the guard did
    RETRYING = "retrying"  # a transient error; another attempt is scheduled
    UNKNOWN = "unknown"  # may or may not have gone out; the user must resolve it
    MISSED = "missed"  # reached too long after its time to be worth sending
    DUE = "due"  # handed to the person to publish by hand (service.hand)
    SKIPPED = "skipped"  # the person chose not to publish it by hand


class PublishAttempt(SQLModel, table=True):
    """One row per publish attempt; rows are only ever inserted, never changed."""

    __tablename__ = "publish_attempts"
    __table_args__ = (
        Index("ix_publish_attempts_user_id_id", "user_id", "id"),
        Index("ix_publish_attempts_account_id_id", "account_id", "id"),
        Index("ix_publish_attempts_post_id_id", "post_id", "id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), nullable=False))
    post_id: str = Field(sa_column=Column(String(32), ForeignKey("posts.id"), nullable=False))
    account_id: str = Field(max_length=32)
    network: str = Field(max_length=16)
    attempt: int
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    duration_ms: int
    outcome: str = Field(max_length=16, index=True)
    http_status: int | None = None
    message: str | None = Field(default=None, sa_column=Column(Text))
    external_id: str | None = Field(default=None, max_length=255)
    external_url: str | None = Field(default=None, max_length=2048)
    # What was (or in the sandbox, would have been) sent, without secrets.
    request: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    worker: str | None = Field(default=None, max_length=128)
    # The user who marked a post published or skipped by hand; None for the dispatcher's work.
    marked_by: str | None = Field(default=None, max_length=64)
