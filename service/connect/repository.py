"""Every query of connecting accounts: flows, Mastodon registrations, connections, events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service.accounts import repository as accounts
from service.accounts.models import Account, AccountMode, AccountStatus
from service.connect.models import (
    AccountConnection,
    AccountEvent,
    ConnectFlow,
    FlowStatus,
    MastodonApp,
)

# --- flows ---------------------------------------------------------------------------------


def flow_by_state(session: Session, state_hash: str) -> ConnectFlow | None:
    return session.exec(select(ConnectFlow).where(ConnectFlow.state_hash == state_hash)).first()


def flow_of_user(session: Session, user_id: str, flow_id: str) -> ConnectFlow | None:
    flow = session.get(ConnectFlow, flow_id)
    return flow if flow is not None and flow.user_id == user_id else None


def take_flow(
    session: Session, flow_id: str, from_status: str, to_status: str, now: datetime
) -> bool:
    """Move a live flow on (compare-and-set): of two requests with one state, one wins."""
    statement = (
        update(ConnectFlow)
        .where(
            col(ConnectFlow.id) == flow_id,
            col(ConnectFlow.status) == from_status,
            col(ConnectFlow.expires_at) > now,
        )
        .values(status=to_status, finished_at=now if to_status == FlowStatus.DONE else None)
    )
    return bool(session.exec(statement).rowcount == 1)


def move_flow(
    session: Session, flow_id: str, from_status: str, to_status: str, now: datetime
) -> bool:
    """Finish a flow this request holds (no expiry check: it was taken in time)."""
    statement = (
        update(ConnectFlow)
        .where(col(ConnectFlow.id) == flow_id, col(ConnectFlow.status) == from_status)
        .values(status=to_status, finished_at=now if to_status == FlowStatus.DONE else None)
    )
    return bool(session.exec(statement).rowcount == 1)


def open_flows(session: Session, user_id: str, now: datetime) -> tuple[int, datetime | None]:
    """How many of the user's flows are under way, and when the first of them expires."""
    statement = select(func.count(), func.min(ConnectFlow.expires_at)).where(
        col(ConnectFlow.user_id) == user_id,
        col(ConnectFlow.status).in_([FlowStatus.STARTED, FlowStatus.CHOOSING]),
        col(ConnectFlow.expires_at) > now,
    )
    count, first_expiry = session.exec(statement).one()
    if first_expiry is not None and first_expiry.tzinfo is None:  # func.min skips the column type
        first_expiry = first_expiry.replace(tzinfo=UTC)
    return int(count), first_expiry


def offer_pages(session: Session, flow_id: str, ciphertext: str, expires_at: datetime) -> None:
    statement = (
        update(ConnectFlow)
        .where(col(ConnectFlow.id) == flow_id)
        .values(pages_ciphertext=ciphertext, expires_at=expires_at)
    )
    session.exec(statement)


def forget_pages(session: Session, flow_id: str) -> None:
    session.exec(
        update(ConnectFlow).where(col(ConnectFlow.id) == flow_id).values(pages_ciphertext=None)
    )


def delete_flows_expired_before(session: Session, moment: datetime) -> int:
    result = session.exec(delete(ConnectFlow).where(col(ConnectFlow.expires_at) < moment))
    return int(result.rowcount or 0)


# --- Mastodon registrations ------------------------------------------------------------------


def mastodon_app(session: Session, instance_url: str, redirect_uri: str) -> MastodonApp | None:
    statement = select(MastodonApp).where(
        MastodonApp.instance_url == instance_url, MastodonApp.redirect_uri == redirect_uri
    )
    return session.exec(statement).first()


# --- connections -------------------------------------------------------------------------


def connection(session: Session, account_id: str) -> AccountConnection | None:
    return session.get(AccountConnection, account_id)


def account_of_identity(
    session: Session, user_id: str, network: str, external_id: str, handle: str
) -> Account | None:
    """The user's account that already is this identity: by its stable id, else its handle."""
    statement = (
        select(Account)
        .join(AccountConnection, col(AccountConnection.account_id) == col(Account.id))
        .where(
            Account.user_id == user_id,
            Account.network == network,
            AccountConnection.external_id == external_id,
        )
    )
    found = session.exec(statement).first()
    if found is not None:
        return found
    return accounts.find_by_handle(session, user_id, network, handle)


def connections_of_user(session: Session, user_id: str) -> list[AccountConnection]:
    statement = (
        select(AccountConnection)
        .join(Account, col(Account.id) == col(AccountConnection.account_id))
        .where(Account.user_id == user_id)
    )
    return list(session.exec(statement))


def ensure_connection(session: Session, account_id: str) -> None:
    """The account's connection row, inserted if missing (safe when two insert at once)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(AccountConnection).values(account_id=account_id, refreshable=False)
    session.execute(statement.on_conflict_do_nothing(index_elements=["account_id"]))


def set_token_state(session: Session, account_id: str, **values: Any) -> None:
    """Update the connection's token facts (expiry, renewability, next renewal...)."""
    ensure_connection(session, account_id)
    session.exec(
        update(AccountConnection)
        .where(col(AccountConnection.account_id) == account_id)
        .values(**values)
    )


