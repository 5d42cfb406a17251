from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.networks.base import Network
from service.publishing.models import Outcome


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    post_id: str
    account_id: str
    network: Network
    attempt: int
    due_at: AwareDatetime
    started_at: AwareDatetime
    finished_at: AwareDatetime
    duration_ms: int
    lateness_ms: int = Field(description="How long after its due time the attempt started.")
    outcome: Outcome
    http_status: int | None
    message: str | None
    external_id: str | None
    external_url: str | None
    request: dict[str, Any] | None = Field(
        description="The request sent (in the sandbox: that would have been sent), secrets removed."
    )
    worker: str | None
    marked_by: str | None = Field(
        default=None,
        description="Who marked the post published or skipped by hand (or resolved it); "
        "null for the dispatcher's own attempts.",
    )
