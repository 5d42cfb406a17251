from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from service.apidocs.contract import RETRY_AFTER, with_headers
from service.db import Database, SessionDep, utcnow
from service.deps import SettingsDep
from service.problems import ProblemError, problem_responses
from service.users import repository
from service.users import service as users
from service.users.auth import CurrentUser
from service.users.schemas import (
    LoginRequest,
    LoginResponse,
    Me,
    TokenCreate,
    TokenCreated,
    TokenRead,
)

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses=with_headers(problem_responses(401, 429), 429, RETRY_AFTER),
)
def login(
    data: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> LoginResponse:
    """Exchange a username and password for a session token. Repeated failures lock the
    username and the client address out for a while (429 with Retry-After)."""
    keys = users.throttle_keys(data.username, request.client.host if request.client else None)
    locked = users.locked_until(session, keys)
    if locked is not None:
        seconds = max(1, int((locked - utcnow()).total_seconds()) + 1)
        problem = ProblemError(
            429,
            "login-throttled",
            "Too many failed logins",
            f"Too many failed logins; try again in {seconds} seconds.",
        )
        problem.headers["Retry-After"] = str(seconds)
        raise problem
    user = users.authenticate(session, data.username, data.password)
    if user is None:
        # Recorded in its own transaction, as the request's is rolled back with the 401;
        # the request's is ended first so that it holds no lock the other one waits for.
        session.rollback()
        database: Database = request.app.state.database
        with database.session() as own:
            users.record_failure(
                own,
                keys,
                max_failures=settings.login_max_failures,
                window=timedelta(seconds=settings.login_window_seconds),
                lockout=timedelta(seconds=settings.login_lockout_seconds),
            )
            own.commit()
        raise ProblemError(
            401,
            "invalid-credentials",
            "Wrong username or password",
            "The username or password is wrong.",
        )
    users.clear_failures(session, keys[:1])
    token, plain = users.issue_token(
        session,
        user,
        kind="session",
        name="login",
        ttl=timedelta(hours=settings.session_hours),
    )
    assert token.expires_at is not None
    return LoginResponse(access_token=plain, expires_at=token.expires_at)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke the token this request was made with."""
    token = repository.get_token(session, user.id, request.state.token_id)
    if token is not None:
        users.revoke(session, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=Me)
def get_me(user: CurrentUser) -> Me:
    return Me.model_validate(user)


@router.get("/tokens", response_model=list[TokenRead], tags=["tokens"])
def list_tokens(user: CurrentUser, session: SessionDep) -> list[TokenRead]:
    """Personal API tokens for scripts (their secret is never shown again)."""
    return [TokenRead.model_validate(t) for t in repository.personal_tokens(session, user.id)]


@router.post(
    "/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, tags=["tokens"]
)
def create_token(data: TokenCreate, user: CurrentUser, session: SessionDep) -> TokenCreated:
    ttl = timedelta(days=data.expires_in_days) if data.expires_in_days else None
    token, plain = users.issue_token(session, user, kind="personal", name=data.name, ttl=ttl)
    return TokenCreated.model_validate({**token.model_dump(), "token": plain})


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["tokens"],
    responses=problem_responses(404),
)
def revoke_token(token_id: str, user: CurrentUser, session: SessionDep) -> Response:
    token = repository.get_token(session, user.id, token_id)
    if token is None or token.kind != "personal" or token.revoked_at is not None:
        raise ProblemError(404, "not-found", "Not found", f"No token with id {token_id!r}.")
    users.revoke(session, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
