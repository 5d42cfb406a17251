"""Uploaded files and their place in posts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class MediaState(StrEnum):
    UPLOADING = "uploading"  # bytes still arriving (tus offset < length)
    READY = "ready"  # complete, checked, and usable in posts
    DELETING = "deleting"  # claimed by the clean-up; its files are being removed


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class Media(SQLModel, table=True):
    """One uploaded file: its upload's progress, then what Handpost read from its content."""

    __tablename__ = "media"
    __table_args__ = (
        Index("ix_media_user_id_created_at_id", "user_id", "created_at", "id"),
        # The clean-up's scan: files nobody used for a while.
        Index("ix_media_state_last_used_at", "state", "last_used_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), nullable=False))
    state: str = Field(default=MediaState.UPLOADING, max_length=16)
    # The name the client gave, cleaned (no path, no control characters); shown only.
    filename: str = Field(default="", max_length=255)
    alt_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    # tus: the promised length and the bytes stored durably so far.
    upload_length: int = Field(sa_column=Column(BigInteger(), nullable=False))
    upload_offset: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    # One PATCH at a time: the request holding the upload, until its lease runs out.
    lock_token: str | None = Field(default=None, max_length=32)
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Backend-specific progress (S3: the multipart upload id, its parts, the pending tail).
    upload_state: str | None = Field(default=None, sa_column=Column(Text))
    storage_key: str = Field(max_length=255)
    thumbnail_key: str | None = Field(default=None, max_length=255)
    # What the content is, decided from its bytes once complete.
    kind: str | None = Field(default=None, max_length=8)
    mime_type: str | None = Field(default=None, max_length=64)
    # The container or image format as the networks name it: jpeg, png, gif, webp, mp4, mov...
    format: str | None = Field(default=None, max_length=16)
    size_bytes: int | None = Field(default=None, sa_column=Column(BigInteger()))
    width: int | None = None
    height: int | None = None
    animated: bool = Field(default=False)
    duration_ms: int | None = Field(default=None, sa_column=Column(BigInteger()))
    frame_rate: float | None = None
    video_codec: str | None = Field(default=None, max_length=32)
    audio_codec: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # Set when it is made, attached or detached: unused media is deleted some time after.
    last_used_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1)


class PostMedia(SQLModel, table=True):
    """A post's media, in order, each with the alt text it is published with."""

    __tablename__ = "post_media"
    __table_args__ = (Index("ix_post_media_media_id", "media_id"),)

    post_id: str = Field(sa_column=Column(String(32), ForeignKey("posts.id"), primary_key=True))
    position: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    media_id: str = Field(sa_column=Column(String(32), ForeignKey("media.id"), nullable=False))
    alt_text: str = Field(default="", sa_column=Column(Text, nullable=False))


class PostMediaUpload(SQLModel, table=True):
    """One file of a post as a network has it: written the moment the network accepted the
    bytes, before the file is attached, so a retry (after a crash, a failure, a file still
    processing) reuses the upload instead of sending the file again.

    Valid only for the file and account it was made for: a post edited since (another file at
    that position) or moved to another account uploads anew, replacing the row.
    """

    __tablename__ = "post_media_uploads"
    __table_args__ = (Index("ix_post_media_uploads_media_id", "media_id"),)

    post_id: str = Field(sa_column=Column(String(32), ForeignKey("posts.id"), primary_key=True))
    position: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    media_id: str = Field(sa_column=Column(String(32), ForeignKey("media.id"), nullable=False))
    account_id: str = Field(max_length=32)
    network: str = Field(max_length=16)
    # The network's name for the upload (X media id, Mastodon attachment id, Bluesky CID).
    network_media_id: str = Field(max_length=255)
    state: str = Field(max_length=16)  # service.networks.base.UploadState
    # X's media ids expire (``expires_after_secs``); None where the network gives no expiry.
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # What the network needs besides the id (Bluesky: the blob reference).
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
