"""LinkedIn Posts API: POST /rest/posts, the Images and Videos APIs' uploads, and the token
refresh POST /oauth/v2/accessToken."""

from __future__ import annotations

import hashlib
import re
import secrets
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from . import media, oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Post, make_jwt
from .textutil import linkedin_render

ACCESS_TOKEN_LIFETIME_S = 60 * 24 * 3600
COMMENTARY_LIMIT = 3000
VISIBILITIES = frozenset({"PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"})
LIFECYCLE_STATES = frozenset({"PUBLISHED", "DRAFT"})
# Videos API: parts of 4 MB (4,194,304 bytes), the last one shorter; files up to 500 MB
# (the guide's figure for member and organization videos).
VIDEO_PART_BYTES = 4 * 1024 * 1024
VIDEO_MAX_BYTES = 500 * 1024 * 1024
# Who may read an image's status: not a member's w_member_social token (see _asset_read).
IMAGE_READ_SCOPES = ("r_member_social", "r_organization_social", "rw_organization_admin")
_ASSET_STATUS = {
    "uploading": "WAITING_UPLOAD",
    "in_progress": "PROCESSING",
    "succeeded": "AVAILABLE",
    "failed": "PROCESSING_FAILED",
}
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

    def new_store(self) -> dict[str, Any]:
        # Per video: the next part to hash, the digest so far, parts that came early.
        return {"hashes": {}}

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
        attached = self._attached_media(ctx, body.get("content"), body["author"])
        if ctx.state.config.get("natural_duplicates") and commentary:
            for post in ctx.state.posts_of("linkedin"):
                if post.details.get("author") == body["author"] and post.text == commentary:
                    raise Reply(
                        li_error(422, f"Content is a duplicate of {post.id}", "DUPLICATE_POST")
                    )
        urn = f"urn:li:share:{ctx.state.snowflake(22)}"
        for upload, item in attached:
            upload.attached_to = urn
            upload.alt_text = str(item.get("altText") or "")
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
                    "media": [
                        {
                            "id": item["id"],
                            "kind": upload.media_type,
                            "alt_text": item.get("altText"),
                            "title": item.get("title"),
                            "sha256": upload.received.sha256 if upload.received else None,
                        }
                        for upload, item in attached
                    ],
                    "linkedin_version": version,
                    "rendered_text": rendered,
                    "truncated": truncated,
                },
            )
        )
        return Response(status_code=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})

    # -- media: the Images API and the Videos API ------------------------------------------
    # learn.microsoft.com/linkedin/marketing/community-management/shares/images-api and
    # .../videos-api: initializeUpload answers an upload URL (images: one PUT of the whole
    # file, 201) or one URL per 4 MB part (videos: each PUT answers an ETag; finalizeUpload
    # takes the ETags in order); the asset is PROCESSING, then AVAILABLE or PROCESSING_FAILED;
    # a post may reference only an AVAILABLE asset of its author ("a post referencing
    # unprocessed media is rejected": the error text is invented).

    def _media_call(self, ctx: Ctx) -> dict[str, Any]:
        version = self._check_version(ctx)
        self._auth(ctx, "w_member_social", f"partnerApiImages.CREATE.{version}")
        if ctx.body_kind != "json" or not isinstance(ctx.body, dict):
            raise Reply(li_error(400, "Request body must be a JSON object", "BAD_REQUEST"))
        return ctx.body

    def _owner(self, ctx: Ctx, request: Any) -> str:
        owner = request.get("owner") if isinstance(request, dict) else None
        if not isinstance(owner, str) or not owner:
            raise Reply(_unprocessable("/initializeUploadRequest/owner :: field is required"))
        assert ctx.account is not None
        if owner != ctx.account.author:
            raise Reply(
                li_error(
                    403,
                    "Not enough permissions to access: owner is not the authenticated member",
                    "ACCESS_DENIED",
                    serviceErrorCode=100,
                )
            )
        return owner

    def _new_asset(self, ctx: Ctx, kind: str, owner: str, size: int | None) -> media.Upload:
        assert ctx.account is not None
        upload = media.Upload(
            network="linkedin",
            id="D" + secrets.token_hex(9).upper(),
            account=ctx.account.key,
            media_type=kind,
            created_at=ctx.state.now(),
            total_bytes=size,
            details={"owner": owner, "signature": secrets.token_urlsafe(12)},
        )
        return media.media_store(ctx.state).add(upload)

    def _upload_url(self, ctx: Ctx, upload: media.Upload, path: str) -> str:
        return f"{ctx.base_url}/dms-uploads/{upload.id}/{path}?sig={upload.details['signature']}"

    @route("POST", "/rest/images", "images")
    async def images(self, ctx: Ctx) -> Response:
        body = self._media_call(ctx)
        if ctx.query.get("action") != "initializeUpload":
            raise Reply(li_error(400, "Unsupported action", "BAD_REQUEST"))
        owner = self._owner(ctx, body.get("initializeUploadRequest"))
        upload = self._new_asset(ctx, "image", owner, None)
        return json_response(
            {
                "value": {
                    "uploadUrlExpiresAt": int((ctx.state.now() + 86400) * 1000),
                    "uploadUrl": self._upload_url(ctx, upload, "uploaded-image/0"),
                    "image": f"urn:li:image:{upload.id}",
                }
            }
        )

    def _uploading(self, ctx: Ctx) -> media.Upload:
        """The asset an upload URL names, if its signature is right; a token, when sent,
        must be valid (the image guide sends one, the video guide's parts none)."""
        if ctx.bearer() is not None:
            self._auth(ctx)
        upload = media.media_store(ctx.state).get("linkedin", ctx.request.path_params["asset"])
        if upload is None or ctx.query.get("sig") != upload.details["signature"]:
            raise Reply(Response(status_code=403))
        ctx.entry["account"] = upload.account
        return upload

    @route("PUT", "/dms-uploads/{asset}/uploaded-image/0", "image_upload", streamed=True)
    async def image_upload(self, ctx: Ctx) -> Response:
        upload = self._uploading(ctx)
        received = await media.read_raw(ctx.request)
        ctx.entry["body"] = {"size": received.size, "sha256": received.sha256}
        if not received.size or upload.received is not None:
            raise Reply(li_error(400, "Empty upload, or the image was uploaded already"))
        upload.segments[0] = received
        media.complete(
            ctx.state, upload, received, processes=True, fault=media.media_fault(ctx.fault)
        )
        return Response(status_code=201)

    @route("POST", "/rest/videos", "videos")
    async def videos(self, ctx: Ctx) -> Response:
        body = self._media_call(ctx)
        action = ctx.query.get("action")
        if action == "initializeUpload":
            return self._video_init(ctx, body.get("initializeUploadRequest"))
        if action == "finalizeUpload":
            return self._video_finalize(ctx, body.get("finalizeUploadRequest"))
        raise Reply(li_error(400, "Unsupported action", "BAD_REQUEST"))

    def _video_init(self, ctx: Ctx, request: Any) -> Response:
        owner = self._owner(ctx, request)
        size = request.get("fileSizeBytes")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise Reply(_unprocessable("/initializeUploadRequest/fileSizeBytes :: required"))
        if size > VIDEO_MAX_BYTES:
            raise Reply(_unprocessable("/initializeUploadRequest/fileSizeBytes :: too large"))
        upload = self._new_asset(ctx, "video", owner, size)
        part = int(ctx.state.config.get("linkedin_video_part_bytes") or VIDEO_PART_BYTES)
        ranges = [(first, min(size, first + part) - 1) for first in range(0, size, part)]
        upload.details.update(ranges=ranges, etags={})
        self.store(ctx)["hashes"][upload.id] = (0, hashlib.sha256(), {})
        return json_response(
            {
                "value": {
                    "uploadUrlsExpireAt": int((ctx.state.now() + 86400) * 1000),
                    "video": f"urn:li:video:{upload.id}",
                    "uploadInstructions": [
                        {
                            "uploadUrl": self._upload_url(ctx, upload, f"uploaded-video/{n}"),
                            "firstByte": first,
                            "lastByte": last,
                        }
                        for n, (first, last) in enumerate(ranges)
                    ],
                    "uploadToken": "",
                }
            }
        )

    @route("PUT", "/dms-uploads/{asset}/uploaded-video/{part:int}", "video_upload", streamed=True)
    async def video_upload(self, ctx: Ctx) -> Response:
        upload = self._uploading(ctx)
        number = ctx.request.path_params["part"]
        ranges = upload.details.get("ranges") or []
        if upload.finalized or not 0 <= number < len(ranges):
            raise Reply(Response(status_code=403))
        first, last = ranges[number]
        received = await media.read_raw(ctx.request)
        ctx.entry["body"] = {"size": received.size, "sha256": received.sha256}
        if received.size != last - first + 1:
            raise Reply(li_error(400, f"Part {number} must be {last - first + 1} bytes"))
        upload.segments[number] = received
        etag = '"/' + received.sha256[:24] + '"'
        upload.details["etags"][str(number)] = etag
        self._hash_in_order(ctx, upload, number, received)
        return Response(status_code=200, headers={"ETag": etag})

    def _hash_in_order(
        self, ctx: Ctx, upload: media.Upload, number: int, received: media.Received
    ) -> None:
        """The whole file's digest, fed the parts in order (an early part waits its turn; a
        part sent again replaces the bytes only if its turn has not come)."""
        next_part, digest, waiting = self.store(ctx)["hashes"][upload.id]
        if number < next_part:
            return
        waiting[number] = received.data
        while next_part in waiting and waiting[next_part] is not None:
            digest.update(waiting.pop(next_part))
            next_part += 1
        self.store(ctx)["hashes"][upload.id] = (next_part, digest, waiting)

    def _video_finalize(self, ctx: Ctx, request: Any) -> Response:
        if not isinstance(request, dict):
            raise Reply(_unprocessable("/finalizeUploadRequest :: field is required"))
        urn = str(request.get("video") or "")
        assert ctx.account is not None
        store = media.media_store(ctx.state)
        upload = store.get("linkedin", urn.removeprefix("urn:li:video:"), ctx.account.key)
        if upload is None or upload.media_type != "video":
            raise Reply(li_error(404, f"Video {urn} not found", "NOT_FOUND"))
        if upload.finalized:
            return Response(status_code=200)
        ranges = upload.details["ranges"]
        expected = [upload.details["etags"].get(str(n)) for n in range(len(ranges))]
        next_part, digest, _ = self.store(ctx)["hashes"][upload.id]
        if request.get("uploadedPartIds") != expected or next_part != len(ranges):
            raise Reply(
                li_error(400, "Uploaded part ids do not match the parts uploaded for this video")
            )
        upload.finalized = True
        size = sum(part.size for part in upload.segments.values())
        media.complete(
            ctx.state,
            upload,
            media.Received(size, digest.hexdigest(), None, "video/mp4"),
            processes=True,
            fault=media.media_fault(ctx.fault),
        )
        return Response(status_code=200)

    @route("GET", "/rest/images/{urn}", "image_get")
    async def image_get(self, ctx: Ctx) -> Response:
        return self._asset_read(ctx, "image")

    @route("GET", "/rest/videos/{urn}", "video_get")
    async def video_get(self, ctx: Ctx) -> Response:
        return self._asset_read(ctx, "video")

    def _asset_read(self, ctx: Ctx, kind: str) -> Response:
        version = self._check_version(ctx)
        self._auth(ctx)
        assert ctx.account is not None
        token = ctx.state.check_token("linkedin", ctx.bearer()).token
        if kind == "image" and token is not None and not token.allows(*IMAGE_READ_SCOPES):
            # Postiz (linkedin.provider.ts) found that a member's w_member_social token cannot
            # read an image's status, and waits instead.
            raise Reply(
                li_error(
                    403,
                    f"Not enough permissions to access: images.GET.{version}",
                    "ACCESS_DENIED",
                    serviceErrorCode=100,
                )
            )
        urn = unquote(ctx.request.path_params["urn"])
        upload = media.media_store(ctx.state).get(
            "linkedin", urn.removeprefix(f"urn:li:{kind}:"), ctx.account.key
        )
        if upload is None or upload.media_type != kind:
            raise Reply(li_error(404, f"{urn} not found", "NOT_FOUND"))
        status = _ASSET_STATUS[upload.state(ctx.state.now())]
        body: dict[str, Any] = {"id": urn, "owner": upload.details["owner"], "status": status}
        if status == "PROCESSING_FAILED":
            body["processingFailureReason"] = upload.failure
        if status == "AVAILABLE":
            body["downloadUrl"] = f"https://media.licdn.com/dms/{kind}/{upload.id}"
        return json_response(body)

    def _attached_media(
        self, ctx: Ctx, content: Any, author: str
    ) -> list[tuple[media.Upload, dict[str, Any]]]:
        """The assets a post's ``content.media`` or ``content.multiImage`` names, checked."""
        if not isinstance(content, dict):
            return []
        if isinstance(content.get("media"), dict):
            items = [content["media"]]
        elif isinstance(content.get("multiImage"), dict):
            items = content["multiImage"].get("images") or []
            if not 2 <= len(items) <= 20:
                raise Reply(_unprocessable("/content/multiImage/images :: 2 to 20 images"))
        else:
            return []
        assert ctx.account is not None
        attached = []
        for index, item in enumerate(items):
            urn = str(item.get("id") or "") if isinstance(item, dict) else ""
            kind = "video" if urn.startswith("urn:li:video:") else "image"
            upload = media.media_store(ctx.state).get(
                "linkedin", urn.removeprefix(f"urn:li:{kind}:"), ctx.account.key
            )
            if upload is None or upload.details["owner"] != author:
                raise Reply(_unprocessable(f"/content :: media {urn or index} not found"))
            status = _ASSET_STATUS[upload.state(ctx.state.now())]
            if status != "AVAILABLE":
                raise Reply(_unprocessable(f"/content :: media {urn} is {status}, not AVAILABLE"))
            attached.append((upload, item))
        return attached

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
