"""Threads' media: containers made from a URL that Meta fetches
(developers.facebook.com/documentation/threads/posts, posts/accessibility).

Threads takes no bytes: a container names ``image_url`` or ``video_url`` on "a public
server", and Meta downloads the file. Handpost gives an unguessable, expiring link (a
presigned bucket URL, or ``/m/{token}`` under HANDPOST_PUBLIC_URL: docs/connect.md says what
a self-hoster must expose). Each file becomes a container (``IMAGE``/``VIDEO``, with
``alt_text``): the post's own container when it is the only file (it carries the text), else a
carousel item (``is_carousel_item=true``) that a ``CAROUSEL`` container lists in order. A
container is ready at ``FINISHED`` (``ERROR`` names why not) and expires unpublished after 24
hours; it is recorded as soon as Threads names it, so a retry waits for the same container
instead of making Meta fetch the file again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from service.networks._http import Attempt, graph_error, json_body, meta_failure
from service.networks._media import Processing, ProcessingState, wait_until_processed
from service.networks.base import (
    Attachment,
    NetworkUpload,
    OutgoingRequest,
    PostContent,
    UploadState,
)
from service.networks.threads.rules import API_VERSION, RULES, item_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# An unpublished container expires after 24 hours (status EXPIRED).
CONTAINER_LIFETIME = timedelta(hours=24)
POLL_SECONDS = 2.0
_STATES = {
    "FINISHED": ProcessingState.DONE,
    "PUBLISHED": ProcessingState.DONE,
    "ERROR": ProcessingState.FAILED,
    "EXPIRED": ProcessingState.FAILED,
}


def text_key(content: PostContent) -> str:
    """A digest of the text a single file's container carries: one made for other words
    (the post was edited since) is not reused."""
    return hashlib.sha256(RULES.sent_text(content).encode()).hexdigest()[:16]


def container_request(attempt: Attempt, form: dict[str, str]) -> OutgoingRequest:
    user_id = attempt.credentials["user_id"]
    return OutgoingRequest(
        method="POST",
        url=f"{RULES.api_base(attempt.account)}/{API_VERSION}/{user_id}/threads",
        headers=FORM,
        form=form,
    )


async def upload_file(
    attempt: Attempt,
    item: Attachment,
    previous: NetworkUpload | None,
    status: Callable[[str], Awaitable[tuple[str, str]]],
) -> NetworkUpload:
    """The file's container, FINISHED; a recorded one (for the same text) is waited for."""
    files = attempt.media
    assert files is not None
    key = text_key(attempt.content) if len(attempt.content.media) == 1 else ""
    upload = previous if previous is not None and previous.details.get("text") == key else None
    if upload is None:
        url = await files.public_url(item)
        request = container_request(attempt, item_form(attempt.content, item, url))
        attempt.request = request if len(attempt.content.media) == 1 else attempt.request
        response = await attempt.api.send(request, {"": attempt.credentials["access_token"]})
        container = json_body(response).get("id")
        if not response.is_success or not container:
            raise meta_failure("Threads", response, graph_error(response), creates=False)
        upload = NetworkUpload(
            str(container),
            UploadState.UPLOADED,
            expires_at=datetime.now(UTC) + CONTAINER_LIFETIME,
            details={"text": key},
        )
        await files.record(item, upload)

    async def check() -> Processing:
        state, detail = await status(upload.network_media_id)
        return Processing(
            _STATES.get(state, ProcessingState.PENDING), detail or state, POLL_SECONDS
        )

    await wait_until_processed(
        check,
        display_name="Threads",
        item=item,
        max_seconds=attempt.config.media_processing_seconds,
    )
    ready = NetworkUpload(
        upload.network_media_id, UploadState.READY, upload.expires_at, dict(upload.details)
    )
    await files.record(item, ready)
    return ready
