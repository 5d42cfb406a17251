"""Webhook endpoints, the events written for them (the outbox), deliveries and their log.

An event is written in the same transaction as the publish-log record (or the account
change) that causes it, with one delivery per endpoint that wants it: nothing is lost if the
process dies after the commit, and publishing never waits for a receiver. The delivery
worker claims due deliveries from the database (service.webhooks.delivery).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt, or being sent under a lease
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # given up: every attempt failed, or the endpoint was disabled


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"  # failed; another attempt is scheduled
    FAILED = "failed"  # failed, and it was the last attempt


class WebhookEndpoint(SQLModel, table=True):
    """A URL a user registered, the event types it wants, and its signing secret."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("users.id"), nullable=False, index=True)
    )
    url: str = Field(max_length=2048)
    description: str | None = Field(default=None, max_length=200)
    # Event type names (service.webhooks.events.EventType); a handful, so a JSON list.
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enabled: bool = Field(default=True)
    # The signing secret (whsec_...), encrypted like network credentials; never returned
    # after it is made. After a rotation the previous one still signs for a while, beside
    # the new one, so that a receiver can switch without losing events.
    secret_ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    previous_secret_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    previous_secret_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1)


class WebhookEvent(SQLModel, table=True):
    """One message: its id (the webhook-id header) and the exact body every delivery sends."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_created_at", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), nullable=False))
    type: str = Field(max_length=64)
    # The JSON body as sent (and signed): the same bytes on every attempt.
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One event on its way to one endpoint: due, being sent (leased), delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The worker's claim: due pending deliveries, earliest first.
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), nullable=False))
    endpoint_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
        )
    )
    event_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False
        )
    )
    event_type: str = Field(max_length=64)
    state: str = Field(default=DeliveryState.PENDING, max_length=16)
    attempt_count: int = Field(default=0)
    # When the next attempt is due; while a worker sends it, the end of that worker's lease
    # (so a dead worker's delivery comes due again by itself).
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claimed_by: str | None = Field(default=None, max_length=128)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: one row per attempt to send a delivery; only ever inserted."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_attempts_delivery_id", "delivery_id"),
        Index("ix_webhook_attempts_started_at", "started_at"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), nullable=False))
    endpoint_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
        )
    )
    delivery_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False
        )
    )
    event_id: str = Field(max_length=40)
    event_type: str = Field(max_length=64)
    attempt: int
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    duration_ms: int
    outcome: str = Field(max_length=16)
    response_status: int | None = None
    # The start of the receiver's answer (a few hundred bytes), for the person debugging it.
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    worker: str | None = Field(default=None, max_length=128)
