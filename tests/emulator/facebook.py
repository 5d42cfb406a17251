"""Facebook Pages (Graph API): POST /v{N}.0/{page_id}/feed and GET /v{N}.0/{object_id}; Page
photos, the Resumable Upload API and Page videos."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from . import graph, media, oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Account, Post, RateInfo

DUPLICATE_USER_MSG = (
    "This status update is identical to the last one you posted. Try posting something "
    "different, or delete your previous update."
)


def graph_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FacebookModel(NetworkModel):
    name = "facebook"

    def new_store(self) -> dict[str, Any]:
        return {"posts": {}, "photos": {}, "sessions": {}, "next": 122_100_000_000_000_000}

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        body = graph.status_error_body(status, params, throttle_code=32)
        headers: dict[str, str] = {}
        if body["error"]["code"] in graph.THROTTLE_CODES:
            headers = self.throttle(ctx, float(params.get("retry_after_s", 300)))
        return body, headers

    def rate_headers(self, ctx: Ctx, info: RateInfo) -> dict[str, str]:
        page_id = ctx.request.path_params.get("page_id") or (
            ctx.account.key if ctx.account else "0"
        )
        used = (
            100
            if info.exceeded or info.remaining == 0
            else 100 - info.remaining * 100 // info.limit
        )
        regain = 0
        if info.remaining == 0:
            regain = max(1, int((info.reset_at - ctx.state.now() + 59) // 60))
        usage = {
            page_id: [
                {
                    "type": "pages",
                    "call_count": used,
                    "total_cputime": min(used, 5),
                    "total_time": min(used, 5),
                    "estimated_time_to_regain_access": regain,
                }
            ]
        }
        return {"x-business-use-case-usage": json.dumps(usage, separators=(",", ":"))}

    def expired_token(self, ctx: Ctx) -> Response:
        return graph.auth_error("expired", ctx)

    def duplicate(self, ctx: Ctx) -> Response:
        return json_response(
            graph.graph_error(
                "Duplicate status message",
                506,
                subcode=1455006,
                is_transient=False,
                user_title="Duplicate Post",
                user_msg=DUPLICATE_USER_MSG,
            ),
            400,
        )

    def not_found(self, ctx: Ctx) -> Response:
        return json_response(
            graph.graph_error("Unknown path components: " + ctx.request.url.path, 2500), 400
        )

    @route("POST", "/v{version:int}.0/{page_id}/feed", "create")
    async def create(self, ctx: Ctx) -> Response:
        account = graph.authenticate(ctx, "facebook")
        page_id = ctx.request.path_params["page_id"]
        token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        scoped_out = token is not None and not token.allows("pages_manage_posts")
        if account.key != page_id or scoped_out:
            raise Reply(
                json_response(
                    graph.graph_error(
                        "(#200) If posting to a page, requires both pages_read_engagement and "
                        "pages_manage_posts as an admin with sufficient administrative permission",
                        200,
                        type_="OAuthException",
                    ),
                    403,
                )
            )
        self.count(ctx, ("page", page_id), 4800, 86400)
        params = ctx.params
        message = params.get("message") or ""
        link = params.get("link")
        if not isinstance(message, str):
            message = str(message)
        attached = self._attached_media(ctx, page_id)
        if not message.strip() and not link and not attached:
            raise Reply(
                json_response(graph.graph_error("(#100) Missing message or attachment", 100), 400)
            )
        store = self.store(ctx)
        if ctx.state.config.get("natural_duplicates") and message:
            previous = ctx.state.posts_of("facebook", page_id)
            if previous and previous[-1].text == message:
                raise Reply(self.duplicate(ctx))
        store["next"] += 1 + ctx.state.next_int() % 7
        post_number = str(store["next"])
        post_id = f"{page_id}_{post_number}"
        permalink = f"https://www.facebook.com/{page_id}/posts/{post_number}"
        post = ctx.state.add_post(
            Post(
                network="facebook",
                id=post_id,
                account=page_id,
                username=account.username,
                text=message,
                created_at=ctx.state.now(),
                url=permalink,
                details={
                    "link": link,
                    "published": str(params.get("published", "true")).lower() != "false",
                    "graph_version": f"v{ctx.request.path_params['version']}.0",
                    "media": attached,
                },
            )
        )
        store["posts"][post_id] = post
        for item in attached:
            store["photos"][item["id"]]["attached_to"] = post_id
        result: dict[str, Any] = {"id": post_id}
        if "permalink_url" in graph.requested_fields(ctx):
            result["permalink_url"] = permalink
        return json_response(result)

    # -- media ---------------------------------------------------------------------------
    # Photos (developers.facebook.com/docs/graph-api/reference/page/photos; Postiz
    # facebook.provider.ts): multipart ``source`` (or ``url``) with ``published=false`` gives
    # an unpublished photo id; ``/feed`` takes them as ``attached_media=[{"media_fbid"}]``.
    # Alt text as ``alt_text_custom`` (a field of the Photo node; that the upload takes it is
    # unverified). Videos (developers.facebook.com/docs/video-api/guides/publishing and
    # graph-api/guides/upload): a Resumable Upload API session on the app with a *user* token
    # (``POST /{app-id}/uploads`` → ``upload:<id>``), bytes with ``Authorization: OAuth`` and a
    # ``file_offset`` header (→ ``{"h": handle}``), ``GET /upload:<id>`` tells the offset after
    # an interruption; then ``POST /{page-id}/videos`` with the Page token and
    # ``fbuploader_video_file_chunk=<handle>`` publishes it; ``GET /{video-id}?fields=status``
    # shows ``video_status`` processing → ready (or error).

    async def _multipart(self, ctx: Ctx) -> dict[str, media.FilePart]:
        """Read a multipart body into ``ctx`` (its fields join the parameters)."""
        fields, files = media.multipart(ctx, await media.raw_body(ctx))
        if fields:
            ctx.body, ctx.body_kind = fields, "multipart"
        return files

    def _page_writer(self, ctx: Ctx, page_id: str) -> Account:
        account = graph.authenticate(ctx, "facebook")
        token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        scoped_out = token is not None and not token.allows("pages_manage_posts")
        if account.key != page_id or scoped_out:
            raise Reply(
                json_response(
                    graph.graph_error(
                        "(#200) If posting to a page, requires both pages_read_engagement and "
                        "pages_manage_posts as an admin with sufficient administrative permission",
                        200,
                    ),
                    403,
                )
            )
        return account

    @route("POST", "/v{version:int}.0/{page_id}/photos", "photos")
    async def photos(self, ctx: Ctx) -> Response:
        files = await self._multipart(ctx)
        page_id = ctx.request.path_params["page_id"]
        self._page_writer(ctx, page_id)
        self.count(ctx, ("page", page_id), 4800, 86400)
        source = files.get("source")
        if source is None or not source.data:
            raise Reply(json_response(graph.graph_error("(#324) Requires upload file", 324), 400))
        store = self.store(ctx)
        store["next"] += 1 + ctx.state.next_int() % 7
        photo_id = str(store["next"])
        asset = media.add_asset(ctx, photo_id, "image")
        asset.uploads = 1
        asset.content_type = source.content_type
        asset.alt_text = ctx.params.get("alt_text_custom")
        asset.complete(source.data, ctx.state.now())
        published = str(ctx.params.get("published", "true")).lower() != "false"
        store["photos"][photo_id] = {"published": published, "attached_to": None}
        return json_response({"id": photo_id})

    def _attached_media(self, ctx: Ctx, page_id: str) -> list[dict[str, Any]]:
        """``attached_media`` (a JSON list, or form fields ``attached_media[0]``...): the
        Page's unpublished photos, each attached once."""
        raw = ctx.params.get("attached_media")
        if raw is None:
            indexed = sorted(
                (int(k[15:-1]), v)
                for k, v in ctx.params.items()
                if k.startswith("attached_media[") and k[15:-1].isdigit()
            )
            raw = [v for _, v in indexed] or None
        if raw is None:
            return []
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = None
        if not isinstance(raw, list):
            raise Reply(_invalid("(#100) param attached_media must be an array"))
        store = self.store(ctx)
        attached = []
        for item in raw:
            if isinstance(item, str):
                try:
                    item = json.loads(item)
                except ValueError:
                    item = None
            fbid = str(item.get("media_fbid") or "") if isinstance(item, dict) else ""
            photo = store["photos"].get(fbid)
            asset = media.find(ctx, fbid)
            if photo is None or asset is None or asset.account != page_id:
                raise Reply(_invalid(f"(#100) Invalid media_fbid: {fbid or item!r}"))
            if photo["published"] or photo["attached_to"] is not None:
                raise Reply(
                    _invalid(f"(#100) The photo {fbid} is already published and cannot be attached")
                )
            attached.append(
                {"id": fbid, "kind": "image", "alt_text": asset.alt_text, "sha256": asset.sha256}
            )
        return attached

    @route("POST", "/v{version:int}.0/{app_id:int}/uploads", "upload_session")
    async def upload_session(self, ctx: Ctx) -> Response:
        person = graph.authenticate(ctx, "facebook")
        token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        assert token is not None
        app_id = str(ctx.request.path_params["app_id"])
        if person.kind != "user" or (token.client_id is not None and token.client_id != app_id):
            raise Reply(
                _invalid(
                    "(#100) The app user must have an administrator or developer role on this "
                    "app, with a User access token"
                )
            )
        params = ctx.params
        try:
            length = int(params.get("file_length") or 0)
        except ValueError:
            length = 0
        file_type = str(params.get("file_type") or "")
        if length <= 0 or file_type not in _UPLOAD_TYPES or not params.get("file_name"):
            raise Reply(_invalid("(#100) file_name, file_length and file_type are required"))
        session = secrets.token_urlsafe(18)
        asset = media.add_asset(ctx, session, "video" if file_type == "video/mp4" else "image")
        asset.size = length
        asset.content_type = file_type
        asset.details.update(handle=f"4::{secrets.token_urlsafe(24)}", app_id=app_id)
        asset.parts[0] = b""
        self.store(ctx)["sessions"][asset.details["handle"]] = session
        return json_response({"id": f"upload:{session}"})

    def _session(self, ctx: Ctx) -> media.MediaAsset:
        graph.authenticate(ctx, "facebook")
        session = ctx.request.path_params["session"]
        asset = media.find(ctx, session)
        if asset is None:
            raise Reply(graph.object_missing(f"upload:{session}"))
        return asset

    @route("POST", "/v{version:int}.0/upload:{session}", "upload")
    async def upload(self, ctx: Ctx) -> Response:
        asset = self._session(ctx)
        data = await media.raw_body(ctx)
        try:
            offset = int(ctx.header("file_offset") or "")
        except ValueError:
            raise Reply(_invalid("(#100) The file_offset header is required")) from None
        stored = asset.parts.get(0, b"")
        if asset.complete_at is not None or offset != len(stored):
            # The session says where it is; the client asks with GET and resumes there.
            raise Reply(
                _invalid(f"(#100) file_offset {offset} does not match the session's {len(stored)}")
            )
        if len(stored) + len(data) > asset.size:
            raise Reply(_invalid("(#100) More bytes than file_length"))
        asset.uploads += 1
        asset.parts[0] = stored + data
        asset.received = len(asset.parts[0])
        if asset.received == asset.size:
            asset.complete(stored + data, ctx.state.now())
        return json_response({"h": asset.details["handle"]})

    @route("GET", "/v{version:int}.0/upload:{session}", "upload")
    async def upload_status(self, ctx: Ctx) -> Response:
        asset = self._session(ctx)
        return json_response({"id": f"upload:{asset.id}", "file_offset": asset.received})

    @route("POST", "/v{version:int}.0/{page_id}/videos", "videos")
    async def videos(self, ctx: Ctx) -> Response:
        page_id = ctx.request.path_params["page_id"]
        account = self._page_writer(ctx, page_id)
        self.count(ctx, ("page", page_id), 4800, 86400)
        params = ctx.params
        store = self.store(ctx)
        handle = str(params.get("fbuploader_video_file_chunk") or "")
        session = store["sessions"].get(handle)
        upload = media.assets(ctx.state).get(("facebook", session or ""))
        if upload is None or upload.kind != "video":
            raise Reply(_invalid("(#100) Invalid fbuploader_video_file_chunk handle"))
        if upload.complete_at is None:
            raise Reply(
                _invalid("(#100) The upload session is incomplete", user_title="Upload Incomplete")
            )
        store["next"] += 1 + ctx.state.next_int() % 7
        video_id = str(store["next"])
        asset = media.add_asset(ctx, video_id, "video", size=upload.size)
        asset.uploads = upload.uploads
        asset.complete_at = ctx.state.now()
        asset.sha256, asset.received = upload.sha256, upload.received
        media.mark_failure(ctx, asset)
        description = str(params.get("description") or "")
        permalink = f"https://www.facebook.com/{page_id}/videos/{video_id}/"
        post = ctx.state.add_post(
            Post(
                network="facebook",
                id=video_id,
                account=page_id,
                username=account.username,
                text=description,
                created_at=ctx.state.now(),
                url=permalink,
                details={
                    "title": params.get("title"),
                    "published": True,
                    "graph_version": f"v{ctx.request.path_params['version']}.0",
                    "media": [{"id": video_id, "kind": "video", "sha256": upload.sha256}],
                },
            )
        )
        store["posts"][video_id] = post
        return json_response({"id": video_id})

    # -- Facebook Login (manual flow) and the Pages a person manages ---------------------

    @route(("GET", "POST"), "/v{version:int}.0/dialog/oauth", "authorize")
    async def authorize(self, ctx: Ctx) -> Response:
        """The consent page (GET), and its form's answer (POST)."""
        return oauth.authorize(ctx, AUTHORIZE)

    @route("GET", "/v{version:int}.0/oauth/access_token", "token")
    async def access_token(self, ctx: Ctx) -> Response:
        """The code for a short-lived user token, or (``fb_exchange_token``) a short-lived
        user token for a long-lived one; both need the app secret."""
        params = ctx.params
        client = ctx.state.client("facebook", params.get("client_id"))
        if client is None or params.get("client_secret") != client.client_secret:
            raise Reply(json_response(graph.graph_error("Error validating client secret.", 1), 400))
        if params.get("grant_type") == "fb_exchange_token":
            check = ctx.state.check_token("facebook", params.get("fb_exchange_token"))
            if not check.ok or check.account is None or check.account.kind != "user":
                raise Reply(graph.auth_error(check.status, ctx))
            assert check.token is not None
            ctx.authenticated(check)
            return self._user_token(
                ctx, check.account.key, check.token.scopes, client.client_id, LONG_LIVED_S
            )
        code = oauth.reply_unless(
            oauth.redeem(
                ctx, params.get("code"), client.client_id, params.get("redirect_uri"), None
            ),
            _code_error,
        )
        return self._user_token(ctx, code.account_key, code.scopes, client.client_id, SHORT_LIVED_S)

    def _user_token(
        self,
        ctx: Ctx,
        person: str,
        scopes: frozenset[str] | None,
        client_id: str,
        lifetime: float,
    ) -> Response:
        token = ctx.state.issue_token(
            "facebook",
            person,
            "access",
            None,
            lifetime,
            scopes=scopes,
            client_id=client_id,
            short_lived=lifetime == SHORT_LIVED_S,
        )
        return json_response(
            {"access_token": token.value, "token_type": "bearer", "expires_in": int(lifetime)}
        )

    def _person(self, ctx: Ctx) -> Account:
        account = graph.authenticate(ctx, "facebook")
        if account.kind != "user":
            raise Reply(
                json_response(
                    graph.graph_error(
                        "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
                        100,
                    ),
                    400,
                )
            )
        return account

    @route("GET", "/v{version:int}.0/me/accounts", "accounts")
    async def pages(self, ctx: Ctx) -> Response:
        """The Pages the person manages, each with a Page token; made from a long-lived user
        token, a Page token does not expire (access-tokens guide)."""
        person = self._person(ctx)
        user_token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        assert user_token is not None
        if not user_token.allows("pages_show_list"):
            return json_response({"data": []})
        lifetime = SHORT_LIVED_S if user_token.short_lived else None
        data = []
        for page_id in person.manages:
            page = ctx.state.accounts["facebook"].get(page_id)
            if page is None:
                continue
            token = ctx.state.issue_token(
                "facebook",
                page.key,
                "access",
                None,
                lifetime,
                scopes=user_token.scopes,
                client_id=user_token.client_id,
            )
            data.append(
                {
                    "access_token": token.value,
                    "category": "Personal blog",
                    "category_list": [{"id": "2700", "name": "Personal blog"}],
                    "name": page.display_name,
                    "id": page.key,
                    "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
                }
            )
        return json_response(
            {"data": data, "paging": {"cursors": {"before": "QVFIUm", "after": "QVFIUn"}}}
        )

    @route("GET", "/v{version:int}.0/me/permissions", "permissions")
    async def permissions(self, ctx: Ctx) -> Response:
        self._person(ctx)
        token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        assert token is not None
        granted = sorted(token.scopes) if token.scopes is not None else sorted(PERMISSIONS)
        return json_response({"data": [{"permission": p, "status": "granted"} for p in granted]})

    @route("GET", "/v{version:int}.0/{object_id}", "get")
    async def get(self, ctx: Ctx) -> Response:
        graph.authenticate(ctx, "facebook")
        object_id = ctx.request.path_params["object_id"]
        fields = graph.requested_fields(ctx)
        post: Post | None = self.store(ctx)["posts"].get(object_id)
        if post is None:
            page = ctx.state.accounts["facebook"].get(object_id)
            if page is None:
                raise Reply(graph.object_missing(object_id))
            return json_response({"id": page.key, "name": page.display_name})
        values: dict[str, Any] = {
            "id": post.id,
            "message": post.text,
            "description": post.text,
            "created_time": graph_time(post.created_at),
            "permalink_url": post.url,
            "is_published": post.details.get("published", True),
        }
        asset = media.assets(ctx.state).get(("facebook", post.id))
        if asset is not None and asset.kind == "video":
            values["status"] = _video_status(asset.state(ctx.state.now()), asset.fails)
        wanted = fields or ["created_time", "message"]
        result = {"id": post.id}
        for name in wanted:
            if name not in values:
                raise Reply(
                    json_response(
                        graph.graph_error(
                            f"(#100) Tried accessing nonexisting field ({name}) "
                            "on node type (Post)",
                            100,
                        ),
                        400,
                    )
                )
            result[name] = values[name]
        return json_response(result)


