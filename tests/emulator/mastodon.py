"""Mastodon: POST /api/v1/statuses (Idempotency-Key), GET /api/v1/statuses/{id},
GET /api/v2/instance."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from . import oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .media import Upload, body_summary, complete, media_fault, media_store, read_form
from .state import Account, OAuthClient, Post, RateInfo, iso
from .textutil import mastodon_html, mastodon_length

IDEMPOTENCY_TTL_S = 3600
# A subset of upstream's (app/models/media_attachment.rb): what Handpost sends.
SUPPORTED_MIME_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/quicktime",
    "video/webm",
)
DESCRIPTION_LIMIT = 1500
URL_LENGTH = 23
VISIBILITIES = ("public", "unlisted", "private", "direct")
_AUTH_MESSAGES = {
    "revoked": "The access token was revoked",
}


def mastodon_error(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def _iso_micro(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "on", "yes")


class MastodonModel(NetworkModel):
    name = "mastodon"

    def new_store(self) -> dict[str, Any]:
        # statuses: id -> Post; idempotency: (account id, key) -> (status id, time)
        return {"statuses": {}, "idempotency": {}}

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        if status == 429:
            headers = self.throttle(ctx, float(params.get("retry_after_s", 300)), limit=300)
            return {"error": params.get("message") or "Too many requests"}, headers
        return {"error": params.get("message") or HTTPStatus(status).phrase}, {}

    def rate_headers(self, ctx: Ctx, info: RateInfo) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(info.limit),
            "x-ratelimit-remaining": str(info.remaining),
            "x-ratelimit-reset": _iso_micro(info.reset_at),
        }

    def expired_token(self, ctx: Ctx) -> Response:
        return mastodon_error(401, "The access token is invalid")

    def not_found(self, ctx: Ctx) -> Response:
        return mastodon_error(404, "Not Found")

    def _auth(self, ctx: Ctx, *scopes: str, required: bool = True) -> Account | None:
        """The token's account; ``scopes``: any one of them is needed (a parent scope such as
        ``write`` covers ``write:statuses``)."""
        token = ctx.bearer()
        if token is None and not required and not ctx.header("authorization"):
            return None
        check = ctx.state.check_token("mastodon", token)
        if not check.ok:
            message = _AUTH_MESSAGES.get(check.status, "The access token is invalid")
            raise Reply(mastodon_error(401, message))
        account = ctx.authenticated(check)
        assert check.token is not None
        if scopes and not any(check.token.allows(s, s.split(":")[0]) for s in scopes):
            raise Reply(mastodon_error(403, "This action is outside the authorized scopes"))
        self.count(ctx, ("token", check.token.value), 300, 300)
        return account

    def status_json(self, ctx: Ctx, post: Post) -> dict[str, Any]:
        account = ctx.state.accounts["mastodon"].get(post.account)
        username = post.username
        details = post.details
        return {
            "id": post.id,
            "created_at": iso(post.created_at),
            "in_reply_to_id": details.get("in_reply_to_id"),
            "in_reply_to_account_id": None,
            "sensitive": details.get("sensitive", False),
            "spoiler_text": details.get("spoiler_text", ""),
            "visibility": details.get("visibility", "public"),
            "language": details.get("language"),
            "uri": f"{ctx.base_url}/users/{username}/statuses/{post.id}",
            "url": f"{ctx.base_url}/@{username}/{post.id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": mastodon_html(post.text),
            "reblog": None,
            "application": {"name": "Handpost", "website": None},
            "account": {
                "id": post.account,
                "username": username,
                "acct": username,
                "display_name": account.display_name if account else username,
                "url": f"{ctx.base_url}/@{username}",
            },
            "media_attachments": [
                self.attachment_json(ctx, upload)
                for m in details.get("media_ids", [])
                if (upload := media_store(ctx.state).get("mastodon", str(m))) is not None
            ],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    @route("POST", "/api/v1/statuses", "create")
    async def create(self, ctx: Ctx) -> Response:
        account = self._auth(ctx, "write:statuses")
        assert account is not None
        store = self.store(ctx)
        key = ctx.header("idempotency-key")
        now = ctx.state.now()
        if key:
            remembered = store["idempotency"].get((account.key, key))
            if remembered is not None and now - remembered[1] < IDEMPOTENCY_TTL_S:
                ctx.entry["idempotent_replay"] = True
                return json_response(self.status_json(ctx, store["statuses"][remembered[0]]))
        self.count(ctx, ("create", account.key), 300, 3 * 3600)
        if ctx.body_kind == "invalid_json":
            raise Reply(mastodon_error(400, "Error while parsing request body"))
        body = ctx.data
        status = body.get("status") or ""
        if not isinstance(status, str):
            raise Reply(mastodon_error(422, "Validation failed: Text is invalid"))
        spoiler = str(body.get("spoiler_text") or "")
        media_ids = body.get("media_ids") or []
        if not isinstance(media_ids, list):
            media_ids = [media_ids]
        if body.get("scheduled_at"):
            raise Reply(mastodon_error(422, "scheduled_at is not supported by the emulator"))
        if not status.strip() and not media_ids:
            raise Reply(mastodon_error(422, "Validation failed: Text can't be blank"))
        attached = self._attachable(ctx, [str(m) for m in media_ids])
        limit = int(ctx.state.config.get("mastodon_max_characters", 500))
        url_length = int(ctx.state.config.get("mastodon_characters_reserved_per_url", URL_LENGTH))
        if mastodon_length(status, spoiler, url_length) > limit:
            raise Reply(
                mastodon_error(422, f"Validation failed: Text character limit of {limit} exceeded")
            )
        visibility = body.get("visibility") or "public"
        if visibility not in VISIBILITIES:
            raise Reply(
                mastodon_error(422, "Validation failed: Visibility is not included in the list")
            )
        in_reply_to = body.get("in_reply_to_id")
        if in_reply_to and str(in_reply_to) not in store["statuses"]:
            raise Reply(mastodon_error(404, "Record not found"))
        status_id = ctx.state.snowflake(16)
        post = ctx.state.add_post(
            Post(
                network="mastodon",
                id=status_id,
                account=account.key,
                username=account.username,
                text=status,
                created_at=now,
                url=f"{ctx.base_url}/@{account.username}/{status_id}",
                idempotency_key=key or None,
                details={
                    "visibility": visibility,
                    "spoiler_text": spoiler,
                    "sensitive": _truthy(body.get("sensitive", False)),
                    "language": body.get("language"),
                    "in_reply_to_id": str(in_reply_to) if in_reply_to else None,
                    "media_ids": media_ids,
                },
            )
        )
        store["statuses"][status_id] = post
        for upload in attached:
            upload.attached_to = status_id
        if key:
            store["idempotency"][(account.key, key)] = (status_id, now)
        return json_response(self.status_json(ctx, post))

    def _attachable(self, ctx: Ctx, media_ids: list[str]) -> list[Upload]:
        """The account's unattached, processed uploads for ``media_ids`` (PostStatusService:
        at most the instance's maximum; not found or attached elsewhere, or still processing,
        is 422 with upstream's texts, config/locales/en.yml media_attachments.validations)."""
        account = ctx.account
        assert account is not None
        limit = int(ctx.state.config.get("mastodon_max_media_attachments", 4))
        if len(media_ids) > limit:
            raise Reply(mastodon_error(422, f"Cannot attach more than {limit} files"))
        now = ctx.state.now()
        found = []
        missing = []
        for media_id in media_ids:
            upload = media_store(ctx.state).get("mastodon", media_id, account.key)
            if upload is None or upload.attached_to is not None:
                missing.append(media_id)
            else:
                found.append(upload)
        if missing:
            raise Reply(
                mastodon_error(
                    422,
                    f"Media {', '.join(missing)} not found or already attached to another post",
                )
            )
        if any(u.state(now) != "succeeded" for u in found):
            raise Reply(
                mastodon_error(
                    422,
                    "Cannot attach files that have not finished processing. Try again in a moment!",
                )
            )
        kinds = {self._type(u) for u in found}
        if len(found) > 1 and "video" in kinds:  # gifv is not audio_or_video? upstream
            raise Reply(
                mastodon_error(422, "Cannot attach a video to a post that already contains images")
            )
        return found

    # -- media (methods/media.md) ----------------------------------------------------------

    @staticmethod
    def _type(upload: Upload) -> str:
        if upload.media_type == "image/gif":
            return "gifv"  # upstream turns GIFs into silent MP4 loops
        return "video" if upload.media_type.startswith("video/") else "image"

    def attachment_json(self, ctx: Ctx, upload: Upload) -> dict[str, Any]:
        ready = upload.state(ctx.state.now()) == "succeeded"
        extension = upload.media_type.rsplit("/", 1)[-1]
        url = f"{ctx.base_url}/system/media_attachments/files/{upload.id}/original.{extension}"
        return {
            "id": upload.id,
            "type": self._type(upload),
            "url": url if ready else None,
            "preview_url": url if ready else None,
            "remote_url": None,
            "text_url": None,
            "meta": {},
            "description": upload.alt_text or None,
            "blurhash": None,
        }

    @route("POST", "/api/v2/media", "media_upload", streamed=True)
    async def media_upload(self, ctx: Ctx) -> Response:
        """200 with ``url`` when ready at once (images), 202 with ``url: null`` while it
        processes (video, gifv, or a slow fault)."""
        account = self._auth(ctx, "write:media")
        assert account is not None
        self.count(ctx, ("media", account.key), 30, 30 * 60)
        fields, files = await read_form(ctx.request)
        ctx.entry["body"] = body_summary(fields, files)
        file = files.get("file")
        if file is None or file.size == 0:
            raise Reply(mastodon_error(422, "Validation failed: File can't be blank"))
        if file.content_type not in SUPPORTED_MIME_TYPES:
            raise Reply(
                mastodon_error(
                    422, "Validation failed: File content type is invalid, File is invalid"
                )
            )
        description = fields.get("description", "")
        if len(description) > DESCRIPTION_LIMIT:
            raise Reply(
                mastodon_error(
                    422,
                    f"Validation failed: Description is too long (maximum is {DESCRIPTION_LIMIT} "
                    "characters)",
                )
            )
        upload = media_store(ctx.state).add(
            Upload(
                network="mastodon",
                id=ctx.state.snowflake(16),
                account=account.key,
                media_type=file.content_type,
                created_at=ctx.state.now(),
                alt_text=description,
            )
        )
        complete(
            ctx.state,
            upload,
            file,
            processes=not file.content_type.startswith("image/")
            or file.content_type == "image/gif",
            fault=media_fault(ctx.fault),
        )
        ready = upload.state(ctx.state.now()) == "succeeded"
        return json_response(self.attachment_json(ctx, upload), 200 if ready else 202)

    @route("GET", "/api/v1/media/{media_id}", "media_get")
    async def media_get(self, ctx: Ctx) -> Response:
        """206 while processing, 200 when done, 422 when processing failed."""
        account = self._auth(ctx, "write:media")
        assert account is not None
        upload = media_store(ctx.state).get(
            "mastodon", ctx.request.path_params["media_id"], account.key
        )
        if upload is None:
            raise Reply(mastodon_error(404, "Record not found"))
        state = upload.state(ctx.state.now())
        if state == "failed":
            raise Reply(
                mastodon_error(
                    422, upload.failure or "Error processing thumbnail for uploaded media"
                )
            )
        return json_response(
            self.attachment_json(ctx, upload), 200 if state == "succeeded" else 206
        )

    @route("GET", "/api/v1/statuses/{status_id}", "get")
    async def get(self, ctx: Ctx) -> Response:
        viewer = self._auth(ctx, required=False)
        post: Post | None = self.store(ctx)["statuses"].get(ctx.request.path_params["status_id"])
        if post is None:
            raise Reply(mastodon_error(404, "Record not found"))
        private = post.details.get("visibility") in ("private", "direct")
        if private and (viewer is None or viewer.key != post.account):
            raise Reply(mastodon_error(404, "Record not found"))
        return json_response(self.status_json(ctx, post))

    @route("GET", "/api/v2/instance", "instance")
    async def instance(self, ctx: Ctx) -> Response:
        self._auth(ctx, required=False)
        config = ctx.state.config
        limit = int(config.get("mastodon_max_characters", 500))
        host = ctx.request.headers.get("host") or "127.0.0.1"
        return json_response(
            {
                "domain": host,
                "title": "Handpost emulated Mastodon",
                "version": "4.5.0",
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "A network emulator for tests.",
                "usage": {"users": {"active_month": len(ctx.state.accounts["mastodon"])}},
                "languages": ["en"],
                "configuration": {
                    "urls": {"streaming": f"ws://{host}/mastodon"},
                    "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                    "statuses": {
                        "max_characters": limit,
                        "max_media_attachments": int(
                            config.get("mastodon_max_media_attachments", 4)
                        ),
                        "characters_reserved_per_url": int(
                            config.get("mastodon_characters_reserved_per_url", URL_LENGTH)
                        ),
                    },
                    "media_attachments": {
                        "supported_mime_types": list(SUPPORTED_MIME_TYPES),
                        "image_size_limit": 16777216,
                        "image_matrix_limit": 33177600,
                        "video_size_limit": 103809024,
                        "video_frame_rate_limit": 120,
                        "video_matrix_limit": 8294400,
                        "description_limit": 1500,
                    },
                    "polls": {
                        "max_options": 4,
                        "max_characters_per_option": 50,
                        "min_expiration": 300,
                        "max_expiration": 2629746,
                    },
                },
                "registrations": {"enabled": False, "approval_required": False, "message": None},
            }
        )

    # -- apps and OAuth (methods/apps.md, methods/oauth.md) -------------------------------

    @route("POST", "/api/v1/apps", "apps")
    async def create_app(self, ctx: Ctx) -> Response:
        """Register an app: redirect_uris as a string (space or newline separated) or, since
        4.3, an array; scopes default to "read"; a confidential client, whose secret never
        expires (client_secret_expires_at 0)."""
        body = ctx.data
        name = str(body.get("client_name") or "").strip()
        if not name:
            raise Reply(mastodon_error(422, "Validation failed: Application name can't be blank"))
        raw = body.get("redirect_uris") or ""
        uris = [u for u in (raw if isinstance(raw, list) else str(raw).split()) if u]
        if not uris:
            raise Reply(mastodon_error(422, "Validation failed: Redirect URI can't be blank"))
        scopes = oauth.parse_scopes(str(body.get("scopes") or "read"), " ")
        if any(scope not in SCOPES for scope in scopes):
            raise Reply(mastodon_error(422, "Validation failed: Scopes are invalid"))
        client = ctx.state.add_client(
            OAuthClient(
                network="mastodon",
                client_id=secrets.token_urlsafe(32),
                client_secret=secrets.token_urlsafe(32),
                redirect_uris=uris,
                name=name,
                scopes=scopes,
                website=str(body.get("website") or "") or None,
            )
        )
        return json_response(
            {
                "id": str(ctx.state.next_int()),
                "name": client.name,
                "website": client.website,
                "scopes": scopes,
                "redirect_uris": uris,
                "redirect_uri": "\n".join(uris),
                "vapid_key": VAPID_KEY,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "client_secret_expires_at": 0,
            }
        )

    @route("GET", "/.well-known/oauth-authorization-server", "oauth_metadata")
    async def oauth_metadata(self, ctx: Ctx) -> Response:
        """Authorization server metadata (RFC 8414), served since Mastodon 4.3."""
        if not ctx.state.config.get("mastodon_oauth_metadata", True):
            raise Reply(mastodon_error(404, "Not Found"))
        base = ctx.base_url
        return json_response(
            {
                "issuer": f"{base}/",
                "service_documentation": "https://docs.joinmastodon.org/",
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "app_registration_endpoint": f"{base}/api/v1/apps",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "scopes_supported": sorted(SCOPES),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    @route(("GET", "POST"), "/oauth/authorize", "authorize")
    async def authorize(self, ctx: Ctx) -> Response:
        """The consent page (GET), and its form's answer (POST)."""
        return oauth.authorize(ctx, AUTHORIZE)

    @route("POST", "/oauth/token", "token")
    async def token(self, ctx: Ctx) -> Response:
        form = ctx.data
        client = oauth.authenticated_client(ctx)
        if client is None:
            raise Reply(json_response(INVALID_CLIENT, 401))
        if form.get("grant_type") != "authorization_code":
            raise Reply(
                json_response(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "The authorization grant type is not supported "
                        "by the authorization server.",
                    },
                    400,
                )
            )
        code = oauth.reply_unless(
            oauth.redeem(
                ctx,
                form.get("code"),
                client.client_id,
                form.get("redirect_uri"),
                form.get("code_verifier"),
            ),
            lambda _reason: json_response(INVALID_GRANT, 400),
        )
        asked = form.get("scope")
        if asked and set(oauth.parse_scopes(str(asked), " ")) != set(code.scopes):
            raise Reply(json_response(INVALID_SCOPE, 400))
        token = ctx.state.issue_token(
            "mastodon", code.account_key, "access", scopes=code.scopes, client_id=client.client_id
        )
        return json_response(
            {
                "access_token": token.value,
                "token_type": "Bearer",
                "scope": " ".join(sorted(code.scopes)),
                "created_at": int(ctx.state.now()),
            }
        )

    @route("GET", "/api/v1/accounts/verify_credentials", "verify_credentials")
    async def verify_credentials(self, ctx: Ctx) -> Response:
        """The token's own account (needs read:accounts, or profile since 4.3)."""
        account = self._auth(ctx, "read:accounts", "profile")
        assert account is not None
        username = account.username
        return json_response(
            {
                "id": account.key,
                "username": username,
                "acct": username,
                "display_name": account.display_name,
                "locked": False,
                "bot": False,
                "created_at": iso(account.created_at),
                "note": "",
                "url": f"{ctx.base_url}/@{username}",
                "avatar": f"{ctx.base_url}/avatars/original/missing.png",
                "followers_count": 0,
                "following_count": 0,
                "statuses_count": len(ctx.state.posts_of("mastodon", account.key)),
                "source": {"privacy": "public", "sensitive": False, "language": "en", "note": ""},
            }
        )


VAPID_KEY = (
    "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="
)
SCOPES = frozenset(
    {
        "read",
        "write",
        "follow",
        "push",
        "profile",
        "read:accounts",
        "read:statuses",
        "read:notifications",
        "write:statuses",
        "write:media",
        "write:accounts",
        "write:favourites",
        "write:follows",
    }
)
INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "Client authentication failed due to unknown client, no client "
    "authentication included, or unsupported authentication method.",
}
INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The provided authorization grant is invalid, expired, revoked, does "
    "not match the redirection URI used in the authorization request, or was issued to "
    "another client.",
}
INVALID_SCOPE = {
    "error": "invalid_scope",
    "error_description": "The requested scope is invalid, unknown, or malformed.",
}

# docs.joinmastodon.org methods/oauth.md: scopes must be among the app's; PKCE with S256
# (4.3+); Doorkeeper's codes live 10 minutes; a refusal comes back as error=access_denied.
AUTHORIZE = oauth.AuthorizeRules(
    network_name="Mastodon",
    known_scopes=SCOPES,
    pkce="optional",
    pkce_methods=("S256",),
    code_lifetime_s=600,
    registered_scopes_only=True,
    deny={
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied the request.",
    },
)
