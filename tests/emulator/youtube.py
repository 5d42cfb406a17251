"""Google OAuth 2.0 for YouTube, and the channel lookup; the videos are in youtube_videos.py.

Under one prefix the three Google hosts are served with their real paths:
accounts.google.com ``/o/oauth2/v2/auth``, oauth2.googleapis.com ``/token`` and ``/revoke``,
www.googleapis.com ``/youtube/v3/channels``. Sources: developers.google.com
identity/protocols/oauth2/web-server (offline access, prompt=consent, PKCE, granular consent,
refresh, revocation, errors), identity/protocols/oauth2 ("Refresh token expiration": 7 days
for an app in Testing), youtube/v3/docs/channels/list and youtube/v3/docs/errors.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from . import oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .google import INSUFFICIENT, UNAUTHENTICATED, google_error
from .state import Account, AuthCode, OAuthClient, Token, iso
from .youtube_videos import VideoUploads, uploads_playlist

ACCESS_LIFETIME_S = 3599
TESTING_REFRESH_LIFETIME_S = 7 * 24 * 3600
UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
READONLY = "https://www.googleapis.com/auth/youtube.readonly"
YOUTUBE = "https://www.googleapis.com/auth/youtube"
FORCE_SSL = "https://www.googleapis.com/auth/youtube.force-ssl"
READ_SCOPES = (READONLY, YOUTUBE, FORCE_SSL)


class YouTubeModel(VideoUploads, NetworkModel):
    name = "youtube"

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        if ctx.endpoint == "token":
            return {"error": params.get("error") or "internal_failure"}, {}
        reasons = {
            429: ("rateLimitExceeded", "RESOURCE_EXHAUSTED"),
            403: ("forbidden", "PERMISSION_DENIED"),
        }
        reason, state = reasons.get(status, ("backendError", "INTERNAL"))
        message = str(params.get("message") or "Backend Error")
        return google_error(status, message, reason, state), {}

    def expired_token(self, ctx: Ctx) -> Response:
        return json_response(UNAUTHENTICATED, 401)

    def not_found(self, ctx: Ctx) -> Response:
        return json_response(google_error(404, "Not Found", "notFound", "NOT_FOUND"), 404)

    # -- authorization ---------------------------------------------------------------------

    @route(("GET", "POST"), "/o/oauth2/v2/auth", "authorize")
    async def authorize(self, ctx: Ctx) -> Response:
        """The consent page (GET), and its form's answer (POST)."""
        return oauth.authorize(ctx, AUTHORIZE)

    @route("POST", "/token", "token")
    async def token(self, ctx: Ctx) -> Response:
        client = oauth.authenticated_client(ctx)
        if client is None:
            raise Reply(
                json_response({"error": "invalid_client", "error_description": "Unauthorized"}, 401)
            )
        grant = ctx.data.get("grant_type")
        if grant == "authorization_code":
            return self._code_grant(ctx, client)
        if grant == "refresh_token":
            return self._refresh_grant(ctx, client)
        raise Reply(
            json_response(
                {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "},
                400,
            )
        )

    def _code_grant(self, ctx: Ctx, client: OAuthClient) -> Response:
        form = ctx.data
        code = oauth.reply_unless(
            oauth.redeem(
                ctx,
                form.get("code"),
                client.client_id,
                form.get("redirect_uri"),
                form.get("code_verifier"),
            ),
            _code_error,
        )
        account = ctx.state.accounts["youtube"][code.account_key]
        access = self._access(ctx, account, code.scopes, client.client_id)
        body: dict[str, Any] = {
            "access_token": access.value,
            "expires_in": _lifetime(account),
            "scope": " ".join(sorted(code.scopes)),
            "token_type": "Bearer",
        }
        if self._refresh_token_due(ctx, code):
            lifetime = TESTING_REFRESH_LIFETIME_S if client.testing else None
            refresh = ctx.state.issue_token(
                "youtube",
                account.key,
                "refresh",
                "1//" + secrets.token_urlsafe(48),
                lifetime,
                scopes=code.scopes,
                client_id=client.client_id,
            )
            body["refresh_token"] = refresh.value
            if client.testing:
                body["refresh_token_expires_in"] = TESTING_REFRESH_LIFETIME_S
        ctx.state.grants.add(("youtube", client.client_id, account.key))
        return json_response(body)

    @staticmethod
    def _refresh_token_due(ctx: Ctx, code: AuthCode) -> bool:
        """Offline access brings a refresh token at the first consent, and later only when the
        consent screen was shown again (prompt=consent)."""
        if not code.offline:
            return False
        first = ("youtube", code.client_id, code.account_key) not in ctx.state.grants
        return first or code.prompted

    def _refresh_grant(self, ctx: Ctx, client: OAuthClient) -> Response:
        check = ctx.state.check_token("youtube", ctx.data.get("refresh_token"), kind="refresh")
        if not check.ok or check.token is None or check.token.client_id != client.client_id:
            raise Reply(json_response(REVOKED, 400))
        account = ctx.authenticated(check)
        access = self._access(ctx, account, check.token.scopes, client.client_id)
        # No new refresh token: the one the app has stays valid.
        return json_response(
            {
                "access_token": access.value,
                "expires_in": _lifetime(account),
                "scope": " ".join(sorted(check.token.scopes or ())),
                "token_type": "Bearer",
            }
        )

    def _access(
        self, ctx: Ctx, account: Account, scopes: frozenset[str] | None, client_id: str
    ) -> Token:
        return ctx.state.issue_token(
            "youtube",
            account.key,
            "access",
            "ya29." + secrets.token_urlsafe(48),
            _lifetime(account),
            scopes=scopes,
            client_id=client_id,
        )

    @route("POST", "/revoke", "revoke")
    async def revoke(self, ctx: Ctx) -> Response:
        """Revoking either token ends the grant: the refresh token and its access tokens."""
        value = ctx.params.get("token")
        found = next(
            (t for (n, v), t in ctx.state.tokens.items() if n == "youtube" and v == value), None
        )
        if found is None:
            raise Reply(
                json_response({"error": "invalid_token", "error_description": "Bad Request"}, 400)
            )
        for token in ctx.state.tokens.values():
            same = token.network == "youtube" and token.account_key == found.account_key
            if same and token.client_id == found.client_id:
                token.revoked = True
        return Response(status_code=200)

    # -- the Data API ----------------------------------------------------------------------

    @route("GET", "/youtube/v3/channels", "channels")
    async def channels(self, ctx: Ctx) -> Response:
        check = ctx.state.check_token("youtube", ctx.bearer())
        if not check.ok or check.token is None:
            raise Reply(json_response(UNAUTHENTICATED, 401))
        if not check.token.allows(*READ_SCOPES):
            raise Reply(json_response(INSUFFICIENT, 403))
        account = ctx.authenticated(check)
        if not ctx.query.get("part"):
            raise Reply(
                json_response(
                    google_error(
                        400,
                        "Required parameter: part",
                        "required",
                        "INVALID_ARGUMENT",
                    ),
                    400,
                )
            )
        if str(ctx.query.get("mine", "")).lower() != "true":
            return json_response({"kind": "youtube#channelListResponse", "items": []})
        return json_response(
            {
                "kind": "youtube#channelListResponse",
                "etag": secrets.token_urlsafe(12),
                "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                "items": [
                    {
                        "kind": "youtube#channel",
                        "etag": secrets.token_urlsafe(12),
                        "id": account.key,
                        "snippet": {
                            "title": account.display_name,
                            "description": "",
                            "customUrl": account.username,
                            "publishedAt": iso(account.created_at),
                            "thumbnails": {},
                        },
                        "contentDetails": {
                            "relatedPlaylists": {
                                "likes": "",
                                "uploads": uploads_playlist(account.key),
                            }
                        },
                    }
                ],
            }
        )


def _lifetime(account: Account) -> int:
    return int(account.token_lifetime_s or ACCESS_LIFETIME_S)


REVOKED = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}


def _code_error(reason: str) -> Response:
    if reason == "redirect":
        return json_response(
            {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}, 400
        )
    if reason == "verifier_missing":
        return json_response(
            {"error": "invalid_grant", "error_description": "Missing code verifier."}, 400
        )
    if reason == "verifier":
        return json_response(
            {"error": "invalid_grant", "error_description": "Invalid code verifier."}, 400
        )
    return json_response({"error": "invalid_grant", "error_description": "Bad Request"}, 400)


# identity/protocols/oauth2/web-server: PKCE (S256 or plain) optional for web apps, granular
# consent (the person may untick scopes), a refusal as error=access_denied. A code's lifetime
# is not documented: 10 minutes, as RFC 6749 recommends.
AUTHORIZE = oauth.AuthorizeRules(
    network_name="Google",
    known_scopes=frozenset({UPLOAD, READONLY, YOUTUBE, FORCE_SSL, "openid", "email", "profile"}),
    pkce="optional",
    partial_grant=True,
    code_lifetime_s=600,
)
