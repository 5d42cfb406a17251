"""Mastodon: POST /api/v1/statuses (Idempotency-Key), GET /api/v1/statuses/{id},
GET /api/v2/instance."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Account, Post, RateInfo, iso
from .textutil import mastodon_html, mastodon_length

IDEMPOTENCY_TTL_S = 3600
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

    def _auth(self, ctx: Ctx, *, required: bool = True) -> Account | None:
        token = ctx.bearer()
        if token is None and not required and not ctx.header("authorization"):
            return None
        check = ctx.state.check_token("mastodon", token)
        if not check.ok:
            message = _AUTH_MESSAGES.get(check.status, "The access token is invalid")
            raise Reply(mastodon_error(401, message))
        account = ctx.authenticated(check)
        assert check.token is not None
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
                {"id": str(m), "type": "image"} for m in details.get("media_ids", [])
            ],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    @route("POST", "/api/v1/statuses", "create")
    async def create(self, ctx: Ctx) -> Response:
        account = self._auth(ctx)
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
        if key:
            store["idempotency"][(account.key, key)] = (status_id, now)
        return json_response(self.status_json(ctx, post))

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
                        "supported_mime_types": ["image/jpeg", "image/png", "image/gif"],
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
