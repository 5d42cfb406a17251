"""Mastodon's live publishing: ``POST /api/v1/statuses`` with an Idempotency-Key."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from service.networks._common import BEARER_REDACTED
from service.networks._http import (
    Attempt,
    LiveAdapter,
    LiveConfig,
    NetworkError,
    Published,
    ReconnectNeeded,
    failure_for_status,
    json_body,
    mastodon_rate_limit_wait,
    media_failure,
    short_text,
)
from service.networks._media import (
    Processing,
    ProcessingState,
    file_part,
    wait_until_processed,
)
from service.networks.base import (
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
    UploadState,
)
from service.networks.mastodon.rules import RULES

# --- live publishing -----------------------------------------------------------------------

# Mastodon remembers an Idempotency-Key for up to an hour; keep a margin below it.
IDEMPOTENCY_WINDOW_SECONDS = 3600
_WINDOW_MARGIN_SECONDS = 300


class MastodonAdapter(LiveAdapter):
    """``POST /api/v1/statuses`` with ``Idempotency-Key`` = the post's publish key.

    Mastodon answers a repeated key with the status it already created, so an unclear send is
    simply sent again, as long as every retry falls within the hour Mastodon remembers keys.
    Tokens do not expire and cannot be refreshed: a 401 means the user revoked access.
    """

    rules = RULES
    publishes_media = True

    async def upload_file(
        self, attempt: Attempt, item: Attachment, previous: NetworkUpload | None
    ) -> NetworkUpload:
        """``POST /api/v2/media`` (the file and its alt text as ``description``): 200 when it
        is ready at once, 202 while it processes; then ``GET /api/v1/media/{id}`` until 200
        (206: still processing; 422: it failed). docs.joinmastodon.org methods/media.md."""
        files = attempt.media
        assert files is not None  # LiveAdapter.upload_media checked it
        first: Processing | None = None
        if previous is None:
            fields = {"description": item.alt_text} if item.alt_text else {}
            request = OutgoingRequest(
                method="POST",
                url=f"{self.base_url(attempt.account)}/api/v2/media",
                headers={"Authorization": BEARER_REDACTED},
                body=file_part(files, item, fields, "file"),
            )
            response = await attempt.api.send(request, self._token(attempt))
            body = json_body(response)
            if response.status_code not in (200, 202) or not body.get("id"):
                raise self._media_failure(response, body, f"uploading {item.describe()}")
            upload = NetworkUpload(str(body["id"]), UploadState.UPLOADED)
            await files.record(item, upload)
            ready = response.status_code == 200 and bool(body.get("url"))
            first = Processing(ProcessingState.DONE if ready else ProcessingState.PENDING)
        else:
            upload = previous
        try:
            await wait_until_processed(
                lambda: self._processing(attempt, upload.network_media_id),
                display_name="Mastodon",
                item=item,
                max_seconds=attempt.config.media_processing_seconds,
                first=first,
            )
        except _UploadGone:
            if previous is None:
                raise NetworkError(
                    FailureKind.RETRYABLE,
                    f"Mastodon lost {item.describe()} right after taking it; sending it again.",
                ) from None
            return await self.upload_file(attempt, item, None)  # the instance dropped it
        ready_upload = replace(upload, state=UploadState.READY)
        await files.record(item, ready_upload)
        return ready_upload

    async def _processing(self, attempt: Attempt, media_id: str) -> Processing:
        response = await attempt.api.get(
            f"{self.base_url(attempt.account)}/api/v1/media/{media_id}",
            self._token(attempt),
            Authorization=BEARER_REDACTED,
        )
        body = json_body(response)
        if response.status_code == 200:
            return Processing(ProcessingState.DONE)
        if response.status_code == 206:
            return Processing(ProcessingState.PENDING, check_after=1.0)
        if response.status_code == 422:
            return Processing(ProcessingState.FAILED, str(body.get("error") or ""))
        if response.status_code == 404:
            raise _UploadGone()
        raise self._media_failure(response, body, "asking how the processing goes")

    def _media_failure(
        self, response: httpx.Response, body: dict[str, Any], what: str
    ) -> Exception:
        return media_failure(
            "Mastodon",
            response,
            f"{what}: {body.get('error') or short_text(response)}",
            scope="write:media",
            rate_limit=mastodon_rate_limit_wait,
        )

    @staticmethod
    def _token(attempt: Attempt) -> dict[str, str]:
        return {"": attempt.credentials["access_token"]}

    async def create(self, attempt: Attempt) -> Published:
        request = RULES.build_create_request(attempt.content, attempt.account, attempt.publish_key)
        attempt.request = request
        response = await attempt.api.send(
            request, {"": attempt.credentials["access_token"]}, creates=True
        )
        body = json_body(response)
        if response.is_success and body.get("id"):
            status_id = str(body["id"])
            url = str(body.get("url") or body.get("uri") or "")
            return Published(status_id, url, response.status_code, "Published on Mastodon.")
        raise self._failure(response, body)

    def _failure(self, response: httpx.Response, body: dict[str, Any]) -> Exception:
        message = str(body.get("error") or short_text(response))
        status = response.status_code
        if status == 401:
            return ReconnectNeeded(f"Mastodon refused the access token: {message}", status)
        if status == 422 and "process" in message.lower():  # media not processed yet
            return NetworkError(
                FailureKind.RETRYABLE, f"Mastodon is not ready: {message}", http_status=status
            )
        return failure_for_status(
            "Mastodon",
            response,
            message,
            creates=True,
            rate_limit=mastodon_rate_limit_wait,
        )

    def _key_remembered(self, config: LiveConfig) -> bool:
        # Every retry happens within the missed-post grace window of the post's time.
        window = IDEMPOTENCY_WINDOW_SECONDS - _WINDOW_MARGIN_SECONDS
        return config.resend_window_seconds <= window

    async def reconcile(self, attempt: Attempt, failure: NetworkError) -> Published:
        if not self._key_remembered(attempt.config):
            raise failure
        raise NetworkError(
            FailureKind.RETRYABLE,
            f"{failure.message} Sending it again with the same Idempotency-Key: Mastodon "
            "returns the status it already created, if it did.",
            http_status=failure.http_status,
            retry_after=failure.retry_after,
        )

    def may_resend_after_crash(self, config: LiveConfig) -> bool:
        return self._key_remembered(config)


class _UploadGone(Exception):
    """The instance no longer has a recorded upload (unattached media are cleaned up)."""


ADAPTER = MastodonAdapter()
