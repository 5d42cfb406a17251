"""LinkedIn Posts API: POST /rest/posts and the token refresh POST /oauth/v2/accessToken."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from . import oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Post, make_jwt
from .textutil import linkedin_render

ACCESS_TOKEN_LIFETIME_S = 60 * 24 * 3600
COMMENTARY_LIMIT = 3000
VISIBILITIES = frozenset({"PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"})
LIFECYCLE_STATES = frozenset({"PUBLISHED", "DRAFT"})
_VERSION_RE = re.compile(r"^(\d{6})(?:\.(\d{2}))?$")

# (HTTP status, serviceErrorCode, code, message) for the token problems.
_AUTH_ERRORS: dict[str, tuple[int, int, str, str]] = {
    "missing": (401, 65604, "EMPTY_ACCESS_TOKEN", "Empty oauth2 access token"),
    "unknown": (401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
    "wrong_kind": (401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
    "expired": (401, 65601, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired"),
    "revoked": (
        401,
        65602,
        "REVOKED_ACCESS_TOKEN",
        "The token used in the request has been revoked by the user",
    ),
}


def li_error(status: int, message: str, code: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code is not None:
        body["code"] = code
    body.update(extra)
    return json_response(body, status)


class LinkedInModel(NetworkModel):
    name = "linkedin"

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        # LinkedIn documents no rate-limit headers (daily limits reset at midnight UTC), so a 429
        # carries none; retry_after_s is ignored.
        if status == 429:
            message = (
                "Resource level throttle APPLICATION DAY limit for calls to this resource "
                "is reached."
            )
            return {"status": 429, "code": "TOO_MANY_REQUESTS", "message": message}, {}
        message = params.get("message") or HTTPStatus(status).phrase
        return {"status": status, "message": message}, {}

    def expired_token(self, ctx: Ctx) -> Response:
        status, service_code, code, message = _AUTH_ERRORS["expired"]
        return li_error(status, message, code, serviceErrorCode=service_code)

    def duplicate(self, ctx: Ctx) -> Response:
        author = ctx.data.get("author")
        commentary = ctx.data.get("commentary")
        posts = [p for p in ctx.state.posts_of("linkedin") if p.details.get("author") == author]
        same = [p for p in posts if p.text == commentary]
        if same:
            urn = same[0].id
        elif posts:
            urn = posts[-1].id
        else:
            urn = f"urn:li:share:{ctx.state.snowflake(22)}"
        return li_error(422, f"Content is a duplicate of {urn}", "DUPLICATE_POST")

    def _auth(self, ctx: Ctx, scope: str | None = None, resource: str = "") -> None:
        check = ctx.state.check_token("linkedin", ctx.bearer())
        if not check.ok:
            status, service_code, code, message = _AUTH_ERRORS[check.status]
            raise Reply(li_error(status, message, code, serviceErrorCode=service_code))
        assert check.token is not None
        if scope is not None and not check.token.allows(scope):
            raise Reply(
                li_error(
                    403,
                    f"Not enough permissions to access: {resource}",
                    "ACCESS_DENIED",
                    serviceErrorCode=100,
                )
            )
        ctx.authenticated(check)

    def _check_version(self, ctx: Ctx) -> str:
        version = (ctx.header("linkedin-version") or "").strip()
        if not version:
            raise Reply(
                li_error(
                    400,
                    "A version must be present. Please specify a version by adding the "
                    "LinkedIn-Version header.",
                    "VERSION_MISSING",
                )
            )
        match = _VERSION_RE.match(version)
        if match is None:
            raise Reply(li_error(400, f"Invalid version format: {version}", "INVALID_VERSION"))
        config = ctx.state.config
        active = config.get("linkedin_active_versions")
        if active is not None:
            ok = version in active or match.group(1) in active
        else:
            ok = match.group(1) >= str(config.get("linkedin_min_version", "202511"))
        if not ok:
            shown = match.group(1) + (match.group(2) or "01")
            raise Reply(
                li_error(426, f"Requested version {shown} is not active", "NONEXISTENT_VERSION")
            )
        return version

    @route("POST", "/rest/posts", "create")
    async def create(self, ctx: Ctx) -> Response:
        version = self._check_version(ctx)
        self._auth(ctx, "w_member_social", f"partnerApiPostsExternal.CREATE.{version}")
        if ctx.header("x-restli-protocol-version") != "2.0.0":
            raise Reply(
                li_error(400, "X-Restli-Protocol-Version header must be 2.0.0", "INVALID_PROTOCOL")
            )
        account = ctx.account
        assert account is not None
        if ctx.body_kind != "json" or not isinstance(ctx.body, dict):
            raise Reply(li_error(400, "Request body must be a JSON object", "BAD_REQUEST"))
        body = ctx.body
        for required in ("author", "lifecycleState", "visibility", "distribution"):
            if required not in body:
                raise Reply(_unprocessable(f"/{required} :: field is required but not found"))
        commentary = body.get("commentary", "")
        if not isinstance(commentary, str):
            raise Reply(_unprocessable("/commentary :: not a string"))
        if not commentary and not body.get("content"):
            raise Reply(_unprocessable("/commentary :: commentary or content is required"))
        if len(commentary) > COMMENTARY_LIMIT:
            raise Reply(
                _unprocessable(
                    f"/commentary :: length {len(commentary)} exceeds {COMMENTARY_LIMIT}"
                )
            )
        if body["visibility"] not in VISIBILITIES:
            raise Reply(_unprocessable(f"/visibility :: invalid value {body['visibility']!r}"))
        if body["lifecycleState"] not in LIFECYCLE_STATES:
            raise Reply(
                _unprocessable(f"/lifecycleState :: invalid value {body['lifecycleState']!r}")
            )
        if body["author"] != account.author:
            raise Reply(
                li_error(
                    403,
                    "Not enough permissions to access: partnerApiPostsExternal.CREATE.NO_VERSION",
                    "ACCESS_DENIED",
                    serviceErrorCode=100,
                )
            )
        if ctx.state.config.get("natural_duplicates") and commentary:
            for post in ctx.state.posts_of("linkedin"):
                if post.details.get("author") == body["author"] and post.text == commentary:
                    raise Reply(
                        li_error(422, f"Content is a duplicate of {post.id}", "DUPLICATE_POST")
                    )
        urn = f"urn:li:share:{ctx.state.snowflake(22)}"
        rendered, truncated = linkedin_render(commentary)
        ctx.state.add_post(
            Post(
                network="linkedin",
                id=urn,
                account=account.key,
                username=account.username,
                text=commentary,
                created_at=ctx.state.now(),
                url=f"https://www.linkedin.com/feed/update/{urn}/",
                details={
                    "author": body["author"],
                    "visibility": body["visibility"],
                    "lifecycle_state": body["lifecycleState"],
                    "content": body.get("content"),
                    "linkedin_version": version,
                    "rendered_text": rendered,
                    "truncated": truncated,
                },
            )
        )
        return Response(status_code=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})

    @route(("GET", "POST"), "/oauth/v2/authorization", "authorize")
    async def authorize(self, ctx: Ctx) -> Response:
        """The consent page (GET), and its form's answer (POST)."""
        return oauth.authorize(ctx, AUTHORIZE)

    @route("GET", "/v2/userinfo", "userinfo")
    async def userinfo(self, ctx: Ctx) -> Response:
        """Sign In with LinkedIn using OpenID Connect: the member's claims (needs openid and
        profile); ``sub`` is the id in ``urn:li:person:{sub}``."""
        self._auth(ctx, "profile", "userinfo.GET.NO_VERSION")
        account = ctx.account
        assert account is not None
        given, _, family = account.display_name.partition(" ")
        return json_response(
            {
                "sub": account.key,
                "name": account.display_name,
                "given_name": given,
                "family_name": family,
                "picture": f"https://media.licdn.com/dms/image/{account.key}/profile",
                "locale": {"country": "US", "language": "en"},
            }
        )

    @route("POST", "/oauth/v2/accessToken", "token")
    async def token(self, ctx: Ctx) -> Response:
        form = ctx.data
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(ctx)
        if form.get("grant_type") != "refresh_token":
            raise Reply(
                json_response(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "Grant type must be authorization_code or "
                        "refresh_token",
                    },
                    400,
                )
            )
        if not form.get("client_id") or not form.get("client_secret"):
            raise Reply(
                json_response(
                    {
                        "error": "invalid_request",
                        "error_description": 'A required parameter "client_id" or '
                        '"client_secret" is missing',
                    },
                    400,
                )
            )
        check = ctx.state.check_token("linkedin", form.get("refresh_token"), kind="refresh")
        if not check.ok or check.token is None:
            raise Reply(
                json_response(
                    {
                        "error": "invalid_grant",
                        "error_description": "The provided authorization grant or refresh token "
                        "is invalid, expired or revoked",
                    },
                    400,
                )
            )
        account = ctx.authenticated(check)
        lifetime = account.token_lifetime_s or ACCESS_TOKEN_LIFETIME_S
        access = ctx.state.issue_token("linkedin", account.key, "access", None, lifetime)
        # LinkedIn does not rotate: the same refresh token comes back with its remaining lifetime.
        refresh = check.token
        remaining = (
            int(refresh.expires_at - ctx.state.now())
            if refresh.expires_at is not None
            else 31536000
        )
        return json_response(
            {
                "access_token": access.value,
                "expires_in": int(lifetime),
                "refresh_token": refresh.value,
                "refresh_token_expires_in": remaining,
                "scope": "openid,profile,w_member_social",
            }
        )

    def _code_grant(self, ctx: Ctx) -> Response:
        """The 3-legged exchange: client id and secret in the form, no PKCE for web apps;
        60-day tokens, a refresh token only for approved partners."""
        form = ctx.data
        client = oauth.authenticated_client(ctx)
        if client is None:
            raise Reply(
                json_response(
                    {
                        "error": "invalid_client",
                        "error_description": "Client authentication failed",
                    },
                    401,
                )
            )
        code = oauth.reply_unless(
            oauth.redeem(ctx, form.get("code"), client.client_id, form.get("redirect_uri"), None),
            lambda _reason: json_response(
                {
                    "error": "invalid_request",
                    "error_description": "Unable to retrieve access token: appid/redirect uri/"
                    "code verifier does not match authorization code. Or authorization code "
                    "expired. Or external member binding exists",
                },
                400,
            ),
        )
        account = ctx.state.accounts["linkedin"][code.account_key]
        lifetime = account.token_lifetime_s or ACCESS_TOKEN_LIFETIME_S
        access = ctx.state.issue_token(
            "linkedin",
            account.key,
            "access",
            None,
            lifetime,
            scopes=code.scopes,
            client_id=client.client_id,
        )
        body: dict[str, Any] = {
            "access_token": access.value,
            "expires_in": int(lifetime),
            "scope": ",".join(sorted(code.scopes)),
            "token_type": "Bearer",
        }
        if "openid" in code.scopes:
            body["id_token"] = make_jwt(
                {"typ": "JWT", "alg": "HS256"},
                {
                    "iss": "https://www.linkedin.com/oauth",
                    "aud": client.client_id,
                    "sub": account.key,
                    "iat": int(ctx.state.now()),
                },
            )
        if client.refresh_tokens:  # Marketing Developer Platform partners only
            refresh = ctx.state.issue_token(
                "linkedin",
                account.key,
                "refresh",
                None,
                REFRESH_TOKEN_LIFETIME_S,
                scopes=code.scopes,
                client_id=client.client_id,
            )
            body["refresh_token"] = refresh.value
            body["refresh_token_expires_in"] = REFRESH_TOKEN_LIFETIME_S
        return json_response(body)


# learn.microsoft.com, linkedin/shared/authentication/authorization-code-flow: the scopes of
# the self-serve products, no PKCE for web apps, codes valid for 30 minutes, and a refusal
# coming back as error=user_cancelled_authorize.
AUTHORIZE = oauth.AuthorizeRules(
    network_name="LinkedIn",
    known_scopes=frozenset(
        {
            "openid",
            "profile",
            "email",
            "w_member_social",
            "r_basicprofile",
            "w_organization_social",
            "r_organization_social",
            "rw_organization_admin",
        }
    ),
    pkce="none",
    code_lifetime_s=30 * 60,
    deny={
        "error": "user_cancelled_authorize",
        "error_description": "The user cancelled the authorization",
    },
)
REFRESH_TOKEN_LIFETIME_S = 365 * 24 * 3600


def _unprocessable(detail: str) -> Response:
    return li_error(422, f"ERROR :: {detail}\n", "UNPROCESSABLE_ENTITY")
