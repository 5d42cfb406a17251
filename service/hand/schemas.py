from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from service.fields import Line, Text
from service.networks.base import Network
from service.posts.schemas import PostRead

MAX_URL = 2048


class MarkPublishedRequest(BaseModel):
    """You published the post by hand: where it is now."""

    model_config = ConfigDict(extra="forbid")

    url: Line = Field(
        max_length=MAX_URL,
        pattern=r"^https?://\S+$",
        description="The published post's address (http or https), as the network shows it.",
    )
    external_id: Line | None = Field(
        default=None, max_length=255, description="The network's id for the post, if you know it."
    )

    @field_validator("url")
    @classmethod
    def _a_web_address(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises ValueError on a port out of range)
        except ValueError:
            raise ValueError("is not a valid address") from None
        if not parts.hostname or parts.username is not None or parts.password is not None:
            raise ValueError("must name a host, without a user name or password")
        return value


class MarkSkippedRequest(BaseModel):
    """You decided not to publish the post."""

    model_config = ConfigDict(extra="forbid")

    reason: Text | None = Field(
        default=None, max_length=1000, description="Why, for your publish log."
    )


class HandAccountRead(BaseModel):
    id: str
    network: Network
    handle: str
    display_name: str | None


class HandMediaRead(BaseModel):
    """A file to attach when publishing by hand, with the alt text to give it there."""

    id: str
    filename: str
    alt_text: str
    kind: str
    mime_type: str
    size_bytes: int
    download_url: str | None = Field(
        description="A signed link to the file (valid for an hour), no token needed; null "
        "when the install has no key to sign links."
    )


class DueByHandRead(BaseModel):
    """A post waiting for you to publish it by hand, with everything that takes."""

    post: PostRead
    account: HandAccountRead
    copy_text: str = Field(description="The text to paste, with the link where it goes.")
    audience: str | None = Field(description="Where it should go: a friends list, a group...")
    composer_url: str | None = Field(
        description="The page where the network's composer opens, where one is known."
    )
    media: list[HandMediaRead] = Field(description="Files to attach, to download first.")
    missed_at: AwareDatetime | None = Field(
        description="Left neither published nor skipped by then, the post becomes missed."
    )