def accounts_due_for_renewal(session: Session, now: datetime, limit: int) -> list[str]:
    """Live, connected accounts whose token should be renewed now and that nobody renews."""
    statement = (
        select(AccountConnection.account_id)
        .join(Account, col(Account.id) == col(AccountConnection.account_id))
        .where(
            col(AccountConnection.refresh_due_at) <= now,
            col(AccountConnection.refreshable).is_(True),
            _lease_free(now),
            col(Account.mode) == AccountMode.LIVE,
            col(Account.status) == AccountStatus.ACTIVE,
            col(Account.credentials_ciphertext).is_not(None),
        )
        .order_by(col(AccountConnection.refresh_due_at))
        .limit(limit)
    )
    return list(session.exec(statement))


def _lease_free(now: datetime) -> Any:
    return or_(
        col(AccountConnection.lease_until).is_(None), col(AccountConnection.lease_until) < now
    )


def claim_renewal(
    session: Session,
    account_id: str,
    owner: str,
    until: datetime,
    now: datetime,
    *,
    only_if_due: bool,
) -> bool:
    """Take the account's renewal lease (a conditional update: one process wins)."""
    conditions = [col(AccountConnection.account_id) == account_id, _lease_free(now)]
    if only_if_due:
        conditions.append(col(AccountConnection.refresh_due_at) <= now)
    statement = (
        update(AccountConnection).where(*conditions).values(lease_owner=owner, lease_until=until)
    )
    return bool(session.exec(statement).rowcount == 1)


def release_renewal(session: Session, account_id: str, owner: str, **values: Any) -> None:
    """Give the lease back (if still ours), updating ``values`` with it."""
    session.exec(
        update(AccountConnection)
        .where(
            col(AccountConnection.account_id) == account_id,
            col(AccountConnection.lease_owner) == owner,
        )
        .values(lease_owner=None, lease_until=None, **values)
    )


def renewal_lease(session: Session, account_id: str) -> tuple[str | None, datetime | None]:
    found = session.get(AccountConnection, account_id)
    return (found.lease_owner, found.lease_until) if found is not None else (None, None)


def unrenewable_expiring(
    session: Session, before: datetime, warned_before: datetime
) -> list[tuple[AccountConnection, Account]]:
    """Live accounts whose token ends before ``before``, cannot be renewed, and whose owner
    was not warned since ``warned_before``."""
    statement = (
        select(AccountConnection, Account)
        .join(Account, col(Account.id) == col(AccountConnection.account_id))
        .where(
            col(AccountConnection.refreshable).is_(False),
            col(AccountConnection.token_expires_at) <= before,
            or_(
                col(AccountConnection.expiry_warned_at).is_(None),
                col(AccountConnection.expiry_warned_at) < warned_before,
            ),
            col(Account.mode) == AccountMode.LIVE,
            col(Account.status) == AccountStatus.ACTIVE,
        )
    )
    return [(c, a) for c, a in session.exec(statement)]


def claim_warning(
    session: Session, account_id: str, now: datetime, warned_before: datetime
) -> bool:
    """Note an expiry warning unless one was given since ``warned_before`` (one replica wins)."""
    statement = (
        update(AccountConnection)
        .where(
            col(AccountConnection.account_id) == account_id,
            or_(
                col(AccountConnection.expiry_warned_at).is_(None),
                col(AccountConnection.expiry_warned_at) < warned_before,
            ),
        )
        .values(expiry_warned_at=now)
    )
    return bool(session.exec(statement).rowcount == 1)


def access_ends(session: Session, user_id: str) -> dict[str, datetime]:
    """Per live account of the user: when its access ends for good (no renewal possible)."""
    statement = (
        select(AccountConnection.account_id, AccountConnection.token_expires_at)
        .join(Account, col(Account.id) == col(AccountConnection.account_id))
        .where(
            Account.user_id == user_id,
            col(Account.mode) == AccountMode.LIVE,
            col(AccountConnection.refreshable).is_(False),
            col(AccountConnection.token_expires_at).is_not(None),
        )
    )
    return {account_id: ends for account_id, ends in session.exec(statement) if ends}


# --- events --------------------------------------------------------------------------------


def add_event(session: Session, account_id: str, kind: str, message: str, at: datetime) -> None:
    session.add(AccountEvent(account_id=account_id, kind=kind, message=message, at=at))


def events_of(
    session: Session, account_id: str, limit: int, before_id: int | None = None
) -> Sequence[AccountEvent]:
    statement = select(AccountEvent).where(AccountEvent.account_id == account_id)
    if before_id is not None:
        statement = statement.where(col(AccountEvent.id) < before_id)
    statement = statement.order_by(col(AccountEvent.id).desc()).limit(limit)
    return list(session.exec(statement))


def delete_events_before(session: Session, moment: datetime) -> int:
    result = session.exec(delete(AccountEvent).where(col(AccountEvent.at) < moment))
    return int(result.rowcount or 0)
