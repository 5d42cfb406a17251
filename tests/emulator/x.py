"""X API v2: POST /2/tweets, POST /2/oauth2/token, GET /2/users/me, GET /2/users/{id}/tweets."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from . import oauth
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

    def _auth(self, ctx: Ctx, *scopes: str) -> None:
        check = ctx.state.check_token("x", ctx.bearer())
        if not check.ok:
            raise Reply(json_response(problem(401, "Unauthorized"), 401))
        assert check.token is not None
        if scopes and not all(check.token.allows(scope) for scope in scopes):
            # A user token without the endpoint's scopes (docs.x.com authentication mapping);
            # X answers 403 (body approximate: observed as a plain "Forbidden" problem).
            raise Reply(json_response(problem(403, "Forbidden"), 403))
        ctx.authenticated(check)

    @route("POST", "/2/tweets", "create")
    async def create(self, ctx: Ctx) -> Response:
        self._auth(ctx, "tweet.read", "tweet.write", "users.read")
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
        self._auth(ctx, "tweet.read", "users.read")
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

    @route(("GET", "POST"), "/i/oauth2/authorize", "authorize")
    async def authorize(self, ctx: Ctx) -> Response:
        """The consent page (GET), and its form's answer (POST)."""
        return oauth.authorize(ctx, AUTHORIZE)

    @route("POST", "/2/oauth2/token", "token")
    async def token(self, ctx: Ctx) -> Response:
        form = ctx.data
        client_id = form.get("client_id") or _basic_user(ctx.header("authorization"))
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(ctx)
        if form.get("grant_type") != "refresh_token":
            raise Reply(
                json_response(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "Grant type must be authorization_code or "
                        "refresh_token.",
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
        old = check.token
        if old.client_id is not None and _confidential_failed(ctx, old.client_id):
            raise Reply(_unauthorized_client())
        old.spent = True  # single use: the old refresh token is gone
        return self._tokens(ctx, account.key, old.scopes, old.client_id)

    def _code_grant(self, ctx: Ctx) -> Response:
        """``grant_type=authorization_code``: a confidential client authenticates with HTTP
        Basic; a public one sends client_id (user-access-token.mdx). The code lives 30 s."""
        form = ctx.data
        client_id = _basic_user(ctx.header("authorization")) or form.get("client_id")
        client = ctx.state.client("x", client_id)
        if client is None or _confidential_failed(ctx, client.client_id):
            raise Reply(_unauthorized_client())
        code = oauth.reply_unless(
            oauth.redeem(
                ctx,
                form.get("code"),
                client.client_id,
                form.get("redirect_uri"),
                form.get("code_verifier"),
            ),
            lambda _reason: json_response(
                {
                    "error": "invalid_request",
                    "error_description": "Value passed for the authorization code was invalid.",
                },
                400,
            ),
        )
        return self._tokens(ctx, code.account_key, code.scopes, client.client_id)

    def _tokens(
        self,
        ctx: Ctx,
        account_key: str,
        scopes: frozenset[str] | None,
        client_id: str | None,
    ) -> Response:
        account = ctx.state.accounts["x"][account_key]
        lifetime = account.token_lifetime_s or ACCESS_TOKEN_LIFETIME_S
        access = ctx.state.issue_token(
            "x", account.key, "access", None, lifetime, scopes=scopes, client_id=client_id
        )
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(lifetime),
            "access_token": access.value,
            "scope": " ".join(sorted(scopes)) if scopes is not None else SCOPE,
        }
        # Only offline.access brings a refresh token (authorization-code.mdx).
        if scopes is None or "offline.access" in scopes:
            refresh = ctx.state.issue_token(
                "x", account.key, "refresh", scopes=scopes, client_id=client_id
            )
            body["refresh_token"] = refresh.value
        return json_response(body)


_INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"

# docs.x.com, fundamentals/authentication/oauth-2-0/authorization-code.mdx: the scopes, PKCE
# with S256 or plain, the 30-second code, exact redirect URIs.
AUTHORIZE = oauth.AuthorizeRules(
    network_name="X",
    known_scopes=frozenset(
        {
            "tweet.read",
            "tweet.write",
            "tweet.moderate.write",
            "users.email",
            "users.read",
            "follows.read",
            "follows.write",
            "offline.access",
            "space.read",
            "mute.read",
            "mute.write",
            "like.read",
            "like.write",
            "list.read",
            "list.write",
            "block.read",
            "block.write",
            "bookmark.read",
            "bookmark.write",
            "dm.read",
            "dm.write",
            "media.write",
        }
    ),
    pkce="required",
    code_lifetime_s=30.0,
)


def _confidential_failed(ctx: Ctx, client_id: str) -> bool:
    """A confidential client must authenticate with Basic and its secret."""
    client = ctx.state.client("x", client_id)
    if client is None:
        return False  # a token registered by hand: any client id will do
    found = oauth.authenticated_client(ctx)
    return found is None or found.client_id != client_id


def _unauthorized_client() -> Response:
    return json_response(
        {
            "error": "unauthorized_client",
            "error_description": "Missing valid authorization header",
        },
        401,
    )


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
