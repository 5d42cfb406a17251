from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.fields import Line

# A plain address: one @, no spaces, quotes, angle brackets or commas (nothing a header could
# be made to carry), a dot in the domain. RFC 5321 allows 254 characters in all.
EMAIL_PATTERN = r"^[^@\s<>,;:\"()\[\]\\]{1,64}@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$"


class NotificationSettingsUpdate(BaseModel):
    """Where to be told when a post you publish by hand is due; null turns a channel off."""

    model_config = ConfigDict(extra="forbid")

    email: Line | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    push_url: Line | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://\S+$",
        description="An ntfy topic (https://ntfy.sh/your-secret-topic) or any address that "
        "takes a POST of plain text; the title goes in the Title header, the link in Click.",
    )


class NotificationSettingsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str | None = None
    push_url: str | None = None
    email_available: bool = Field(
        description="Whether this install can send email (HANDPOST_SMTP_HOST is set)."
    )
    updated_at: datetime | None = None
