from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class IdempotencyRecord(SQLModel, table=True):
    """A request made with an ``Idempotency-Key``, and the answer it got.

    Written twice: ``running`` (committed at once, so that a concurrent retry sees it), then
    ``done`` with the response, in the same transaction as the request's own writes, so the
    answer is stored exactly when what it describes exists.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("users.id"), primary_key=True, nullable=False)
    )
    key: str = Field(sa_column=Column(String(255), primary_key=True, nullable=False))
    # SHA-256 of the method, the path and the canonical JSON body.
    request_hash: str = Field(max_length=64)
    state: str = Field(max_length=16)  # "running" or "done"
    # A running request that died holds its key only this long.
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    status_code: int | None = Field(default=None)
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    # JSON object of the headers worth repeating (Location, ETag).
    response_headers: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
