from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.fields import Count, Flag, Line, Text
from service.networks.base import Network
from service.omittable import omittable
from service.strategy.value import Sphere


class GoalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=100, description="e.g. 'Build relationships'.")
    description: Text | None = Field(default=None, max_length=2000)


class GoalUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = omittable(min_length=1, max_length=100)
    description: Text | None = Field(default=None, max_length=2000)


class GoalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str | None
    created_at: AwareDatetime


class StrategyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_interval_months: Count = omittable(ge=1, le=36)
    require_goal: Flag = omittable(
        description="Whether a post must name one of your goals before it can be scheduled.",
    )


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: Text | None = Field(
        default=None, max_length=10_000, description="What you changed, and why."
    )


class StrategyNetwork(BaseModel):
    account_id: str
    network: Network
    handle: str
    sphere: Sphere | None
    purpose: str
    audience: str


class StrategyRead(BaseModel):
    goals: list[GoalRead]
    networks: list[StrategyNetwork] = Field(description="Your active accounts.")
    max_active_accounts: int
    review_interval_months: int
    require_goal: bool
    last_reviewed_at: AwareDatetime | None
    review_notes: str | None
    next_review_at: AwareDatetime
    review_due: bool
    advice: list[str] = Field(description="What the strategy is missing, in plain words.")
