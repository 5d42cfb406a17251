"""What connecting accounts keeps in the database.

* ``ConnectFlow``: one authorisation in progress. Its ``state`` is stored only as a hash, it
  is used once and expires soon; the PKCE verifier (and Facebook's Page tokens while the
  person chooses a Page) are encrypted with the credentials key. ``browser_hash`` binds it
  to the browser that started it (the signed cookie holds the matching secret).
* ``MastodonApp``: Handpost's registration on one Mastodon instance, made once and reused.
* ``AccountConnection``: per account, what the token lifecycle needs without decrypting
  anything: when the token expires, whether it can be renewed, when to renew it, and the
  lease a process holds while it renews (several replicas never renew one token twice).
* ``AccountEvent``: the account's log of connects, renewals, failures and warnings.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class FlowStatus(StrEnum):
    STARTED = "started"  # sent to the network's consent page
    EXCHANGING = "exchanging"  # back with a code, which this request is exchanging
    CHOOSING = "choosing"  # back with a Facebook user token: the person picks a Page
    DONE = "done"  # used: an account was connected, or the attempt failed


class ConnectFlow(SQLModel, table=True):
    __tablename__ = "connect_flows"
    __table_args__ = (Index("ix_connect_flows_expires_at", "expires_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("users.id"), nullable=False, index=True)
    )
    network: str = Field(max_length=16)
    # SHA-256 of the state sent to the network; the state itself is never stored.
    state_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    # SHA-256 of the secret in the browser's signed cookie.
    browser_hash: str = Field(max_length=64)
    status: str = Field(default=FlowStatus.STARTED, max_length=16)
    # The exact redirect URI sent with the authorisation, sent again with the code.
    redirect_uri: str = Field(max_length=2048)
    # {"verifier": ...} encrypted; None where the network takes no PKCE.
    verifier_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    # A Mastodon instance the person typed, normalised.
    instance_url: str | None = Field(default=None, max_length=2048)
    # Reconnecting this account (None: a new account).
    account_id: str | None = Field(
        default=None,
        sa_column=Column(String(32), ForeignKey("accounts.id", ondelete="CASCADE")),
    )
    # The new account's purpose, audience and sphere, as JSON.
    profile: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    # Facebook: the Pages to choose from, with their tokens, encrypted.
    pages_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class MastodonApp(SQLModel, table=True):
    __tablename__ = "mastodon_apps"
    __table_args__ = (
        UniqueConstraint("instance_url", "redirect_uri", name="uq_mastodon_apps_instance"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    instance_url: str = Field(max_length=2048)
    redirect_uri: str = Field(max_length=2048)
    scopes: str = Field(max_length=255)
    client_id: str = Field(max_length=255)
    # {"client_secret": ...} encrypted.
    secret_ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class AccountConnection(SQLModel, table=True):
    __tablename__ = "account_connections"
    __table_args__ = (Index("ix_account_connections_refresh_due_at", "refresh_due_at"),)

    account_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
        )
    )
    # The identity's stable id on the network (X user id, Page id, DID...): a reconnect must
    # come back with the same one.
    external_id: str | None = Field(default=None, max_length=255)
    token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    refreshable: bool = Field(default=False)
    # When the lifecycle chore should renew it (None: nothing to renew).
    refresh_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The last warning that a token which cannot be renewed is about to expire.
    expiry_warned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    connected_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    refreshed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class EventKind(StrEnum):
    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    REFRESHED = "refreshed"
    REFRESH_FAILED = "refresh_failed"  # transient: tried again later
    NEEDS_RECONNECT = "needs_reconnect"
    WARNING = "warning"


class AccountEvent(SQLModel, table=True):
    __tablename__ = "account_events"
    __table_args__ = (Index("ix_account_events_account_id_id", "account_id", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    account_id: str = Field(
        sa_column=Column(String(32), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    kind: str = Field(max_length=32)
    message: str = Field(sa_column=Column(Text, nullable=False))
