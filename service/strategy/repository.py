"""Every query about strategies and goals."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.strategy.models import Goal, Strategy


def get_strategy(session: Session, user_id: str) -> Strategy | None:
    return session.get(Strategy, user_id)


def goals(session: Session, user_id: str) -> list[Goal]:
    statement = select(Goal).where(Goal.user_id == user_id).order_by(col(Goal.created_at))
    return list(session.exec(statement))


def goal(session: Session, user_id: str, goal_id: str) -> Goal | None:
    found = session.get(Goal, goal_id)
    return found if found is not None and found.user_id == user_id else None


def goal_by_name(session: Session, user_id: str, name: str) -> Goal | None:
    statement = select(Goal).where(Goal.user_id == user_id, Goal.name_key == name.casefold())
    return session.exec(statement).first()


def active_accounts(session: Session, user_id: str) -> list[Account]:
    statement = (
        select(Account)
        .where(Account.user_id == user_id, col(Account.active).is_(True))
        .order_by(col(Account.created_at))
    )
    return list(session.exec(statement))


def count_active_accounts(session: Session, user_id: str) -> int:
    statement = select(func.count()).where(
        Account.user_id == user_id, col(Account.active).is_(True)
    )
    return int(session.exec(statement).one())
