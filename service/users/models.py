from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class User(SQLModel, table=True):
    """A person on this install; everything else belongs to exactly one user."""

    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # Stored lower-case: "Ada" and "ada" are one user.
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ApiToken(SQLModel, table=True):
    """A bearer token: a login session, or a personal token for scripts. Only its hash is kept."""

    __tablename__ = "api_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("users.id"), nullable=False, index=True)
    )
    kind: str = Field(max_length=16)  # "session" or "personal"
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters, shown so a user can tell their tokens apart.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class LoginThrottle(SQLModel, table=True):
    """Failed logins per username and per client address, shared by every replica."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=160)
    failures: int = Field(default=0)
    window_started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
