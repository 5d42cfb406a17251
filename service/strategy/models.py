from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime, new_id, utcnow


class Strategy(SQLModel, table=True):
    """A user's personal social media strategy: reviewed every few months, as the essays ask."""

    __tablename__ = "strategies"

    user_id: str = Field(sa_column=Column(String(32), ForeignKey("users.id"), primary_key=True))
    review_interval_months: int = Field(default=6)
    last_reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    review_notes: str | None = Field(default=None, sa_column=Column(Text))
    # Whether a post must name the goal it serves before it can be scheduled.
    require_goal: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1)


class Goal(SQLModel, table=True):
    """Something the user wants from social media: relationships, a cause, a personal brand."""

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("user_id", "name_key", name="uq_goals_user_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("users.id"), nullable=False, index=True)
    )
    name: str = Field(max_length=100)
    name_key: str = Field(max_length=100)  # casefolded, for case-insensitive uniqueness
    description: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
