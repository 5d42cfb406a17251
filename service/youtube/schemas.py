"""A YouTube post's own fields, as the API takes and shows them (``youtube`` on a post)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.fields import AwareTimestamp, Line
from service.networks.youtube.rules import MAX_TAGS, TAGS_LIMIT


class YouTubeFields(BaseModel):
    """Tags, category and YouTube's own release time. The title is the post's ``title``, the
    description its ``text``, the privacy its ``visibility`` (public, unlisted, private)."""

    model_config = ConfigDict(extra="forbid")

    tags: list[Annotated[Line, Field(max_length=TAGS_LIMIT)]] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description=f"At most {TAGS_LIMIT} characters in all, as YouTube counts them (commas "
        "between tags, quotation marks around a tag with a space), less the room Handpost "
        "keeps for its own tag (GET /networks).",
    )
    category_id: Line | None = Field(
        default=None,
        max_length=8,
        description="A YouTube category id, e.g. 22 (People & Blogs, the default), 27 "
        "(Education), 28 (Science & Technology).",
    )
    publish_at: AwareTimestamp | None = Field(
        default=None,
        description="When YouTube itself makes the video public (status.publishAt). Only "
        "with visibility private; after the post's own time, when the upload happens.",
    )


class YouTubeFieldsRead(BaseModel):
    tags: list[str]
    category_id: str | None
    publish_at: AwareDatetime | None
    upload: YouTubeUploadRead | None = Field(
        default=None, description="How far the video's upload got (live accounts)."
    )


class YouTubeUploadRead(BaseModel):
    """The video's upload as the database has it; the session itself is never shown."""

    total_bytes: int
    confirmed_bytes: int = Field(description="The bytes YouTube confirmed so far.")
    in_progress: bool = Field(description="A session is open, to be continued.")
    sessions_opened: int = Field(
        description="Upload sessions started; more than one means YouTube forgot one (after "
        "about a week) and the channel was searched before starting again."
    )


YouTubeFieldsRead.model_rebuild()