# The Resumable Upload API's file types (graph-api/guides/upload).
_UPLOAD_TYPES = frozenset({"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"})


def _invalid(message: str, **extra: Any) -> Response:
    return json_response(graph.graph_error(message, 100, **extra), 400)


def _video_status(state: str, failure: str | None) -> dict[str, Any]:
    """A Video's ``status`` (graph-api/reference/video: video_status and the phases)."""
    if state == media.READY:
        return {"video_status": "ready", "processing_phase": {"status": "complete"}}
    if state == media.FAILED:
        return {
            "video_status": "error",
            "processing_phase": {
                "status": "error",
                "errors": [{"code": 1363008, "message": failure or "processing failed"}],
            },
        }
    return {"video_status": "processing", "processing_phase": {"status": "in_progress"}}


SHORT_LIVED_S = 3600  # "usually have a lifetime of about an hour or two" (access-tokens guide)
LONG_LIVED_S = 60 * 24 * 3600
PERMISSIONS = frozenset(
    {
        "public_profile",
        "email",
        "pages_show_list",
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_manage_engagement",
        "pages_manage_metadata",
        "read_insights",
        "business_management",
    }
)


def _people(ctx: Ctx) -> list[Account]:
    """The people who can log in: those registered with kind "user"; if none, one admin who
    manages every registered Page."""
    accounts = ctx.state.accounts["facebook"]
    people = [a for a in accounts.values() if a.kind == "user"]
    if people:
        return people
    admin = Account(
        network="facebook",
        key="100000000000001",
        username="page.admin",
        display_name="Page Admin",
        kind="user",
        manages=[a.key for a in accounts.values()],
        created_at=ctx.state.now(),
    )
    ctx.state.add_account(admin)
    return [admin]


# developers.facebook.com, facebook-login/guides/advanced/manual-flow: the dialog, a refusal
# as error_reason=user_denied&error=access_denied, "#_=_" on the redirect; a person may
# untick permissions ("Edit access"); no PKCE in this flow. The code's lifetime is not
# documented: 10 minutes, as RFC 6749 recommends.
AUTHORIZE = oauth.AuthorizeRules(
    network_name="Facebook",
    known_scopes=PERMISSIONS,
    scope_separator=",",
    pkce="none",
    partial_grant=True,
    code_lifetime_s=600,
    deny={
        "error_reason": "user_denied",
        "error": "access_denied",
        "error_description": "Permissions error.",
    },
    fragment="#_=_",
    people=_people,
)

_CODE_ERRORS = {
    "used": ("This authorization code has been used.", 36009),
    "expired": ("This authorization code has expired.", 36007),
    "redirect": (
        "Error validating verification code. Please make sure your redirect_uri is identical "
        "to the one you used in the OAuth dialog request",
        36008,
    ),
}


def _code_error(reason: str) -> Response:
    message, subcode = _CODE_ERRORS.get(reason, ("Invalid verification code format.", None))
    return json_response(graph.graph_error(message, 100, subcode=subcode), 400)
