"""X API v2: POST /2/tweets, POST /2/oauth2/token, GET /2/users/me, GET /2/users/{id}/tweets."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from . import oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .media import (
    Upload,
    body_summary,
    complete,
    media_fault,
    media_store,
    read_form,
)
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
        if media is not None:
            self._attach(ctx, media)
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
        for media_id in (media or {}).get("media_ids", []):
            upload = media_store(ctx.state).get("x", media_id)
            if upload is not None:
                upload.attached_to = tweet_id
        data = {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}
        return json_response({"data": data}, 201)

    def _attach(self, ctx: Ctx, media: Any) -> None:
        """``media.media_ids``: 1-4 of the account's own uploads, processed and not expired
        (an expired id is "Bad Request": FINALIZE reference); 4 photos or 1 GIF or 1 video."""
        ids = media.get("media_ids") if isinstance(media, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 4:
            raise Reply(json_response(_invalid("$.media.media_ids must list 1 to 4 ids"), 400))
        account = ctx.account
        assert account is not None
        now = ctx.state.now()
        uploads = []
        for media_id in ids:
            upload = media_store(ctx.state).get("x", str(media_id), account.key)
            if upload is None or upload.expired(now):
                raise Reply(
                    json_response(_invalid(f"Your media IDs are invalid. ({media_id})"), 400)
                )
            if upload.state(now) != "succeeded":
                raise Reply(
                    json_response(
                        _invalid(f"Media {media_id} is not ready: {upload.state(now)}"), 400
                    )
                )
            uploads.append(upload)
        kinds = [u.category for u in uploads]
        if len(uploads) > 1 and any(k in ("tweet_video", "tweet_gif") for k in kinds):
            raise Reply(
                json_response(_invalid("A post takes 4 photos, or 1 GIF, or 1 video."), 400)
            )

    # --- media (docs.x.com x-api/media; xdevplatform/samples PR #199) ----------------------

    def _upload_of(self, ctx: Ctx, media_id: str) -> Upload:
        account = ctx.account
        assert account is not None
        upload = media_store(ctx.state).get("x", media_id, account.key)
        if upload is None or upload.expired(ctx.state.now()):
            raise Reply(json_response(problem(400, f"Invalid media id {media_id}"), 400))
        return upload

    def _media_data(self, ctx: Ctx, upload: Upload) -> dict[str, Any]:
        now = ctx.state.now()
        expires_in = int((upload.expires_at or now) - now)
        data: dict[str, Any] = {
            "id": upload.id,
            "media_key": f"{_MEDIA_KEY_PREFIX.get(upload.category or '', '3')}_{upload.id}",
            "expires_after_secs": max(0, expires_in),
        }
        if upload.received is not None:
            data["size"] = upload.received.size
        state = upload.state(now)
        # Async processing is reported for video and GIF (FINALIZE reference), or whenever
        # the file is still being worked on.
        if upload.category in ("tweet_video", "tweet_gif") or state in ("in_progress", "failed"):
            info: dict[str, Any] = {"state": "pending" if state == "uploading" else state}
            if state == "in_progress":
                # At most 5 s between checks (the FINALIZE reference's example), never past
                # the end of the processing.
                info["check_after_secs"] = max(1, min(5, int(upload.seconds_left(now) + 0.999)))
                info["progress_percent"] = 50
            if state == "failed":
                info["error"] = {
                    "code": 1,
                    "name": "InvalidMedia",
                    "message": upload.failure or "Unsupported video format",
                }
            if state == "succeeded":
                info["progress_percent"] = 100
            data["processing_info"] = info
        return data

    @route("POST", "/2/media/upload/initialize", "media_initialize")
    async def media_initialize(self, ctx: Ctx) -> Response:
        self._auth(ctx, "media.write")
        account = ctx.account
        assert account is not None
        body = ctx.data
        media_type = body.get("media_type")
        total = body.get("total_bytes")
        category = body.get("media_category") or "tweet_image"
        if not isinstance(media_type, str) or not isinstance(total, int) or total <= 0:
            raise Reply(json_response(_invalid("media_type and total_bytes are required"), 400))
        if category not in _MEDIA_KEY_PREFIX:
            raise Reply(json_response(_invalid(f"Invalid media_category {category}"), 400))
        now = ctx.state.now()
        upload = media_store(ctx.state).add(
            Upload(
                network="x",
                id=ctx.state.snowflake(22, 1288834974657),
                account=account.key,
                media_type=media_type,
                created_at=now,
                total_bytes=total,
                category=str(category),
                expires_at=now + float(ctx.state.config.get("x_media_expires_s", 86400)),
            )
        )
        return json_response({"data": self._media_data(ctx, upload)})

    @route("POST", "/2/media/upload/{media_id}/append", "media_append", streamed=True)
    async def media_append(self, ctx: Ctx) -> Response:
        self._auth(ctx, "media.write")
        upload = self._upload_of(ctx, ctx.request.path_params["media_id"])
        fields, files = await read_form(ctx.request)
        ctx.entry["body"] = body_summary(fields, files)
        segment = files.get("media")
        index = fields.get("segment_index", "")
        if segment is None or not index.isdigit() or int(index) > 999:
            raise Reply(
                json_response(_invalid("media and segment_index (0-999) are required"), 400)
            )
        if segment.size > 5 * 1024 * 1024:
            raise Reply(json_response(_invalid("A segment may be at most 5 MB."), 400))
        if upload.finalized:
            raise Reply(json_response(_invalid("The upload is already finalized."), 400))
        if not upload.append(int(index), segment):
            # Real X takes segments in any order; the emulator wants them in order (invented).
            raise Reply(json_response(_invalid(f"Segment {index} is out of order."), 400))
        return json_response({"data": {"expires_at": int(upload.expires_at or 0)}})

    @route("POST", "/2/media/upload/{media_id}/finalize", "media_finalize")
    async def media_finalize(self, ctx: Ctx) -> Response:
        self._auth(ctx, "media.write")
        upload = self._upload_of(ctx, ctx.request.path_params["media_id"])
        indexes = sorted(upload.segments)
        size = sum(s.size for s in upload.segments.values())
        if indexes != list(range(len(indexes))) or size != upload.total_bytes:
            raise Reply(
                json_response(
                    _invalid(
                        f"File size mismatch: {size} bytes received, {upload.total_bytes} declared."
                    ),
                    400,
                )
            )
        if not upload.finalized:
            upload.finalized = True
            complete(
                ctx.state,
                upload,
                upload.collector.result(upload.media_type),
                processes=upload.category in ("tweet_video", "tweet_gif"),
                fault=media_fault(ctx.fault),
            )
        return json_response({"data": self._media_data(ctx, upload)})

    @route("GET", "/2/media/upload", "media_status")
    async def media_status(self, ctx: Ctx) -> Response:
        self._auth(ctx, "media.write")
        if ctx.query.get("command") != "STATUS":
            raise Reply(json_response(_invalid("command must be STATUS"), 400))
        upload = self._upload_of(ctx, str(ctx.query.get("media_id") or ""))
        return json_response({"data": self._media_data(ctx, upload)})

    @route("POST", "/2/media/metadata", "media_metadata")
    async def media_metadata(self, ctx: Ctx) -> Response:
        self._auth(ctx, "media.write")
        body = ctx.data
        upload = self._upload_of(ctx, str(body.get("id") or ""))
        alt = (
            (body.get("metadata") or {}).get("alt_text")
            if isinstance(body.get("metadata"), dict)
            else None
        )
        text = alt.get("text") if isinstance(alt, dict) else None
        if not isinstance(text, str) or len(text) > 1000:
            raise Reply(
                json_response(_invalid("metadata.alt_text.text: 1 to 1000 characters"), 400)
            )
        upload.alt_text = text
        return json_response({"data": {"id": upload.id, "associated_metadata": True}})

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
# media_key prefixes X uses: 3 photos, 16 GIFs, 7 videos.
_MEDIA_KEY_PREFIX = {"tweet_image": "3", "tweet_gif": "16", "tweet_video": "7"}

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
