"""The strategy the essays ask for: goals, a handful of networks, reviews every few months."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.accounts import repository as accounts_repository
from service.connect import repository as connections_repository
from service.db import utcnow
from service.problems import ProblemError, invalid, not_found
from service.strategy import repository
from service.strategy.models import Goal, Strategy
from service.strategy.schemas import (
    GoalCreate,
    GoalRead,
    GoalUpdate,
    StrategyNetwork,
    StrategyRead,
    StrategyUpdate,
)
from service.users.models import User


@dataclass(frozen=True)
class ValueContext:
    """What the value checks need to know about a user, loaded once per request."""

    goals: list[str]
    require_goal: bool
    spheres: dict[str, str | None] = field(default_factory=dict)
    # Per live account whose access cannot be renewed: when it ends (LinkedIn's 60 days).
    access_ends: dict[str, datetime] = field(default_factory=dict)


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def current(session: Session, user: User) -> Strategy:
    """The user's strategy; the defaults until they change something (nothing is written)."""
    return repository.get_strategy(session, user.id) or Strategy(
        user_id=user.id, created_at=user.created_at, updated_at=user.created_at
    )


def read(session: Session, user: User, max_active_accounts: int) -> StrategyRead:
    strategy = current(session, user)
    goals = repository.goals(session, user.id)
    accounts = repository.active_accounts(session, user.id)
    base = strategy.last_reviewed_at or strategy.created_at
    next_review = add_months(base, strategy.review_interval_months)
    advice: list[str] = []
    if not goals:
        advice.append(
            "Write down your goals, what you want from social media: building relationships, "
            "advancing "
            "your cause, building your personal brand. Every post then says which goal it serves."
        )
    if not accounts:
        advice.append("Choose a handful of networks, each for a purpose, and connect them.")
    for account in accounts:
        if account.sphere is None:
            advice.append(
                f"Say what your {account.network} account {account.handle!r} is for: family "
                "and friends, colleagues, society or professionals."
            )
    return StrategyRead(
        goals=[GoalRead.model_validate(g) for g in goals],
        networks=[
            StrategyNetwork.model_validate({**a.model_dump(), "account_id": a.id}) for a in accounts
        ],
        max_active_accounts=max_active_accounts,
        review_interval_months=strategy.review_interval_months,
        require_goal=strategy.require_goal,
        last_reviewed_at=strategy.last_reviewed_at,
        review_notes=strategy.review_notes,
        next_review_at=next_review,
        review_due=utcnow() >= next_review,
        advice=advice,
    )


def _stored(session: Session, user: User) -> Strategy:
    strategy = repository.get_strategy(session, user.id)
    if strategy is None:
        strategy = Strategy(user_id=user.id, created_at=user.created_at, updated_at=utcnow())
        session.add(strategy)
    return strategy


def update(session: Session, user: User, data: StrategyUpdate) -> None:
    strategy = _stored(session, user)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(strategy, name, value)
    strategy.updated_at = utcnow()
    strategy.version += 1
    session.flush()


def review(session: Session, user: User, notes: str | None) -> None:
    """The six-monthly review: who you follow, what you communicate, even which networks."""
    strategy = _stored(session, user)
    strategy.last_reviewed_at = utcnow()
    strategy.review_notes = notes
    strategy.updated_at = strategy.last_reviewed_at
    strategy.version += 1
    session.flush()


def _goal_taken(name: str) -> ProblemError:
    return ProblemError(409, "goal-exists", "Goal exists", f"You already have a goal {name!r}.")


def _goal_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise invalid("A goal needs a name.")
    return name


def create_goal(session: Session, user: User, data: GoalCreate) -> Goal:
    name = _goal_name(data.name)
    if repository.goal_by_name(session, user.id, name) is not None:
        raise _goal_taken(name)
    goal = Goal(user_id=user.id, name=name, name_key=name.casefold(), description=data.description)
    session.add(goal)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _goal_taken(name) from exc
    return goal


def goal_or_404(session: Session, user: User, goal_id: str) -> Goal:
    goal = repository.goal(session, user.id, goal_id)
    if goal is None:
        raise not_found("goal", goal_id)
    return goal


def update_goal(session: Session, user: User, goal: Goal, data: GoalUpdate) -> Goal:
    if "name" in data.model_fields_set:
        name = _goal_name(data.name)
        other = repository.goal_by_name(session, user.id, name)
        if other is not None and other.id != goal.id:
            raise _goal_taken(name)
        goal.name, goal.name_key = name, name.casefold()
    if "description" in data.model_fields_set:
        goal.description = data.description
    session.add(goal)
    session.flush()
    return goal


def delete_goal(session: Session, goal: Goal) -> None:
    """Posts keep the goal's name as written; only future posts can no longer choose it."""
    session.delete(goal)
    session.flush()


def value_context(session: Session, user: User) -> ValueContext:
    return ValueContext(
        goals=[g.name for g in repository.goals(session, user.id)],
        require_goal=current(session, user).require_goal,
        spheres={a.id: a.sphere for a in accounts_repository.list_all(session, user.id)},
        access_ends=connections_repository.access_ends(session, user.id),
    )


def canonical_goal(context: ValueContext, goal: str | None) -> str | None:
    """The user's goal named by ``goal`` (any case); 422 for a goal they do not have."""
    if goal is None or not goal.strip():
        return None
    if not context.goals:
        return goal.strip()  # no goals written down yet: any words will do
    for name in context.goals:
        if name.casefold() == goal.strip().casefold():
            return name
    raise invalid(
        f"{goal!r} is not one of your goals ({', '.join(context.goals)}).",
        [{"field": "goal", "code": "unknown-goal", "message": "Choose one of your goals."}],
    )


def require_active_slot(session: Session, user: User, limit: int) -> None:
    """The essays: a handful of networks, each for a purpose, not every network there is."""
    active = repository.count_active_accounts(session, user.id)
    if active >= limit:
        raise ProblemError(
            409,
            "too-many-accounts",
            "Too many networks",
            f"You already use {active} networks, the most this install allows ({limit}). "
            "A handful of networks, each chosen for a purpose, serves you better than being "
            "everywhere; deactivate one before adding another.",
            limit=limit,
        )
