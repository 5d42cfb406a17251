"""Facebook Pages' media flows (developers.facebook.com).

* Photos (graph-api/reference/page/photos; Postiz facebook.provider.ts): each photo is
  ``POST /{page-id}/photos`` as multipart ``source`` with ``published=false``, which gives an
  unpublished photo id; the post is then ``/feed`` with ``attached_media=[{"media_fbid"}]``.
  Alt text goes as ``alt_text_custom`` (a field of the Photo node; that the upload takes it
  is not confirmed in Meta's documents).
* Video (video-api/guides/publishing, graph-api/guides/upload): the Resumable Upload API
  with the person's **user** token and the app's id: ``POST /{app-id}/uploads`` opens a
  session (``upload:<id>``), the bytes go with ``Authorization: OAuth`` and ``file_offset``
  and the last answer carries the file handle ``h``; after an interruption ``GET
  /upload:<id>`` tells the ``file_offset`` to continue from, so nothing is sent twice. The
  session is recorded as soon as it exists, and its handle once the bytes are all in. The
  Page's ``/videos`` call (``fbuploader_video_file_chunk=<handle>``) then publishes it.
"""

from __future__ import annotations

from typing import Any

import httpx

from service.networks._common import REDACTED
from service.networks._http import (
    Attempt,
    NetworkError,
    graph_error,
    json_body,
    meta_failure,
    redacted_query,
)
from service.networks._media import Processing, ProcessingState, bytes_body, file_part
from service.networks.base import (
    Attachment,
    FailureKind,
    NetworkUpload,
    OutgoingRequest,
    UploadState,
)
from service.networks.facebook.rules import RULES

# Bytes per request of the resumable upload: a dropped connection costs at most this much.
VIDEO_CHUNK_BYTES = 8 * 1024 * 1024
SESSION = "session"  # details["phase"] of a recorded upload session (bytes still going)


def graph(attempt: Attempt) -> str:
    return f"{RULES.api_base(attempt.account)}/{attempt.config.facebook_graph_version}"


def page_token(attempt: Attempt) -> dict[str, str]:
    return {"": attempt.credentials["page_access_token"]}


async def _send(
    attempt: Attempt, request: OutgoingRequest, secrets: dict[str, str], doing: str
) -> dict[str, Any]:
    response = await attempt.api.send(request, secrets)
    body = json_body(response)
    if response.is_success:
        return body
    error = graph_error(response)
    failure = meta_failure("Facebook", response, error, creates=False)
    if isinstance(failure, NetworkError):
        failure.message = f"{failure.message} ({doing})"
    raise failure


async def upload_photo(attempt: Attempt, item: Attachment) -> NetworkUpload:
    """An unpublished photo of the Page, ready to attach (photos need no processing)."""
    assert attempt.media is not None
    fields = {"published": "false"}
    if item.alt_text:
        fields["alt_text_custom"] = item.alt_text
    body = await _send(
        attempt,
        OutgoingRequest(
            method="POST",
            url=redacted_query(
                f"{graph(attempt)}/{attempt.account.handle}/photos", access_token=REDACTED
            ),
            body=file_part(attempt.media, item, fields, "source"),
        ),
        page_token(attempt),
        f"uploading {item.describe()}",
    )
    photo = body.get("id")
    if not photo:
        raise NetworkError(FailureKind.RETRYABLE, "Facebook did not name the uploaded photo.")
    upload = NetworkUpload(str(photo), UploadState.READY)
    await attempt.media.record(item, upload)
    return upload


def _user(attempt: Attempt) -> tuple[str, dict[str, str]]:
    """The app id and the person's token the Resumable Upload API needs."""
    app_id = attempt.credentials.get("app_id")
    token = attempt.credentials.get("user_access_token")
    if not app_id or not token:
        raise NetworkError(
            FailureKind.PERMANENT,
            "Facebook takes videos only through the app's upload sessions, with the token of "
            "the person who connected the Page. Connect the Page again so Handpost has it.",
        )
    return app_id, {"": token}


