from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from service.fields import Line, Text
from service.networks.base import Network
from service.strategy.value import Sphere


class FlowNetwork(StrEnum):
    """Networks connected by a redirect to their consent page (Bluesky has its own form)."""

    X = "x"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"
    THREADS = "threads"
    YOUTUBE = "youtube"
    MASTODON = "mastodon"
    WORDPRESS = "wordpress"


class Profile(BaseModel):
    """What the new account is for; not needed when reconnecting one."""

    model_config = ConfigDict(extra="forbid")

    purpose: Text | None = Field(default=None, min_length=1, max_length=1000)
    audience: Text | None = Field(default=None, min_length=1, max_length=1000)
    sphere: Sphere | None = None
    account_id: Line | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        pattern=r"^[0-9a-f]{1,32}$",
        description="Reconnect this account instead of adding one: it keeps its posts, "
        "history and schedule, and must come back as the same identity.",
    )


class FlowStart(Profile):
    network: FlowNetwork
    instance: Line | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="Mastodon: your instance, such as fosstodon.org.",
    )
    site: Line | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="WordPress: your site's address, such as blog.example.com.",
    )


class FlowStarted(BaseModel):
    flow_id: str
    authorize_url: str = Field(description="Send the browser here; it comes back to Handpost.")
    expires_at: datetime


class PageOption(BaseModel):
    id: str
    name: str


class FlowRead(BaseModel):
    id: str
    network: Network
    status: str
    expires_at: datetime
    pages: list[PageOption] = Field(
        default_factory=list, description="Facebook: the Pages to choose from."
    )


class PageChosen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page_id: Line = Field(min_length=1, max_length=64, pattern=r"^[0-9]{1,64}$")


class BlueskyConnect(Profile):
    handle: Line = Field(
        min_length=1, max_length=253, description="Your handle, e.g. alice.bsky.social."
    )
    app_password: Line = Field(
        min_length=1,
        max_length=128,
        description="An app password (Settings → Privacy and security → App passwords), "
        "never your account password. Stored encrypted, never returned.",
        json_schema_extra={"writeOnly": True},
    )


class GhostConnect(Profile):
    site: Line = Field(
        min_length=1, max_length=2048, description="Your site's address, e.g. blog.example.com."
    )
    admin_api_key: Line = Field(
        min_length=1,
        max_length=512,
        description="A custom integration's Admin API key, id:secret (Settings → "
        "Integrations). Stored encrypted, never returned.",
        json_schema_extra={"writeOnly": True},
    )


class ConnectNetworkRead(BaseModel):
    network: Network
    display_name: str
    kind: str = Field(
        description="oauth, instance (Mastodon), site (WordPress), app_password (Bluesky) or "
        "admin_key (Ghost)."
    )
    configured: bool = Field(description="False: the server has no app credentials for it.")
    redirect_uri: str | None = Field(description="Register exactly this with the network's app.")
    scopes: list[str]
    docs_url: str
    notes: str


class ConnectionRead(BaseModel):
    account_id: str
    external_id: str | None
    connected_at: datetime | None
    refreshed_at: datetime | None
    token_expires_at: datetime | None
    refreshable: bool
    access_ends_at: datetime | None = Field(
        description="When the access ends for good (it cannot be renewed): reconnect before."
    )


class AccountEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    message: str
