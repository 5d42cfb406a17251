"""YouTube's live publishing: the resumable upload, then the thumbnail; never a second video.

Every step is written down before the next one starts, in the database: the session URI
before the first byte and the confirmed offset after each chunk (``UploadLedger``); the video
id as soon as YouTube answers with it, and the thumbnail once set (the shared
``post_media_uploads``, through ``Attempt.media``). Whoever picks the post up next (the same
worker after a failure, another after a crash) continues from there:

* a video id: only the follow-ups remain;
* a session: ask it how far it got (``Content-Range: bytes */TOTAL``) and send the rest; if it
  answers with the video, that is the video;
* a session YouTube no longer knows (404/410: it expired after about a week): search the
  channel's uploads for the tag the upload carried (``handpost-{publish key}``), and open a new
  session only if the video is not there.

Opening a session creates nothing on the channel (the video exists once its last byte has
arrived), so a crash before the session URI was saved loses nothing but the session.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from service.networks._common import BEARER_REDACTED
from service.networks._http import (
    Api,
    Attempt,
    LiveAdapter,
    LiveConfig,
    NetworkError,
    Published,
    TokenExpired,
    expiring,
    failure_for_status,
    json_body,
    redacted_query,
    short_text,
)
from service.networks._media import MediaFiles, file_body
from service.networks.base import (
    AccountRef,
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
    UploadState,
)
from service.networks.youtube.connect import CONNECTOR
from service.networks.youtube.rules import RULES, marker_tag
from service.networks.youtube.upload import (
    Answer,
    ResumableSession,
    SessionFailure,
    SessionGone,
    Transfer,
    UploadLedger,
    UploadProgress,
    chunk_length,
)

log = logging.getLogger("handpost.networks.youtube")

# Tries within one attempt after a dropped connection or a 5xx, before leaving the rest to the
# dispatcher's next attempt (which continues from the same byte).
SESSION_TRIES = 5
BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0, 4.0)
_REFRESH_MARGIN_SECONDS = 300
# How many of the channel's newest uploads are searched for a video whose upload was lost.
SEARCH_PAGES = 4
GONE_STATES = frozenset({"rejected", "failed", "deleted"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
PRIVATE_LOCK = (
    "YouTube locked this video to private: you asked for {asked}, and YouTube made it private. "
    "Google does this to every upload from an API project that has not passed YouTube's API "
    "compliance audit; the lock cannot be lifted for this video, even by you on YouTube. A "
    "private or unlisted-by-link video can still be embedded for yourself; to publish publicly, "
    'have the project audited (docs/connect.md, "YouTube\'s audit") and upload again.'
)


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def google_reason(response: httpx.Response) -> tuple[str, str]:
    """(reason, message) of a Google API error (youtube/v3/docs/errors)."""
    error = json_body(response).get("error")
    if not isinstance(error, dict):
        return "", short_text(response)
    message = str(error.get("message") or short_text(response))
    errors = error.get("errors")
    reason = ""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason") or "")
    return reason, message


class YouTubeAdapter(LiveAdapter):
    """The video's upload is what creates the post (``RULES.publishes_media``: no separate
    media step): ``create`` uploads, resumes or finds the video, then sets its thumbnail."""

    rules = RULES

    # -- tokens (Google: the refresh token stays; a refusal is invalid_grant) --------------

    def can_refresh(self, credentials: dict[str, str]) -> bool:
        return CONNECTOR.refreshable(credentials)

    def needs_refresh(self, credentials: dict[str, str]) -> bool:
        return self.can_refresh(credentials) and expiring(credentials, _REFRESH_MARGIN_SECONDS)

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        """Google's refresh grant, as connecting renews it (the refresh token stays)."""
        return await CONNECTOR.refresh(api, account, credentials)

    def may_resend_after_crash(self, config: LiveConfig) -> bool:
        # The session and the video id are in the database before anything could exist, so a
        # post picked up after a crash continues the same upload or finds the video.
        return True

    # -- publishing --------------------------------------------------------------------------

    async def create(self, attempt: Attempt) -> Published:
        ledger: UploadLedger | None = attempt.ledger
        files = attempt.media
        video = next((m for m in attempt.content.media if m.kind == "video"), None)
        if ledger is None or files is None or video is None:
            raise NetworkError(
                FailureKind.PERMANENT,
                "A YouTube post is a video: attach one from your media, then reschedule.",
            )
        key = attempt.publish_key
        attempt.request = RULES.build_create_request(attempt.content, attempt.account, key)
        transfer = Transfer()
        done = await files.recorded(video)
        if done is not None and done.state is UploadState.READY:
            video_id = done.network_media_id
            privacy = str(done.details.get("privacy") or "") or None
            note = "The upload had finished before; "
        else:
            progress = await asyncio.to_thread(ledger.progress, key) or UploadProgress()
            resource = await self._upload(attempt, ledger, files, video, progress, transfer)
            video_id = str(resource["id"])
            status = resource.get("status")
            privacy = str(status.get("privacyStatus")) if isinstance(status, dict) else None
            await files.record(
                video, NetworkUpload(video_id, UploadState.READY, details={"privacy": privacy})
            )
            await asyncio.to_thread(ledger.session_closed, key, video.size_bytes)
            note = ""
        thumbnail = ""
        image = next((m for m in attempt.content.media if m.kind == "image"), None)
        if image is not None:
            thumbnail = await self._thumbnail(attempt, files, video_id, image)
        message = note + self._summary(attempt, video, privacy, transfer) + thumbnail
        asked = RULES.visibility_for(attempt.content)
        if privacy == "private" and asked != "private":
            lock = PRIVATE_LOCK.format(asked=asked)
            await asyncio.to_thread(ledger.private_lock, attempt.account.id, lock)
            message = f"{lock} {message}"
        return Published(video_id, watch_url(video_id), 200, message)

    async def _upload(
        self,
        attempt: Attempt,
        ledger: UploadLedger,
        files: MediaFiles,
        video: Attachment,
        progress: UploadProgress,
        transfer: Transfer,
    ) -> dict[str, Any]:
        """The video resource, from the saved session if there is one, else a new one."""
        token = attempt.credentials["access_token"]
        key = attempt.publish_key
        size = video.size_bytes
        if progress.session_uri is not None:
            session = ResumableSession(attempt.api, progress.session_uri, token, size)
            try:
                answer = await self._probe(session, transfer)
                transfer.resumed_from.append(answer.confirmed)
                return await self._send_rest(session, answer, files, video, ledger, key, transfer)
            except SessionGone:
                found = await self._search(attempt)
                if found is not None:
                    return found
                log.info("post %s: its YouTube upload session is gone; starting again", key)
                await asyncio.to_thread(ledger.session_closed, key)
        session = await self._open(attempt, ledger, video)
        try:
            first = Answer(None, 0)
            return await self._send_rest(session, first, files, video, ledger, key, transfer)
        except SessionGone:
            # A new session gone at once: something is wrong at YouTube; try again later,
            # from the search (the saved session will answer 404 again).
            raise NetworkError(
                FailureKind.RETRYABLE,
                "YouTube ended the upload session it had just opened; trying again later.",
            ) from None

    async def _open(
        self, attempt: Attempt, ledger: UploadLedger, video: Attachment
    ) -> ResumableSession:
        """Start a session (nothing exists yet) and save its URI before any byte is sent."""
        project = attempt.credentials.get("client_id") or "default"
        wait = await asyncio.to_thread(ledger.spend_quota, project)
        if wait is not None:
            raise NetworkError(
                FailureKind.RETRYABLE,
                "Today's YouTube upload quota for this Google project is used up "
                f"(HANDPOST_YOUTUBE_DAILY_QUOTA); it resets at midnight Pacific time, in "
                f"{wait / 3600:.1f} h. Nothing was sent.",
                retry_after=wait,
            )
        request = attempt.request
        assert request is not None
        opening = OutgoingRequest(
            method=request.method,
            url=request.url,
            headers={
                **request.headers,
                "X-Upload-Content-Length": str(video.size_bytes),
                "X-Upload-Content-Type": video.mime_type,
            },
            json=request.json,
        )
        response = await attempt.api.send(opening, {"": attempt.credentials["access_token"]})
        location = response.headers.get("location")
        if response.status_code == 200 and location:
            # The session lives where the API does; an address elsewhere is not followed
            # (Handpost would send the video, and the token, to it).
            if not location.startswith(f"{RULES.api_base(attempt.account)}/"):
                raise NetworkError(
                    FailureKind.PERMANENT,
                    "YouTube answered with an upload address on another host; nothing was sent.",
                )
            await asyncio.to_thread(
                ledger.session_opened, attempt.publish_key, location, video.size_bytes
            )
            return ResumableSession(
                attempt.api, location, attempt.credentials["access_token"], video.size_bytes
            )
        raise await self._failure(attempt, ledger, response, "starting the upload")

    async def _probe(self, session: ResumableSession, transfer: Transfer) -> Answer:
        """How far the session got, asking again after transient failures."""
        for attempt_number in range(SESSION_TRIES):
            try:
                return await session.probe()
            except (NetworkError, SessionFailure) as error:
                if not _transient(error) or attempt_number == SESSION_TRIES - 1:
                    raise self._unsure(error, transfer, session.total) from None
                await asyncio.sleep(BACKOFF_SECONDS[attempt_number])
        raise AssertionError("unreachable")

    async def _send_rest(
        self,
        session: ResumableSession,
        answer: Answer,
        files: MediaFiles,
        video: Attachment,
        ledger: UploadLedger,
        key: str,
        transfer: Transfer,
    ) -> dict[str, Any]:
        saved = answer.confirmed
        failures = 0
        while answer.video is None:
            offset = answer.confirmed
            if offset != saved:
                await asyncio.to_thread(ledger.confirmed, key, offset)
                saved = offset
            length = chunk_length(ledger.chunk_bytes, offset, video.size_bytes)
            try:
                if length <= 0:  # every byte is there: the session owes the video
                    answer = await session.probe()
                else:
                    answer = await session.send_chunk(files, video, offset, length, transfer)
                failures = 0
            except (NetworkError, SessionFailure) as error:
                failures += 1
                if not _transient(error) or failures >= SESSION_TRIES:
                    raise self._unsure(error, transfer, video.size_bytes) from None
                log.info("post %s: YouTube upload interrupted at byte %d; asking", key, offset)
                await asyncio.sleep(BACKOFF_SECONDS[failures - 1])
                answer = await self._probe(session, transfer)
                transfer.resumed_from.append(answer.confirmed)
        if not answer.video.get("id"):
            raise NetworkError(
                FailureKind.UNKNOWN,
                "YouTube finished the upload but its answer named no video; check the channel.",
            )
        return answer.video

    def _unsure(
        self, error: NetworkError | SessionFailure, transfer: Transfer, total: int
    ) -> NetworkError:
        """A session call that keeps failing. Nothing is sent blindly later: the next attempt
        asks the saved session first, so it is retryable, unless the whole file may have
        arrived and the session could not be asked (the user should know)."""
        if isinstance(error, SessionFailure):
            response = error.response
            if response.status_code == 401:
                raise TokenExpired("Google refused the access token", 401)
            reason, message = google_reason(response)
            if response.status_code < 500 and reason not in RATE_REASONS:
                return NetworkError(
                    FailureKind.PERMANENT,
                    f"YouTube refused the upload: {message}",
                    http_status=response.status_code,
                )
            text = f"YouTube failed during the upload (HTTP {response.status_code}: {message})"
            status: int | None = response.status_code
        else:
            text, status = error.message, error.http_status
        kind = FailureKind.UNKNOWN if transfer.highest >= total else FailureKind.RETRYABLE
        return NetworkError(
            kind,
            f"{text}. The upload session is saved; the next attempt asks YouTube how far it "
            "got and continues from there.",
            http_status=status,
        )

    async def _failure(
        self, attempt: Attempt, ledger: UploadLedger, response: httpx.Response, doing: str
    ) -> Exception:
        status = response.status_code
        reason, message = google_reason(response)
        if status == 401:
            return TokenExpired(f"Google refused the access token: {message}", status)
        if reason in QUOTA_REASONS:
            project = attempt.credentials.get("client_id") or "default"
            wait = await asyncio.to_thread(ledger.quota_spent, project)
            return NetworkError(
                FailureKind.RETRYABLE,
                f"YouTube says the Google project's daily quota is used up ({message}); it "
                f"resets at midnight Pacific time, in {wait / 3600:.1f} h. Nothing was uploaded.",
                http_status=status,
                retry_after=wait,
            )
        if reason == "uploadLimitExceeded":
            return NetworkError(
                FailureKind.PERMANENT,
                f"YouTube says this channel has uploaded as many videos as it may for now "
                f"({message}). Reschedule the post for later.",
                http_status=status,
            )
        if status == 403 and reason in RATE_REASONS:
            return NetworkError(
                FailureKind.RETRYABLE,
                f"YouTube is rate limiting Handpost: {message}.",
                http_status=status,
            )
        return failure_for_status("YouTube", response, f"{doing}: {message}", creates=False)

    # -- reconciliation -------------------------------------------------------------------

    async def _search(self, attempt: Attempt) -> dict[str, Any] | None:
        """The channel's video carrying this post's marker tag, if any (newest uploads)."""
        marker = marker_tag(attempt.publish_key)
        base = f"{RULES.api_base(attempt.account)}/youtube/v3"
        token = {"": attempt.credentials["access_token"]}
        try:
            channel = await self._read(
                attempt.api, f"{base}/channels?part=contentDetails&mine=true", token
            )
            items = channel.get("items") or []
            uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
            page_token = ""
            for _page in range(SEARCH_PAGES):
                url = redacted_query(
                    f"{base}/playlistItems",
                    part="contentDetails",
                    playlistId=str(uploads),
                    maxResults="50",
                    **({"pageToken": page_token} if page_token else {}),
                )
                listing = await self._read(attempt.api, url, token)
                ids = [
                    str(item["contentDetails"]["videoId"]) for item in listing.get("items") or []
                ]
                if ids:
                    videos = await self._read(
                        attempt.api,
                        redacted_query(f"{base}/videos", part="snippet,status", id=",".join(ids)),
                        token,
                    )
                    for video in videos.get("items") or []:
                        tags = (video.get("snippet") or {}).get("tags") or []
                        state = (video.get("status") or {}).get("uploadStatus")
                        if marker in tags and state not in GONE_STATES:
                            log.info(
                                "post %s: found its video %s", attempt.publish_key, video["id"]
                            )
                            return dict(video)
                page_token = str(listing.get("nextPageToken") or "")
                if not page_token:
                    return None
        except (KeyError, IndexError, TypeError):
            raise NetworkError(
                FailureKind.RETRYABLE,
                "YouTube's answer about the channel's uploads was not as documented; the "
                "session is kept, and the search is tried again later.",
            ) from None
        # Not among the newest uploads searched: too many uploads since to be sure.
        raise NetworkError(
            FailureKind.UNKNOWN,
            f"YouTube no longer knows the upload session, and the video is not among the "
            f"channel's {SEARCH_PAGES * 50} newest uploads; look for the tag {marker} on "
            "YouTube, then mark the post published or requeue it.",
        )

    async def _read(self, api: Api, url: str, token: dict[str, str]) -> dict[str, Any]:
        response = await api.get(url, token, Authorization=BEARER_REDACTED)
        if response.status_code == 401:
            raise TokenExpired("Google refused the access token", 401)
        if not response.is_success:
            reason, message = google_reason(response)
            raise NetworkError(
                FailureKind.RETRYABLE,
                f"Searching the channel's uploads failed ({reason or response.status_code}: "
                f"{message}); nothing is uploaded again until it succeeds.",
                http_status=response.status_code,
            )
        return json_body(response)

    # -- follow-ups ---------------------------------------------------------------------------

    async def _thumbnail(
        self, attempt: Attempt, files: MediaFiles, video_id: str, image: Attachment
    ) -> str:
        """thumbnails.set, once (recorded like any upload); the video is out whatever happens
        here, so a failure is reported, never a reason to upload the video again."""
        done = await files.recorded(image)
        if done is not None and done.network_media_id == video_id:
            return " Its thumbnail was set before."
        url = redacted_query(
            f"{RULES.api_base(attempt.account)}/upload/youtube/v3/thumbnails/set", videoId=video_id
        )
        request = OutgoingRequest(
            method="POST",
            url=url,
            headers={"Authorization": BEARER_REDACTED},
            body=file_body(files, image),
        )
        token = {"": attempt.credentials["access_token"]}
        for number in range(SESSION_TRIES):
            try:
                response = await attempt.api.send(request, token)
            except NetworkError as error:
                if number == SESSION_TRIES - 1:
                    return f" The thumbnail could not be set: {error.message}"
                await asyncio.sleep(BACKOFF_SECONDS[number])
                continue
            if response.is_success:
                await files.record(image, NetworkUpload(video_id, UploadState.READY))
                return " Its thumbnail is set."
            if response.status_code == 401:
                raise TokenExpired("Google refused the access token", 401)
            reason, message = google_reason(response)
            if response.status_code < 500 and reason not in RATE_REASONS:
                return f" YouTube refused the thumbnail: {message}"
            await asyncio.sleep(BACKOFF_SECONDS[number])
        return " The thumbnail could not be set: YouTube kept failing."

    def _summary(
        self, attempt: Attempt, video: Attachment, privacy: str | None, transfer: Transfer
    ) -> str:
        parts = [f"Uploaded to YouTube as {privacy or 'unknown privacy'}"]
        if transfer.sent:
            parts.append(f" ({video.size_bytes:,} bytes")
            if transfer.resumed_from:
                resumed = ", ".join(f"{offset:,}" for offset in transfer.resumed_from)
                parts.append(
                    f"; resumed at byte {resumed}, {transfer.sent_again:,} bytes sent again"
                )
            parts.append(")")
        parts.append(".")
        release = attempt.content.video.publish_at if attempt.content.video else None
        if release is not None:
            parts.append(f" YouTube makes it public at {release.isoformat()}.")
        return "".join(parts)


def _transient(error: NetworkError | SessionFailure) -> bool:
    """A dropped connection or a 5xx: ask the session and go on (the guide's advice)."""
    if isinstance(error, SessionFailure):
        status = error.response.status_code
        return status >= 500 or status == 429
    return error.kind is not FailureKind.PERMANENT


ADAPTER = YouTubeAdapter()