async def upload_video(
    attempt: Attempt, item: Attachment, previous: NetworkUpload | None
) -> NetworkUpload:
    """The video's file handle, all bytes in: a recorded session continues where it is."""
    assert attempt.media is not None
    app_id, user = _user(attempt)
    session = previous.network_media_id if previous is not None else None
    if session is None:
        body = await _send(
            attempt,
            OutgoingRequest(
                method="POST",
                url=redacted_query(
                    f"{graph(attempt)}/{app_id}/uploads",
                    file_name=item.filename or f"video.{item.format}",
                    file_length=str(item.size_bytes),
                    file_type=item.mime_type,
                    access_token=REDACTED,
                ),
            ),
            user,
            f"starting the upload of {item.describe()}",
        )
        session = str(body.get("id") or "")
        if not session.startswith("upload:"):
            raise NetworkError(FailureKind.RETRYABLE, "Facebook did not open an upload session.")
        await attempt.media.record(
            item, NetworkUpload(session, UploadState.UPLOADED, details={"phase": SESSION})
        )
        offset = 0
    else:
        offset = await _offset(attempt, session, user, item)
    handle = await _send_from(attempt, item, session, offset, user)
    ready = NetworkUpload(handle, UploadState.READY, details={"session": session})
    await attempt.media.record(item, ready)
    return ready


def _oauth(offset: int) -> dict[str, str]:
    return {"Authorization": f"OAuth {REDACTED}", "file_offset": str(offset)}


async def _offset(attempt: Attempt, session: str, user: dict[str, str], item: Attachment) -> int:
    """Where an interrupted session stands (``GET /upload:<id>`` → ``file_offset``)."""
    body = await _send(
        attempt,
        OutgoingRequest(
            method="GET",
            url=f"{graph(attempt)}/{session}",
            headers={"Authorization": f"OAuth {REDACTED}"},
        ),
        user,
        f"asking how much of {item.describe()} arrived",
    )
    try:
        return int(body["file_offset"])
    except (KeyError, TypeError, ValueError):
        raise NetworkError(
            FailureKind.RETRYABLE, "Facebook did not say how much of the file it has."
        ) from None


async def _send_from(
    attempt: Attempt, item: Attachment, session: str, offset: int, user: dict[str, str]
) -> str:
    """The bytes from ``offset`` on, a chunk per request; the handle the last answer names.

    The stored file is read from its start and what the session already has is skipped."""
    assert attempt.media is not None
    handle = ""
    position = 0
    async for piece in attempt.media.chunks(item, VIDEO_CHUNK_BYTES):
        start, position = position, position + len(piece)
        if position <= offset:
            continue
        piece = piece[max(0, offset - start) :]
        sent_at = max(start, offset)
        body = await _send(
            attempt,
            OutgoingRequest(
                method="POST",
                url=f"{graph(attempt)}/{session}",
                headers=_oauth(sent_at),
                body=bytes_body(
                    piece,
                    content_type="application/octet-stream",
                    description=f"<bytes {sent_at}-{position - 1} of {item.describe()}>",
                ),
            ),
            user,
            f"uploading {item.describe()} from byte {sent_at}",
        )
        handle = str(body.get("h") or handle)
    if not handle and offset >= item.size_bytes:
        # Every byte was in before (the answer with the handle was lost): an empty request at
        # the end names it.
        body = await _send(
            attempt,
            OutgoingRequest(
                method="POST",
                url=f"{graph(attempt)}/{session}",
                headers=_oauth(item.size_bytes),
                body=bytes_body(b"", content_type="application/octet-stream", description="<>"),
            ),
            user,
            f"finishing the upload of {item.describe()}",
        )
        handle = str(body.get("h") or "")
    if not handle:
        raise NetworkError(FailureKind.RETRYABLE, "Facebook did not give the file's handle.")
    return handle


def video_request(attempt: Attempt, handle: str, description: str) -> OutgoingRequest:
    """The Page video, published from the uploaded file (the post itself)."""
    form = {"description": description, "fbuploader_video_file_chunk": handle}
    if attempt.content.title:
        form["title"] = attempt.content.title
    form["access_token"] = REDACTED
    return OutgoingRequest(
        method="POST",
        url=f"{graph(attempt)}/{attempt.account.handle}/videos",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        form=form,
    )


async def video_status(attempt: Attempt, video_id: str) -> Processing:
    """``GET /{video-id}?fields=status``: ``video_status`` processing, ready or error."""
    response: httpx.Response = await attempt.api.get(
        redacted_query(f"{graph(attempt)}/{video_id}", fields="status", access_token=REDACTED),
        page_token(attempt),
    )
    status = json_body(response).get("status")
    if not response.is_success or not isinstance(status, dict):
        raise meta_failure("Facebook", response, graph_error(response), creates=False)
    state = str(status.get("video_status") or "")
    if state == "ready":
        return Processing(ProcessingState.DONE)
    if state == "error":
        phase = status.get("processing_phase")
        errors = phase.get("errors") if isinstance(phase, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else {}
        message = first.get("message") if isinstance(first, dict) else None
        return Processing(ProcessingState.FAILED, str(message or "processing failed"))
    return Processing(ProcessingState.PENDING, check_after=2.0)
