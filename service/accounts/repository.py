from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.posts.models import Post


def get(session: Session, account_id: str) -> Account | None:
    return session.get(Account, account_id)


def find_by_handle(session: Session, network: str, handle: str) -> Account | None:
    statement = select(Account).where(
        Account.network == network, func.lower(Account.handle) == handle.lower()
    )
    return session.exec(statement).first()


def list_all(session: Session) -> list[Account]:
    return list(session.exec(select(Account).order_by(col(Account.created_at), col(Account.id))))


def has_posts(session: Session, account_id: str) -> bool:
    statement = select(Post.id).where(Post.account_id == account_id).limit(1)
    return session.exec(statement).first() is not None
