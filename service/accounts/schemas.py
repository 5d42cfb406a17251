from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.accounts.limits import limits_of
from service.accounts.models import Account, AccountMode, AccountStatus
from service.fields import Flag, Language, Line, Text
from service.networks.base import Network
from service.omittable import omittable
from service.strategy.value import Sphere


def _strip_required(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# A network's credentials are a handful of named tokens; anything bigger is not credentials.
CredentialName = Annotated[Line, Field(min_length=1, max_length=64)]
CredentialValue = Annotated[Line, Field(max_length=8192)]
Credentials = dict[CredentialName, CredentialValue]
MAX_CREDENTIALS = 32

CREDENTIALS_DESCRIPTION = (
    "Write-only network credentials, required for live accounts: X access_token, "
    "refresh_token, client_id, username (client_secret, user_id optional); LinkedIn "
    "access_token and author_urn or member_id (refresh_token, client_id, client_secret "
    "optional); Facebook page_access_token; Mastodon access_token; Bluesky identifier and "
    "app_password; Threads access_token and user_id; WordPress username and "
    "application_password; Ghost admin_api_key (id:secret). Stored encrypted, never returned."
)


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: Network
    handle: Line = Field(min_length=1, max_length=255, description="Username, page id, DID...")
    display_name: Line | None = Field(default=None, max_length=255)
    purpose: Text = Field(
        min_length=1, max_length=1000, description="Why you use this network, e.g. 'professionals'."
    )
    audience: Text = Field(
        min_length=1, max_length=1000, description="Who reads you there, e.g. 'family and friends'."
    )
    sphere: Sphere | None = Field(
        default=None,
        description="Which use of social media the account serves: family_and_friends, "
        "colleagues, society or professionals.",
    )
    mode: AccountMode = AccountMode.SANDBOX
    base_url: Line | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="API base URL: a Mastodon instance, a Bluesky PDS, a WordPress or Ghost "
        "site (required for blogs), or a test server.",
    )
    credentials: Credentials | None = Field(
        default=None,
        max_length=MAX_CREDENTIALS,
        description=CREDENTIALS_DESCRIPTION,
        json_schema_extra={"writeOnly": True},
    )
    language: Language | None = Field(
        default=None,
        max_length=35,
        description="The language you write in here (BCP 47, e.g. en, fi, pt-BR); a post "
        "without its own language is sent with this one.",
    )

    _strip = field_validator("handle", "purpose", "audience")(_strip_required)


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: Line | None = Field(default=None, max_length=255)
    purpose: Text = omittable(min_length=1, max_length=1000)
    audience: Text = omittable(min_length=1, max_length=1000)
    sphere: Sphere | None = Field(
        default=None,
        description="Which use of social media the account serves: family_and_friends, "
        "colleagues, society or professionals.",
    )
    active: Flag = omittable(
        description="false takes the account out of your handful (its posts and log stay).",
    )
    mode: AccountMode = omittable()
    base_url: Line | None = Field(
        default=None, max_length=2048, pattern=r"^https?://[^\s/]+(/[^\s]*)?$"
    )
    credentials: Credentials | None = Field(
        default=None,
        max_length=MAX_CREDENTIALS,
        description=CREDENTIALS_DESCRIPTION + " New credentials reconnect an account that "
        "needs it; null removes them (sandbox accounts only).",
        json_schema_extra={"writeOnly": True},
    )
    language: Language | None = Field(
        default=None, max_length=35, description="BCP 47; null: posts say their own language."
    )

    _strip = field_validator("purpose", "audience")(_strip_required)


class ServerLimitsRead(BaseModel):
    """What the account's server allows, as it said (Mastodon's instance configuration)."""

    max_characters: int | None
    characters_reserved_per_url: int | None
    max_media_attachments: int | None
    media: dict[str, Any]


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    network: Network
    handle: str
    display_name: str | None
    purpose: str
    audience: str
    sphere: Sphere | None = None
    active: bool = True
    mode: AccountMode
    base_url: str | None
    status: AccountStatus
    # Why the account needs reconnecting, in the network's own words; on a working account,
    # what the network does to its posts (YouTube: uploads locked to private).
    status_message: str | None = None
    # Whether credentials are stored; the credentials themselves are never returned.
    has_credentials: bool = False
    language: str | None = None
    limits: ServerLimitsRead | None = Field(
        default=None,
        description="The limits the account's server reported (live Mastodon accounts: "
        "read when connected, refreshed daily); null where the network's own apply.",
    )
    limits_checked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int

    @model_validator(mode="before")
    @classmethod
    def _from_account(cls, data: Any) -> Any:
        # Read field by field, so that the ciphertext can never end up in a response.
        if isinstance(data, Account):
            values = {name: getattr(data, name) for name in cls.model_fields if hasattr(data, name)}
            values["has_credentials"] = data.credentials_ciphertext is not None
            limits = limits_of(data)
            values["limits"] = limits.as_json() if limits is not None else None
            return values
        return data
