"""Every query about webhook endpoints, the outbox, deliveries and the delivery log."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert
from sqlmodel import Session, col, select

from service import leasing
from service.users.models import User
from service.webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__  # SQLModel sets it
    return table


# -- endpoints ---------------------------------------------------------------------------------


def list_endpoints(session: Session, user_id: str) -> list[WebhookEndpoint]:
    statement = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.user_id == user_id)
        .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
    )
    return list(session.exec(statement))


def lock_user(session: Session, user_id: str) -> None:
    """Hold the user's row until the transaction ends, so that a count-then-insert (the limit
    on endpoints) cannot be raced by a parallel request. SQLite serialises writers anyway."""
    session.exec(select(User.id).where(User.id == user_id).with_for_update()).first()


def count_endpoints(session: Session, user_id: str) -> int:
    statement = (
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id)
    )
    return int(session.exec(statement).one())


def get_endpoint(session: Session, user_id: str, endpoint_id: str) -> WebhookEndpoint | None:
    """The user's endpoint; another user's is as absent as a missing one."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    return endpoint if endpoint is not None and endpoint.user_id == user_id else None


def delete_endpoint(session: Session, endpoint_id: str) -> None:
    """The endpoint, and with it its deliveries and their log.

    The foreign keys cascade (SQLite enforces them too: service.db turns them on), so an
    attempt a worker records at the same moment goes as well, instead of failing the delete.
    """
    session.execute(delete(_table(WebhookEndpoint)).where(col(WebhookEndpoint.id) == endpoint_id))


def subscribed_endpoints(session: Session, user_ids: Collection[str]) -> list[WebhookEndpoint]:
    """The enabled endpoints of these users (the outbox filters them by event type)."""
    statement = select(WebhookEndpoint).where(
        col(WebhookEndpoint.user_id).in_(list(user_ids)), col(WebhookEndpoint.enabled).is_(True)
    )
    return list(session.exec(statement))


# -- the outbox --------------------------------------------------------------------------------


def add_events(
    session: Session, events: Sequence[dict[str, Any]], deliveries: Sequence[dict[str, Any]]
) -> None:
    """Insert events and their deliveries: two statements, whatever their number."""
    if events:
        session.execute(insert(_table(WebhookEvent)), list(events))
    if deliveries:
        session.execute(insert(_table(WebhookDelivery)), list(deliveries))


# -- the delivery worker -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery claimed for sending, with what sending it needs."""

    id: str
    user_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    payload: str
    url: str
    enabled: bool
    secret_ciphertext: str
    previous_secret_ciphertext: str | None
    previous_secret_until: datetime | None


def claim_due(
    session: Session, *, now: datetime, limit: int, worker: str, lease_until: datetime
) -> list[ClaimedDelivery]:
    """Take up to ``limit`` due deliveries for this worker, under a lease (service.leasing)."""
    claimed_ids = leasing.claim_due(
        session,
        WebhookDelivery,
        pending=DeliveryState.PENDING,
        now=now,
        limit=limit,
        worker=worker,
        lease_until=lease_until,
    )
    if not claimed_ids:
        return []
    statement = (
        select(WebhookDelivery, WebhookEvent.payload, WebhookEndpoint)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookDelivery.id).in_(claimed_ids))
        .order_by(col(WebhookDelivery.created_at))
        .execution_options(populate_existing=True)
    )
    return [
        ClaimedDelivery(
            id=delivery.id,
            user_id=delivery.user_id,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            attempt=delivery.attempt_count,
            payload=payload,
            url=endpoint.url,
            enabled=endpoint.enabled,
            secret_ciphertext=endpoint.secret_ciphertext,
            previous_secret_ciphertext=endpoint.previous_secret_ciphertext,
            previous_secret_until=endpoint.previous_secret_until,
        )
        for delivery, payload, endpoint in session.exec(statement)
    ]


def settle(
    session: Session, delivery_id: str, *, worker: str, attempt: int, values: dict[str, Any]
) -> bool:
    """Record an attempt's result on its delivery, if this worker's claim still holds it
    (False if another worker took it over after our lease, or the endpoint was deleted)."""
    return leasing.settle(
        session,
        WebhookDelivery,
        delivery_id,
        pending=DeliveryState.PENDING,
        worker=worker,
        attempt=attempt,
        values=values,
    )


def add_attempt(session: Session, attempt: WebhookAttempt) -> None:
    session.add(attempt)


def purge_before(session: Session, cutoff: datetime) -> int:
    """Forget settled deliveries, their log and events older than ``cutoff``; how many rows.

    Pending deliveries stay (with their events) however old: they are still to be sent.
    """
    attempts, deliveries, events = (
        _table(WebhookAttempt),
        _table(WebhookDelivery),
        _table(WebhookEvent),
    )
    removed = session.exec(delete(attempts).where(attempts.c.started_at < cutoff)).rowcount
    removed += session.exec(
        delete(deliveries).where(
            deliveries.c.state != DeliveryState.PENDING, deliveries.c.updated_at < cutoff
        )
    ).rowcount
    still_used = select(deliveries.c.event_id)
    removed += session.exec(
        delete(events).where(events.c.created_at < cutoff, events.c.id.not_in(still_used))
    ).rowcount
    return int(removed)


# -- what the API shows ------------------------------------------------------------------------


def list_attempts(
    session: Session, user_id: str, endpoint_id: str, before_id: int | None, limit: int
) -> list[WebhookAttempt]:
    """The endpoint's delivery log, newest first."""
    statement = select(WebhookAttempt).where(
        WebhookAttempt.user_id == user_id, WebhookAttempt.endpoint_id == endpoint_id
    )
    if before_id is not None:
        statement = statement.where(col(WebhookAttempt.id) < before_id)
    statement = statement.order_by(col(WebhookAttempt.id).desc()).limit(limit)
    return list(session.exec(statement))


def list_deliveries(
    session: Session,
    user_id: str,
    endpoint_id: str,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[WebhookDelivery]:
    """The endpoint's deliveries, newest first."""
    statement = select(WebhookDelivery).where(
        WebhookDelivery.user_id == user_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    if before is not None:
        created, delivery_id = before
        created_at, row_id = col(WebhookDelivery.created_at), col(WebhookDelivery.id)
        statement = statement.where(
            (created_at < created) | ((created_at == created) & (row_id < delivery_id))
        )
    statement = statement.order_by(
        col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc()
    ).limit(limit)
    return list(session.exec(statement))


def get_delivery(
    session: Session, user_id: str, endpoint_id: str, delivery_id: str
) -> WebhookDelivery | None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.user_id != user_id or delivery.endpoint_id != endpoint_id:
        return None
    return delivery


def count_pending(session: Session, endpoint_id: str) -> int:
    statement = (
        select(func.count())
        .select_from(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.state == DeliveryState.PENDING,
        )
    )
    return int(session.exec(statement).one())


def add_delivery(session: Session, delivery: WebhookDelivery) -> None:
    session.add(delivery)
