from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from service.fields import Flag, Line
from service.webhooks.events import EventType
from service.webhooks.models import AttemptOutcome, DeliveryState

URL_FIELD = Field(
    min_length=1,
    max_length=2048,
    description="Where events are POSTed: an http or https address that resolves to public "
    "addresses only (unless this install allows private ones).",
)
EVENTS_FIELD = Field(
    min_length=1,
    max_length=len(EventType),
    description="The event types this endpoint receives.",
)


def _unique(events: list[EventType] | None) -> list[EventType] | None:
    return None if events is None else list(dict.fromkeys(events))


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Line = URL_FIELD
    events: list[EventType] = EVENTS_FIELD
    description: Line | None = Field(default=None, max_length=200)
    enabled: Flag = True

    _events = field_validator("events")(_unique)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Line | None = Field(default=None, min_length=1, max_length=2048)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EventType))
    description: Line | None = Field(default=None, max_length=200)
    enabled: Flag | None = None

    _events = field_validator("events")(_unique)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    events: list[EventType]
    enabled: bool
    previous_secret_until: AwareDatetime | None = Field(
        description="After a rotation, the previous secret also signs until then."
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="The signing secret (whsec_...). Shown once: store it now; it is never "
        "returned again."
    )


class SecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret, shown once.")
    previous_secret_until: AwareDatetime = Field(
        description="Until then deliveries carry a signature with the previous secret too."
    )


class EventTypeRead(BaseModel):
    type: EventType
    description: str


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: str = Field(description="The message id: the webhook-id header of every attempt.")
    event_type: str
    state: DeliveryState
    attempt_count: int
    next_attempt_at: AwareDatetime | None
    last_status: int | None
    last_error: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class DeliveryAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    started_at: AwareDatetime
    duration_ms: int
    outcome: AttemptOutcome
    response_status: int | None
    response_body: str | None = Field(description="The start of the receiver's answer.")
    error: str | None
    next_attempt_at: AwareDatetime | None = Field(description="When it is tried again, if it is.")
