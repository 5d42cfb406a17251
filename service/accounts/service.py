"""Accounts: the handful of networks a person chose, each with its purpose and audience."""

from __future__ import annotations

from sqlmodel import Session

from service.accounts import repository
from service.accounts.models import Account
from service.accounts.schemas import AccountCreate, AccountUpdate
from service.db import utcnow
from service.problems import ProblemError, not_found


def get_or_404(session: Session, account_id: str) -> Account:
    account = repository.get(session, account_id)
    if account is None:
        raise not_found("account", account_id)
    return account


def create(session: Session, data: AccountCreate) -> Account:
    if repository.find_by_handle(session, data.network, data.handle) is not None:
        raise ProblemError(
            409,
            "account-exists",
            "Account already connected",
            f"A {data.network.value} account with handle {data.handle!r} is already connected.",
        )
    account = Account(**data.model_dump())
    session.add(account)
    session.flush()
    return account


def update(session: Session, account: Account, data: AccountUpdate) -> Account:
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name in ("purpose", "audience", "mode"):
            raise ProblemError(
                422, "validation-error", "The request is not valid", f"{name} cannot be null."
            )
        setattr(account, name, value)
    account.updated_at = utcnow()
    account.version += 1
    session.add(account)
    session.flush()
    return account


def delete(session: Session, account: Account) -> None:
    """Only an account without posts can go: its posts and their log are never thrown away."""
    if repository.has_posts(session, account.id):
        raise ProblemError(
            409,
            "account-has-posts",
            "Account has posts",
            "This account has posts, and deleting it would delete them and their publish log. "
            "Cancel its scheduled posts instead; the account stays for the record.",
        )
    session.delete(account)
    session.flush()
