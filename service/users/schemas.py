from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.fields import Count, Line


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Line = Field(min_length=1, max_length=64)
    password: Line = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_at: AwareDatetime


class Me(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=100, description="What the token is for.")
    expires_in_days: Count | None = Field(
        default=None, ge=1, le=3650, description="Omit for a token that does not expire."
    )


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None
    expires_at: AwareDatetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="Shown once: store it now. Only its hash is kept.")
