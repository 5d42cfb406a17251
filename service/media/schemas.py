from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.fields import Line, Text

# Far above every network's alt-text limit (Mastodon 1,500); each network's own is checked
# when the medium is attached to a post for it.
MAX_ALT_TEXT = 5000
# The largest carousel any network takes (Threads, LinkedIn).
MAX_MEDIA_PER_POST = 20


class MediaRead(BaseModel):
    """An uploaded file and what Handpost read from its content."""

    id: str
    state: Literal["uploading", "ready"]
    filename: str
    alt_text: str
    kind: Literal["image", "video"] | None
    mime_type: str | None
    format: str | None = Field(description="jpeg, png, gif, webp, mp4, mov or webm.")
    size_bytes: int | None
    width: int | None
    height: int | None
    animated: bool
    duration_ms: int | None
    frame_rate: float | None
    video_codec: str | None
    audio_codec: str | None
    upload_length: int
    upload_offset: int
    thumbnail_url: str | None = Field(
        description="A small JPEG for the page: a signed, expiring link under /m/."
    )
    content_url: str = Field(description="The file itself (needs your token).")
    created_at: AwareDatetime
    version: int


class MediaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alt_text: Text = Field(
        max_length=MAX_ALT_TEXT,
        description="What the image or video shows, for people who cannot see it.",
    )


class PublicUrlRead(BaseModel):
    url: str = Field(description="Anyone with this URL can fetch the file until it expires.")
    expires_at: AwareDatetime


class PostMediaIn(BaseModel):
    """One file attached to a post, in order."""

    model_config = ConfigDict(extra="forbid")

    media_id: Line = Field(max_length=64)
    alt_text: Text | None = Field(
        default=None,
        max_length=MAX_ALT_TEXT,
        description="Alt text for this post; the medium's own alt text when omitted.",
    )


class PostMediaRead(BaseModel):
    media_id: str
    position: int
    alt_text: str
    kind: str
    format: str
    mime_type: str
    filename: str
    size_bytes: int
    width: int
    height: int
    duration_ms: int | None
    thumbnail_url: str | None
