"""X API v2: POST /2/tweets, POST /2/oauth2/token, GET /2/users/me, GET /2/users/{id}/tweets."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Post, RateInfo
from .textutil import x_weighted_length

ACCESS_TOKEN_LIFETIME_S = 7200
SCOPE = "tweet.read tweet.write users.read offline.access"
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."


def problem(status: int, detail: str | None = None, type_: str = "about:blank") -> dict[str, Any]:
    title = HTTPStatus(status).phrase
    return {"title": title, "detail": detail or title, "type": type_, "status": status}


class XModel(NetworkModel):
    name = "x"

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        headers: dict[str, str] = {}
        if status == 429:
            headers = self.throttle(ctx, float(params.get("retry_after_s", 60)))
            if params.get("usage_capped"):
                body = problem(
                    429, "Usage cap exceeded", "https://api.x.com/2/problems/usage-capped"
                )
                return body, headers
        return problem(status, params.get("message")), headers

    def rate_headers(self, ctx: Ctx, info: RateInfo) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(info.limit),
            "x-rate-limit-remaining": str(info.remaining),
            "x-rate-limit-reset": str(int(info.reset_at)),
        }

    def expired_token(self, ctx: Ctx) -> Response:
        return json_response(problem(401, "Unauthorized"), 401)

    def duplicate(self, ctx: Ctx) -> Response:
        return json_response(problem(403, DUPLICATE_DETAIL), 403)

    def _auth(self, ctx: Ctx) -> None:
        check = ctx.state.check_token("x", ctx.bearer())
        if not check.ok:
            raise Reply(json_response(problem(401, "Unauthorized"), 401))
        ctx.authenticated(check)

    @route("POST", "/2/tweets", "create")
    async def create(self, ctx: Ctx) -> Response:
        self._auth(ctx)
        account = ctx.account
        assert account is not None
        self.count(ctx, ("create", account.key), 100, 15 * 60)
        if ctx.body_kind != "json" or not isinstance(ctx.body, dict):
            raise Reply(
                json_response(
                    problem(400, "Request body must be a JSON object.", _INVALID_REQUEST), 400
                )
            )
        body = ctx.body
        text = body.get("text")
        media = body.get("media")
        if text is not None and not isinstance(text, str):
            raise Reply(json_response(_invalid("$.text must be a string"), 400))
        if not text and not media:
            raise Reply(
                json_response(_invalid("Either text or media must be present in the request"), 400)
            )
        text = text or ""
        if x_weighted_length(text) > account.max_weighted_length:
            raise Reply(
                json_response(problem(403, "You are not permitted to perform this action."), 403)
            )
        if (
            ctx.state.config.get("natural_duplicates")
            and text
            and any(p.text == text for p in ctx.state.posts_of("x", account.key))
        ):
            raise Reply(self.duplicate(ctx))
        tweet_id = ctx.state.snowflake(22, 1288834974657)
        details = {
            k: body[k]
            for k in ("reply", "quote_tweet_id", "media", "reply_settings", "community_id")
            if k in body
        }
        ctx.state.add_post(
            Post(
                network="x",
                id=tweet_id,
                account=account.key,
                username=account.username,
                text=text,
                created_at=ctx.state.now(),
                url=f"https://x.com/{account.username}/status/{tweet_id}",
                details=details,
            )
        )
        data = {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}
        return json_response({"data": data}, 201)

    @route("GET", "/2/users/me", "me")
    async def me(self, ctx: Ctx) -> Response:
        self._auth(ctx)
        account = ctx.account
        assert account is not None
        self.count(ctx, ("me", account.key), 75, 15 * 60)
        return json_response(
            {
                "data": {
                    "id": account.key,
                    "name": account.display_name,
                    "username": account.username,
                }
            }
        )

    @route("GET", "/2/users/{user_id}/tweets", "timeline")
    async def timeline(self, ctx: Ctx) -> Response:
        self._auth(ctx)
        user_id = ctx.request.path_params["user_id"]
        self.count(ctx, ("timeline", user_id), 900, 15 * 60)
        posts = sorted(ctx.state.posts_of("x", user_id), key=lambda p: int(p.id), reverse=True)
        limit = max(5, min(100, int(ctx.query.get("max_results", 10) or 10)))
        posts = posts[:limit]
        if not posts:
            return json_response({"meta": {"result_count": 0}})
        data = [{"id": p.id, "text": p.text, "edit_history_tweet_ids": [p.id]} for p in posts]
        meta = {"result_count": len(data), "newest_id": posts[0].id, "oldest_id": posts[-1].id}
        return json_response({"data": data, "meta": meta})

    @route("POST", "/2/oauth2/token", "token")
    async def token(self, ctx: Ctx) -> Response:
        form = ctx.data
        client_id = form.get("client_id") or _basic_user(ctx.header("authorization"))
        if form.get("grant_type") != "refresh_token":
            raise Reply(
                json_response(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "Only the refresh_token grant is emulated.",
                    },
                    400,
                )
            )
        if not client_id:
            raise Reply(
                json_response(
                    {
                        "error": "invalid_request",
                        "error_description": "Missing required parameter [client_id].",
                    },
                    400,
                )
            )
        check = ctx.state.check_token("x", form.get("refresh_token"), kind="refresh")
        if not check.ok:
            raise Reply(
                json_response(
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                    400,
                )
            )
        account = ctx.authenticated(check)
        assert check.token is not None
        check.token.spent = True  # single use: the old refresh token is gone
        lifetime = account.token_lifetime_s or ACCESS_TOKEN_LIFETIME_S
        access = ctx.state.issue_token("x", account.key, "access", None, lifetime)
        refresh = ctx.state.issue_token("x", account.key, "refresh")
        return json_response(
            {
                "token_type": "bearer",
                "expires_in": int(lifetime),
                "access_token": access.value,
                "scope": SCOPE,
                "refresh_token": refresh.value,
            }
        )


_INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"


def _invalid(message: str) -> dict[str, Any]:
    return {
        "errors": [{"message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": _INVALID_REQUEST,
    }


def _basic_user(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
    except ValueError:
        return None
    return decoded.partition(":")[0] or None
