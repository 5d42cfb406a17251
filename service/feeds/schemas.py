from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field


class CalendarFeedRead(BaseModel):
    created_at: AwareDatetime = Field(description="When this address was made (or rotated).")
    last_fetched_at: AwareDatetime | None = Field(
        description="When a calendar application last fetched the feed (to the minute)."
    )


class CalendarFeedCreated(CalendarFeedRead):
    url: str = Field(
        description="The feed's private address. Shown once: only a hash of its secret is "
        "kept. Anyone with it can read your schedule; rotate it if it leaks."
    )
    webcal_url: str = Field(description="The same address as webcal://, to subscribe in one click.")
