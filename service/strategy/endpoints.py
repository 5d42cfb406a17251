from __future__ import annotations

from fastapi import APIRouter, Response, status

from service.db import SessionDep
from service.deps import SettingsDep
from service.problems import problem_responses
from service.strategy import service as strategies
from service.strategy.schemas import (
    GoalCreate,
    GoalRead,
    GoalUpdate,
    ReviewRequest,
    StrategyRead,
    StrategyUpdate,
)
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1/strategy", tags=["strategy"])


@router.get("", response_model=StrategyRead)
def get_strategy(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> StrategyRead:
    """Your goals, your chosen networks and their purposes, and whether a review is due."""
    return strategies.read(session, user, settings.max_active_accounts)


@router.patch("", response_model=StrategyRead)
def update_strategy(
    data: StrategyUpdate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> StrategyRead:
    strategies.update(session, user, data)
    return strategies.read(session, user, settings.max_active_accounts)


@router.post("/review", response_model=StrategyRead)
def review_strategy(
    data: ReviewRequest, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> StrategyRead:
    """Record that you reviewed who you follow and what you communicate; the next review is
    one interval from now."""
    strategies.review(session, user, data.notes)
    return strategies.read(session, user, settings.max_active_accounts)


@router.get("/goals", response_model=list[GoalRead])
def list_goals(user: CurrentUser, session: SessionDep) -> list[GoalRead]:
    return strategies.read(session, user, 0).goals


@router.post(
    "/goals",
    response_model=GoalRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def create_goal(data: GoalCreate, user: CurrentUser, session: SessionDep) -> GoalRead:
    return GoalRead.model_validate(strategies.create_goal(session, user, data))


@router.patch("/goals/{goal_id}", response_model=GoalRead, responses=problem_responses(404, 409))
def update_goal(goal_id: str, data: GoalUpdate, user: CurrentUser, session: SessionDep) -> GoalRead:
    goal = strategies.goal_or_404(session, user, goal_id)
    return GoalRead.model_validate(strategies.update_goal(session, user, goal, data))


@router.delete(
    "/goals/{goal_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
def delete_goal(goal_id: str, user: CurrentUser, session: SessionDep) -> Response:
    strategies.delete_goal(session, strategies.goal_or_404(session, user, goal_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
