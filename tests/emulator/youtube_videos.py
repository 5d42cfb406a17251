"""YouTube's videos: the resumable upload, thumbnails, and the reads that find a video again.

Sources (developers.google.com/youtube/v3):
* guides/using_resumable_upload_protocol: ``POST /upload/youtube/v3/videos?uploadType=resumable``
  with the video resource and ``X-Upload-Content-Length``/``-Type`` answers 200 with the session
  URI in ``Location``; ``PUT`` chunks with ``Content-Range: bytes FIRST-LAST/TOTAL``; ``308 Resume
  Incomplete`` with ``Range: bytes=0-N`` (no ``Range``: nothing received); ``201 Created`` with the
  video resource once the last byte arrived; ``PUT`` with ``Content-Range: bytes */TOTAL`` and no
  body asks for the status; an expired session answers 404 (a session lives about a week).
  Chunks are multiples of 256 KiB except the last. Bytes that reached the server before a
  connection broke are kept: the status tells the client where to go on.
* docs/videos/insert: the video exists only once the upload is complete; "All videos uploaded
  via the videos.insert endpoint from unverified API projects created after 28 July 2020 will
  be restricted to private viewing mode" (the app's ``audited`` flag here); ``status.publishAt``
  only with ``privacyStatus`` private; errors ``invalidTitle``, ``invalidDescription``,
  ``invalidTags``, ``invalidCategoryId``, ``invalidPublishAt``, ``uploadLimitExceeded``.
* docs/videos (resource): ``status.uploadStatus`` (uploaded, processed, failed, rejected,
  deleted), ``processingDetails.processingStatus`` (processing, succeeded, failed, terminated).
* determine_quota_cost: videos.insert 1,600 units, thumbnails.set 50, lists 1; quota resets at
  midnight Pacific time; past it, 403 ``quotaExceeded``.
* docs/thumbnails/set: ``POST /upload/youtube/v3/thumbnails/set?videoId=``, image/jpeg or
  image/png, at most 2 MB (413 ``mediaBodyTooLarge``).
* docs/playlistItems/list, docs/channels/list (``contentDetails.relatedPlaylists.uploads``),
  docs/videos/list: how a client finds its own videos (owners see their private ones and tags).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import ClientDisconnect
from starlette.responses import Response

from .framework import Ctx, Reply, drop_connection, json_response, route
from .google import INSUFFICIENT, UNAUTHENTICATED, google_error
from .media import Received, Upload, complete, media_fault, media_store
from .state import Account, Post, iso

QUANTUM = 256 * 1024
MAX_THUMBNAIL = 2 * 1024 * 1024
UPLOAD_SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
READ_SCOPES = (
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
CATEGORIES = frozenset(
    {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
)
PRIVACIES = frozenset({"public", "unlisted", "private"})
_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")


def _bad(message: str, reason: str) -> Reply:
    error = google_error(400, message, reason, "INVALID_ARGUMENT", "youtube.video")
    return Reply(json_response(error, 400))


@dataclass
class UploadSession:
    upload_id: str
    account_key: str
    client_id: str
    resource: dict[str, Any]
    total: int | None
    content_type: str
    created_at: float
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    video_id: str | None = None


@dataclass
class VideoStore:
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> resource
    # (client id, Pacific day) -> units used
    quota: dict[tuple[str, str], int] = field(default_factory=dict)


def pacific_day(now: float) -> str:
    return datetime.fromtimestamp(now, tz=ZoneInfo("America/Los_Angeles")).date().isoformat()


def seconds_to_pacific_midnight(now: float) -> float:
    local = datetime.fromtimestamp(now, tz=ZoneInfo("America/Los_Angeles"))
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    return midnight.astimezone(UTC).timestamp() - now


class VideoUploads:
    """The upload, thumbnail and listing endpoints; mixed into the YouTube model."""

    def videos_store(self, ctx: Ctx) -> VideoStore:
        stores = ctx.state.stores
        if "youtube_videos" not in stores:
            stores["youtube_videos"] = VideoStore()
        store: VideoStore = stores["youtube_videos"]
        return store

    # -- auth and quota ------------------------------------------------------------------

    def _caller(self, ctx: Ctx, scopes: tuple[str, ...]) -> tuple[Account, str]:
        check = ctx.state.check_token("youtube", ctx.bearer())
        if not check.ok or check.token is None:
            raise Reply(json_response(UNAUTHENTICATED, 401))
        if not check.token.allows(*scopes):
            raise Reply(json_response(INSUFFICIENT, 403))
        return ctx.authenticated(check), check.token.client_id or ""

    def _charge(self, ctx: Ctx, client_id: str, units: int) -> None:
        store = self.videos_store(ctx)
        now = ctx.state.now()
        key = (client_id, pacific_day(now))
        allowance = int(ctx.state.config.get("youtube_daily_quota", 10_000))
        if store.quota.get(key, 0) + units > allowance:
            message = (
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.'
            )
            raise Reply(
                json_response(google_error(403, message, "quotaExceeded", "PERMISSION_DENIED"), 403)
            )
        store.quota[key] = store.quota.get(key, 0) + units

    # -- videos.insert: the session ----------------------------------------------------------

    @route("POST", "/upload/youtube/v3/videos", "insert")
    async def insert(self, ctx: Ctx) -> Response:
        account, client_id = self._caller(ctx, UPLOAD_SCOPES)
        if ctx.query.get("uploadType") != "resumable":
            raise _bad("Only resumable uploads are emulated (uploadType=resumable).", "badRequest")
        if not ctx.query.get("part"):
            raise _bad("Required parameter: part", "required")
        resource = ctx.body if isinstance(ctx.body, dict) else {}
        self._check_metadata(resource)
        length = ctx.header("x-upload-content-length")
        if length is not None and not length.isdigit():
            raise _bad("X-Upload-Content-Length must be a number of bytes.", "badRequest")
        content_type = ctx.header("x-upload-content-type") or "application/octet-stream"
        if not (content_type.startswith("video/") or content_type == "application/octet-stream"):
            raise _bad("The uploaded file's type is not a video.", "invalidContentType")
        self._charge(ctx, client_id, int(ctx.state.config.get("youtube_upload_cost", 1600)))
        upload_id = secrets.token_urlsafe(32)
        self.videos_store(ctx).sessions[upload_id] = UploadSession(
            upload_id=upload_id,
            account_key=account.key,
            client_id=client_id,
            resource=resource,
            total=int(length) if length is not None else None,
            content_type=content_type,
            created_at=ctx.state.now(),
        )
        location = (
            f"{ctx.base_url}/upload/youtube/v3/videos?uploadType=resumable"
            f"&part={ctx.query['part']}&upload_id={upload_id}"
        )
        ctx.entry["upload_id"] = upload_id
        return Response(status_code=200, headers={"Location": location})

    @staticmethod
    def _check_metadata(resource: dict[str, Any]) -> None:
        snippet = resource.get("snippet")
        status = resource.get("status") or {}
        if not isinstance(snippet, dict) or not isinstance(status, dict):
            raise _bad("The request metadata is invalid.", "invalidVideoMetadata")
        title = snippet.get("title")
        if (
            not isinstance(title, str)
            or not title.strip()
            or len(title) > 100
            or set("<>") & set(title)
        ):
            raise _bad("The request metadata specifies an invalid video title.", "invalidTitle")
        description = snippet.get("description", "")
        if (
            not isinstance(description, str)
            or len(description.encode()) > 5000
            or set("<>") & set(description)
        ):
            raise _bad(
                "The request metadata specifies an invalid video description.", "invalidDescription"
            )
        tags = snippet.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _bad("The request metadata specifies invalid video keywords.", "invalidTags")
        counted = sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)
        if counted > 500 or any(set("<>,") & set(t) for t in tags):
            raise _bad("The request metadata specifies invalid video keywords.", "invalidTags")
        category = snippet.get("categoryId")
        if category is not None and str(category) not in CATEGORIES:
            raise _bad("The video's category is not valid.", "invalidCategoryId")
        privacy = status.get("privacyStatus", "public")
        if privacy not in PRIVACIES:
            raise _bad(
                "The request metadata specifies an invalid privacy status.", "invalidVideoMetadata"
            )
        publish_at = status.get("publishAt")
        if publish_at is not None:
            try:
                moment = datetime.fromisoformat(str(publish_at).replace("Z", "+00:00"))
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None or privacy != "private":
                raise _bad(
                    "The request metadata specifies an invalid scheduled publishing time.",
                    "invalidPublishAt",
                )

    # -- the session: chunks and status --------------------------------------------------------

    @route("PUT", "/upload/youtube/v3/videos", "create", streamed=True)
    async def upload(self, ctx: Ctx) -> Response:
        self._caller(ctx, UPLOAD_SCOPES)
        store = self.videos_store(ctx)
        session = store.sessions.get(str(ctx.query.get("upload_id") or ""))
        lifetime = float(ctx.state.config.get("youtube_session_lifetime_s", 7 * 24 * 3600))
        if session is None or ctx.state.now() - session.created_at > lifetime:
            await self._drain(ctx)
            raise Reply(json_response(google_error(404, "Not Found", "notFound", "NOT_FOUND"), 404))
        ctx.entry["upload_id"] = session.upload_id
        match = _CONTENT_RANGE.fullmatch((ctx.header("content-range") or "").strip())
        if match is None:
            await self._drain(ctx)
            raise _bad(
                "A Content-Range header is required: bytes FIRST-LAST/TOTAL or bytes */TOTAL.",
                "badRequest",
            )
        first, last, total = match.groups()
        if total != "*":
            if session.total is not None and int(total) != session.total:
                await self._drain(ctx)
                raise _bad(
                    "The Content-Range total differs from the upload's length.", "badRequest"
                )
            session.total = int(total)
        ctx.entry["content_range"] = ctx.header("content-range")
        if session.video_id is not None:
            await self._drain(ctx)
            return json_response(store.videos[session.video_id], 201)
        if first is None:  # bytes */TOTAL: how far did it get?
            await self._drain(ctx)
            return self._progress(ctx, session)
        start, end = int(first), int(last)
        if start != session.received:
            # Bytes the server does not have yet must come in order: answer where to go on.
            await self._drain(ctx)
            return self._progress(ctx, session)
        size = end - start + 1
        is_last = session.total is not None and end + 1 == session.total
        if size <= 0 or (size % QUANTUM and not is_last):
            await self._drain(ctx)
            raise _bad("Chunks must be a multiple of 256 KiB, except the last.", "badRequest")
        if session.total is not None and end >= session.total:
            await self._drain(ctx)
            raise _bad("The Content-Range goes past the upload's length.", "badRequest")
        arrived = await self._receive(ctx, session, size)
        ctx.entry["bytes_received"] = arrived
        if arrived is None:
            return Response(status_code=500)  # never delivered: the connection is gone
        if session.total is not None and session.received == session.total:
            video = self._finish(ctx, session)
            return json_response(video, 201)
        return self._progress(ctx, session)

    async def _receive(self, ctx: Ctx, session: UploadSession, size: int) -> int | None:
        """Read the chunk, keeping every byte that arrives; None if the connection is gone."""
        arrived = 0
        limit = ctx.drop_after_bytes
        try:
            async for piece in ctx.request.stream():
                if not piece:
                    continue
                if limit is not None and arrived + len(piece) >= limit:
                    piece = piece[: max(0, limit - arrived)]
                    session.digest.update(piece)
                    session.received += len(piece)
                    arrived += len(piece)
                    await drop_connection(ctx.request)
                    ctx.entry["connection"] = "dropped"
                    return None
                piece = piece[: size - arrived]
                session.digest.update(piece)
                session.received += len(piece)
                arrived += len(piece)
        except ClientDisconnect:
            ctx.entry["client_disconnected"] = True
            return None
        return arrived

    @staticmethod
    async def _drain(ctx: Ctx) -> None:
        try:
            async for _ in ctx.request.stream():
                pass
        except ClientDisconnect:
            pass

    @staticmethod
    def _progress(ctx: Ctx, session: UploadSession) -> Response:
        headers = {"Range": f"bytes=0-{session.received - 1}"} if session.received else {}
        return Response(status_code=308, headers=headers)

    def _finish(self, ctx: Ctx, session: UploadSession) -> dict[str, Any]:
        """The last byte arrived: the video exists."""
        store = self.videos_store(ctx)
        state = ctx.state
        account = state.accounts["youtube"][session.account_key]
        video_id = secrets.token_urlsafe(8)[:11]
        snippet = dict(session.resource.get("snippet") or {})
        status = dict(session.resource.get("status") or {})
        asked = status.get("privacyStatus", "public")
        app = state.client("youtube", session.client_id)
        locked = app is not None and not app.audited
        now = state.now()
        status.update(
            {
                "uploadStatus": "uploaded",
                "privacyStatus": "private" if locked else asked,
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
            }
        )
        if locked:
            status.pop("publishAt", None)  # a locked video stays private: nothing to release
        video = {
            "kind": "youtube#video",
            "etag": secrets.token_urlsafe(12),
            "id": video_id,
            "snippet": {
                **snippet,
                "publishedAt": iso(now),
                "channelId": account.key,
                "channelTitle": account.display_name,
                "categoryId": str(snippet.get("categoryId") or "22"),
            },
            "status": status,
            "processingDetails": {"processingStatus": "processing"},
        }
        session.video_id = video_id
        store.videos[video_id] = video
        # The file in the shared media store: its bytes' hash, and its processing (the
        # media_processing_s setting, or a media_processing_* marker fault on "create").
        upload = Upload(
            network="youtube",
            id=video_id,
            account=account.key,
            media_type=session.content_type,
            created_at=now,
            total_bytes=session.total,
        )
        media_store(state).add(upload)
        received = Received(
            session.received, session.digest.hexdigest(), None, session.content_type
        )
        complete(state, upload, received, processes=True, fault=media_fault(ctx.fault))
        state.add_post(
            Post(
                network="youtube",
                id=video_id,
                account=account.key,
                username=account.username,
                text=str(snippet.get("description") or ""),
                created_at=now,
                url=f"https://www.youtube.com/watch?v={video_id}",
                details={
                    "title": snippet.get("title"),
                    "tags": list(snippet.get("tags") or []),
                    "categoryId": video["snippet"]["categoryId"],
                    "privacyStatus": status["privacyStatus"],
                    "asked_privacy": asked,
                    "locked_private": locked,
                    "publishAt": status.get("publishAt"),
                    "size": session.received,
                    "sha256": session.digest.hexdigest(),
                    "content_type": session.content_type,
                    "upload_id": session.upload_id,
                    "thumbnail": None,
                },
            )
        )
        return video

    def _refresh_processing(self, ctx: Ctx, video: dict[str, Any]) -> dict[str, Any]:
        """processingDetails and uploadStatus as the file's processing stands now."""
        upload = media_store(ctx.state).get("youtube", video["id"])
        state = upload.state(ctx.state.now()) if upload is not None else "succeeded"
        if state == "succeeded":
            video["processingDetails"] = {"processingStatus": "succeeded"}
            video["status"]["uploadStatus"] = "processed"
        elif state == "failed":
            video["processingDetails"] = {"processingStatus": "failed"}
            video["status"]["uploadStatus"] = "failed"
            video["status"]["failureReason"] = "codec"
        return video

    # -- thumbnails.set --------------------------------------------------------------------------

    @route("POST", "/upload/youtube/v3/thumbnails/set", "thumbnails", streamed=True)
    async def thumbnails(self, ctx: Ctx) -> Response:
        account, client_id = self._caller(ctx, UPLOAD_SCOPES)
        store = self.videos_store(ctx)
        video = store.videos.get(str(ctx.query.get("videoId") or ""))
        body = await ctx.request.body()
        if video is None or video["snippet"]["channelId"] != account.key:
            raise Reply(
                json_response(
                    google_error(
                        404,
                        "The video that you are trying to update cannot be found.",
                        "videoNotFound",
                        "NOT_FOUND",
                    ),
                    404,
                )
            )
        kind = (ctx.header("content-type") or "").split(";")[0].strip()
        if kind not in ("image/jpeg", "image/png", "application/octet-stream"):
            raise _bad("The provided image content is invalid.", "invalidImage")
        if len(body) > MAX_THUMBNAIL:
            raise Reply(
                json_response(
                    google_error(
                        413,
                        "The thumbnail image file you provided is too large.",
                        "mediaBodyTooLarge",
                        "FAILED_PRECONDITION",
                    ),
                    413,
                )
            )
        self._charge(ctx, client_id, 50)
        digest = hashlib.sha256(body).hexdigest()
        for post in ctx.state.posts_of("youtube"):
            if post.id == video["id"]:
                post.details["thumbnail"] = {"sha256": digest, "size": len(body), "type": kind}
                post.details["thumbnail_sets"] = int(post.details.get("thumbnail_sets", 0)) + 1
        url = f"https://i.ytimg.com/vi/{video['id']}/maxresdefault.jpg"
        return json_response(
            {
                "kind": "youtube#thumbnailSetResponse",
                "items": [{"default": {"url": url, "width": 120, "height": 90}}],
            }
        )

    # -- reading one's videos back ------------------------------------------------------------

    @route("GET", "/youtube/v3/videos", "videos")
    async def videos(self, ctx: Ctx) -> Response:
        account, _ = self._caller(ctx, READ_SCOPES)
        if not ctx.query.get("part"):
            raise _bad("Required parameter: part", "required")
        wanted = [i for i in str(ctx.query.get("id") or "").split(",") if i]
        if len(wanted) > 50:
            raise _bad("Too many ids (at most 50).", "badRequest")
        store = self.videos_store(ctx)
        items = []
        for video_id in wanted:
            video = store.videos.get(video_id)
            if video is None:
                continue
            own = video["snippet"]["channelId"] == account.key
            if not own and video["status"]["privacyStatus"] == "private":
                continue  # others' private videos are not listed
            shown = self._refresh_processing(ctx, video)
            if not own:  # tags and processing are the owner's to see
                shown = {
                    **shown,
                    "snippet": {k: v for k, v in shown["snippet"].items() if k != "tags"},
                }
                shown.pop("processingDetails", None)
            items.append(shown)
        return json_response(
            {
                "kind": "youtube#videoListResponse",
                "etag": secrets.token_urlsafe(12),
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )

    @route("GET", "/youtube/v3/playlistItems", "playlist_items")
    async def playlist_items(self, ctx: Ctx) -> Response:
        account, _ = self._caller(ctx, READ_SCOPES)
        playlist = str(ctx.query.get("playlistId") or "")
        if not ctx.query.get("part") or not playlist:
            raise _bad("Required parameters: part, playlistId", "required")
        if playlist != uploads_playlist(account.key):
            raise Reply(
                json_response(
                    google_error(
                        404,
                        "The playlist identified with the request's playlistId parameter "
                        "cannot be found.",
                        "playlistNotFound",
                        "NOT_FOUND",
                    ),
                    404,
                )
            )
        try:
            size = min(50, max(0, int(ctx.query.get("maxResults") or 5)))
            start = int(ctx.query.get("pageToken") or 0)
        except ValueError:
            raise _bad("Invalid maxResults or pageToken.", "badRequest") from None
        # Newest first, as the uploads playlist lists them.
        mine = [
            v
            for v in reversed(self.videos_store(ctx).videos.values())
            if v["snippet"]["channelId"] == account.key
        ]
        page = mine[start : start + size]
        body: dict[str, Any] = {
            "kind": "youtube#playlistItemListResponse",
            "items": [
                {
                    "kind": "youtube#playlistItem",
                    "id": secrets.token_urlsafe(12),
                    "contentDetails": {
                        "videoId": v["id"],
                        "videoPublishedAt": v["snippet"]["publishedAt"],
                    },
                }
                for v in page
            ],
            "pageInfo": {"totalResults": len(mine), "resultsPerPage": size},
        }
        if start + size < len(mine):
            body["nextPageToken"] = str(start + size)
        return json_response(body)


def uploads_playlist(channel_id: str) -> str:
    """A channel's uploads playlist id: "UU" and the channel id after its "UC"."""
    return "UU" + channel_id[2:] if channel_id.startswith("UC") else "UU" + channel_id
