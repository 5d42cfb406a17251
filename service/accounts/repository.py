from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from service.accounts.models import Account, AccountMode, AccountStatus
from service.db import utcnow
from service.posts.models import Post


def get(session: Session, user_id: str, account_id: str) -> Account | None:
    """The user's account; another user's account is as absent as a missing one."""
    account = session.get(Account, account_id)
    return account if account is not None and account.user_id == user_id else None


def find_by_handle(session: Session, user_id: str, network: str, handle: str) -> Account | None:
    statement = select(Account).where(
        Account.user_id == user_id,
        Account.network == network,
        Account.handle_key == handle.casefold(),
    )
    return session.exec(statement).first()


def list_all(session: Session, user_id: str) -> list[Account]:
    statement = (
        select(Account)
        .where(Account.user_id == user_id)
        .order_by(col(Account.created_at), col(Account.id))
    )
    return list(session.exec(statement))


def has_posts(session: Session, account_id: str, states: Collection[str] = ()) -> bool:
    statement = select(Post.id).where(Post.account_id == account_id)
    if states:
        statement = statement.where(col(Post.state).in_(list(states)))
    statement = statement.limit(1)
    return session.exec(statement).first() is not None


def swap_credentials(
    session: Session, account_id: str, old_ciphertext: str, new_ciphertext: str
) -> bool:
    """Replace the credentials only if they are still ``old_ciphertext`` (compare-and-swap).

    A refreshed token is saved this way: if another worker refreshed first, or the user gave
    new credentials meanwhile, nothing is overwritten and the caller re-reads instead.
    """
    statement = (
        update(Account)
        .where(
            col(Account.id) == account_id,
            col(Account.credentials_ciphertext) == old_ciphertext,
        )
        .values(credentials_ciphertext=new_ciphertext)
    )
    return bool(session.exec(statement).rowcount == 1)


def mark_needs_reconnect(
    session: Session, account_id: str, ciphertext: str | None, message: str
) -> bool:
    """Flag the account for reconnection, unless its credentials changed since they failed."""
    condition = (
        col(Account.credentials_ciphertext).is_(None)
        if ciphertext is None
        else col(Account.credentials_ciphertext) == ciphertext
    )
    statement = (
        update(Account)
        .where(col(Account.id) == account_id, condition)
        .values(
            status=AccountStatus.NEEDS_RECONNECT,
            status_message=message,
            version=Account.version + 1,
            updated_at=utcnow(),
        )
    )
    return bool(session.exec(statement).rowcount == 1)


def note_status(session: Session, account_id: str, message: str) -> None:
    """Say something the person must know about a working account (YouTube's private lock);
    a reconnection clears it, as it clears a reason to reconnect."""
    session.exec(
        update(Account)
        .where(col(Account.id) == account_id, col(Account.status) == AccountStatus.ACTIVE)
        .values(status_message=message, updated_at=utcnow())
    )


def by_ids(session: Session, user_id: str, account_ids: Collection[str]) -> dict[str, Account]:
    """The user's accounts among ``account_ids``, by id (one query for a page of posts)."""
    if not account_ids:
        return {}
    statement = select(Account).where(
        Account.user_id == user_id, col(Account.id).in_(list(account_ids))
    )
    return {account.id: account for account in session.exec(statement)}


def limits_due(
    session: Session, network: str, *, checked_before: datetime, limit: int
) -> list[tuple[str, str | None]]:
    """(id, base_url) of live accounts whose server limits were last asked for too long ago."""
    statement = (
        select(Account.id, Account.base_url)
        .where(
            Account.network == network,
            Account.mode == AccountMode.LIVE,
            or_(
                col(Account.limits_checked_at).is_(None),
                col(Account.limits_checked_at) < checked_before,
            ),
        )
        .order_by(col(Account.limits_checked_at))
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.exec(statement)]


def claim_limits_check(
    session: Session, account_id: str, *, checked_before: datetime, now: datetime
) -> bool:
    """Take the account's limits check for this process: a conditional update, so of several
    replicas looking at the same moment only one asks the server."""
    statement = (
        update(Account)
        .where(
            col(Account.id) == account_id,
            or_(
                col(Account.limits_checked_at).is_(None),
                col(Account.limits_checked_at) < checked_before,
            ),
        )
        .values(limits_checked_at=now)
    )
    return bool(session.exec(statement).rowcount == 1)


def save_server_limits(
    session: Session, account_id: str, server_limits: str | None, *, checked_at: datetime
) -> None:
    statement = (
        update(Account)
        .where(col(Account.id) == account_id)
        .values(server_limits=server_limits, limits_checked_at=checked_at)
    )
    session.exec(statement)


def set_limits_checked_at(session: Session, account_id: str, checked_at: datetime) -> None:
    statement = (
        update(Account).where(col(Account.id) == account_id).values(limits_checked_at=checked_at)
    )
    session.exec(statement)
