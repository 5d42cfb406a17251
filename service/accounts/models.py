from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class AccountMode(StrEnum):
    SANDBOX = "sandbox"  # records exactly what would be sent, sends nothing
    LIVE = "live"
    # No publishing API (a personal Facebook profile, a group...): at the post's time the
    # person is notified and publishes it by hand (service.hand).
    HAND = "hand"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"


class Account(SQLModel, table=True):
    """One connected network identity, with the purpose it serves for its owner."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "network", "handle_key", name="uq_accounts_user_network_handle"
        ),
        # The daily chore finds the live accounts whose server limits are due for a look.
        Index("ix_accounts_network_limits_checked_at", "network", "limits_checked_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("users.id"), nullable=False, index=True)
    )
    network: str = Field(max_length=16)
    handle: str = Field(max_length=255)
    # The handle casefolded in Python: SQL's lower() folds only ASCII on SQLite.
    handle_key: str = Field(max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    purpose: str = Field(max_length=1000)
    # Which of the essays' four uses the account serves (see service.strategy.value.Sphere).
    sphere: str | None = Field(default=None, max_length=32)
    audience: str = Field(max_length=1000)
    mode: str = Field(default=AccountMode.SANDBOX, max_length=16)
    base_url: str | None = Field(default=None, max_length=2048)
    status: str = Field(default=AccountStatus.ACTIVE, max_length=32)
    # Part of the user's chosen handful; an inactive account keeps its posts and log.
    active: bool = Field(default=True)
    # Why the account needs reconnecting, in the network's own words where it gave any.
    status_message: str | None = Field(default=None, sa_column=Column(Text))
    # Network tokens, encrypted with the service's key; never returned by the API nor logged.
    credentials_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    # The language the account writes in (BCP 47); a post without its own uses this one.
    language: str | None = Field(default=None, max_length=35)
    # What the account's server allows, as it said (JSON of networks.base.ServerLimits):
    # Mastodon's instance limits, read when the account is connected and refreshed daily.
    server_limits: str | None = Field(default=None, sa_column=Column(Text))
    # When the server's limits were last asked for (or claimed for asking, by one replica).
    limits_checked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1)
