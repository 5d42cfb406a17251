from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.accounts.models import AccountMode, AccountStatus
from service.networks.base import Network


def _strip_required(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: Network
    handle: str = Field(min_length=1, max_length=255, description="Username, page id, DID...")
    display_name: str | None = Field(default=None, max_length=255)
    purpose: str = Field(
        min_length=1, max_length=1000, description="Why you use this network, e.g. 'professionals'."
    )
    audience: str = Field(
        min_length=1, max_length=1000, description="Who reads you there, e.g. 'family and friends'."
    )
    mode: AccountMode = AccountMode.SANDBOX
    base_url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="API base URL: a Mastodon instance, a Bluesky PDS, or a test server.",
    )

    _strip = field_validator("handle", "purpose", "audience")(_strip_required)


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=255)
    purpose: str | None = Field(default=None, min_length=1, max_length=1000)
    audience: str | None = Field(default=None, min_length=1, max_length=1000)
    mode: AccountMode | None = None
    base_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")

    @field_validator("purpose", "audience")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        return None if value is None else _strip_required(value)


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    network: Network
    handle: str
    display_name: str | None
    purpose: str
    audience: str
    mode: AccountMode
    base_url: str | None
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    version: int
