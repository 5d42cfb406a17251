"""Media endpoints: tus uploads, the files themselves, alt text, and signed links."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from service.concurrency import etag, require_if_match
from service.db import SessionDep
from service.media import repository, service, tus
from service.media.models import Media
from service.media.schemas import MediaRead, MediaUpdate, PublicUrlRead
from service.media.service import Claim, MediaContext, UploadTooLong
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor
from service.problems import ProblemError, invalid, not_found, problem_responses
from service.users.auth import CurrentUser

router = APIRouter(prefix="/api/v1/media", tags=["media"])
public_router = APIRouter(tags=["media"])
# Upload transfers: exempt from the general body limit and from the API's request slots
# (service.main); they have their own limits (HANDPOST_MEDIA_MAX_BYTES, _UPLOAD_CONCURRENCY).
UPLOADS_PATH = "/api/v1/media/uploads"


def get_media_context(request: Request) -> MediaContext:
    context: MediaContext = request.app.state.media
    return context


MediaDep = Annotated[MediaContext, Depends(get_media_context)]
TusResumable = Annotated[
    str | None, Header(alias="Tus-Resumable", description="The tus version: 1.0.0.")
]


@contextmanager
def _tus_answers() -> Iterator[None]:
    """Every tus answer, refusals too, says which protocol version the server speaks."""
    try:
        yield
    except ProblemError as refusal:
        refusal.headers.setdefault(tus.RESUMABLE, tus.VERSION)
        raise


@router.options("/uploads", status_code=204, include_in_schema=False)
def discover(context: MediaDep) -> Response:
    """tus discovery: the version, the extensions and the largest upload."""
    return Response(
        status_code=204,
        headers={
            tus.RESUMABLE: tus.VERSION,
            "Tus-Version": tus.VERSION,
            "Tus-Extension": tus.EXTENSIONS,
            "Tus-Max-Size": str(context.settings.media_max_bytes),
        },
    )


def _too_large(context: MediaContext, detail: str) -> ProblemError:
    refusal = tus.problem(413, "upload-too-large", "Upload too large", detail)
    refusal.headers["Tus-Max-Size"] = str(context.settings.media_max_bytes)
    return refusal


async def _receive(context: MediaContext, claim: Claim, request: Request) -> Media | None:
    """This request's bytes into the upload; the ready medium once the last byte is in."""
    try:
        offset, _gone = await service.receive(context, claim, request.stream())
    except UploadTooLong:
        await service.release(context, claim)
        raise tus.problem(
            413,
            "upload-too-long",
            "More bytes than promised",
            f"The upload is {claim.media.upload_length:,} bytes long; this request went past "
            "the end, so none of it was kept.",
        ) from None
    except BaseException:
        await service.release(context, claim)
        raise
    if offset < claim.media.upload_length:
        return None
    try:
        return await run_in_threadpool(service.finalize, context, claim)
    except BaseException:
        await service.release(context, claim)
        raise


async def _claim_and_receive(
    context: MediaContext, request: Request, user: CurrentUser, media_id: str, offset: int
) -> tuple[int, Media | None]:
    declared = request.headers.get("content-length")
    service.slot_or_503(context)
    try:
        claim = await run_in_threadpool(service.claim_upload, context, user, media_id, offset)
        room = claim.media.upload_length - claim.media.upload_offset
        if declared is not None and (not declared.isdigit() or int(declared) > room):
            await service.release(context, claim)
            raise tus.problem(
                413,
                "upload-too-long",
                "More bytes than promised",
                f"The upload has {room:,} bytes left to send; Content-Length says {declared}.",
            )
        ready = await _receive(context, claim, request)
        return claim.media.upload_offset, ready
    finally:
        context.slots.release()


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaRead,
    responses=problem_responses(404, 409, 412, 413, 415, 503),
)
async def create_upload(
    request: Request,
    user: CurrentUser,
    context: MediaDep,
    tus_resumable: TusResumable = None,
    upload_length: Annotated[
        str | None, Header(alias="Upload-Length", description="The file's size in bytes.")
    ] = None,
    upload_metadata: Annotated[
        str | None,
        Header(
            alias="Upload-Metadata",
            description="tus metadata: `filename` and `alt_text`, base64-encoded.",
        ),
    ] = None,
) -> Response:
    """Start an upload (tus creation). With `Content-Type: application/offset+octet-stream`
    the body carries the first bytes, or the whole file (creation-with-upload); continue
    with PATCH at the Location. The file's type is read from its content."""
    with _tus_answers():
        tus.require_version(tus_resumable)
        if request.headers.get("upload-defer-length") is not None:
            raise tus.problem(
                400,
                "invalid-upload-header",
                "Length required",
                "Send Upload-Length: this server needs the size up front.",
            )
        length = tus.parse_length(upload_length, "Upload-Length")
        if length == 0:
            raise tus.problem(422, "empty-file", "Empty file", "The file has no bytes.")
        if length > context.settings.media_max_bytes:
            raise _too_large(
                context, f"The largest file accepted is {context.settings.media_max_bytes:,} bytes."
            )
        metadata = tus.parse_metadata(upload_metadata)
        alt_text = service.check_alt_text(metadata.get("alt_text", ""))
        filename = metadata.get("filename") or metadata.get("name") or ""
        content_type = request.headers.get("content-type", "")
        with_body = content_type.split(";")[0].strip().lower() == tus.OFFSET_CONTENT_TYPE
        if not with_body and request.headers.get("content-length", "0") not in ("", "0"):
            raise tus.problem(
                415,
                "unsupported-content-type",
                "Unsupported Content-Type",
                f"Bytes come as {tus.OFFSET_CONTENT_TYPE}.",
            )
        media = await run_in_threadpool(
            service.create_upload, context, user, length, filename, alt_text
        )
        offset = 0
        ready = None
        if with_body:
            offset, ready = await _claim_and_receive(context, request, user, media.id, 0)
        shown = ready or media
        shown.upload_offset = offset
        location = f"{UPLOADS_PATH}/{media.id}"
        return JSONResponse(
            service.to_read(context, shown).model_dump(mode="json"),
            status_code=201,
            headers={**tus.common_headers(offset), "Location": location},
        )


@router.head("/uploads/{media_id}", responses=problem_responses(404, 412))
def upload_offset(
    media_id: str,
    session: SessionDep,
    user: CurrentUser,
    tus_resumable: TusResumable = None,
) -> Response:
    """Where the upload stands: `Upload-Offset` is the next byte to send."""
    with _tus_answers():
        tus.require_version(tus_resumable)
        media = service.get_or_404(session, user, media_id)
        return Response(
            status_code=200, headers=tus.common_headers(media.upload_offset, media.upload_length)
        )


@router.patch(
    "/uploads/{media_id}",
    status_code=204,
    responses=problem_responses(404, 409, 412, 413, 415, 503),
)
async def upload_bytes(
    media_id: str,
    request: Request,
    user: CurrentUser,
    context: MediaDep,
    tus_resumable: TusResumable = None,
    upload_offset_header: Annotated[
        str | None, Header(alias="Upload-Offset", description="Where these bytes start.")
    ] = None,
) -> Response:
    """Send bytes from `Upload-Offset` on (`Content-Type: application/offset+octet-stream`).
    A wrong offset is refused (409); ask with HEAD. What arrived before a dropped connection
    is kept. The last byte makes the upload a medium, or a 422 if it is not one."""
    with _tus_answers():
        tus.require_version(tus_resumable)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != tus.OFFSET_CONTENT_TYPE:
            raise tus.problem(
                415,
                "unsupported-content-type",
                "Unsupported Content-Type",
                f"PATCH bytes as {tus.OFFSET_CONTENT_TYPE}.",
            )
        offset = tus.parse_length(upload_offset_header, "Upload-Offset")
        new_offset, _ready = await _claim_and_receive(context, request, user, media_id, offset)
        return Response(status_code=204, headers=tus.common_headers(new_offset))


@router.delete("/uploads/{media_id}", status_code=204, responses=problem_responses(404, 409, 412))
def terminate_upload(
    media_id: str, user: CurrentUser, context: MediaDep, tus_resumable: TusResumable = None
) -> Response:
    """Give up an upload (tus termination), or delete a finished medium no post uses."""
    with _tus_answers():
        tus.require_version(tus_resumable)
        service.delete(context, user, media_id)
        return Response(status_code=204, headers={tus.RESUMABLE: tus.VERSION})


# --- the media library ----------------------------------------------------------------------


def _respond(context: MediaContext, media: Media, response: Response) -> MediaRead:
    response.headers["ETag"] = etag(media.version)
    return service.to_read(context, media)


@router.get("", response_model=Page[MediaRead])
def list_media(
    session: SessionDep,
    user: CurrentUser,
    context: MediaDep,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[MediaRead]:
    """Your finished uploads, newest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIMIT}.")
    after = _cursor_key(cursor) if cursor else None
    rows = repository.list_page(session, user.id, after, limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("media", [rows[-1].created_at.isoformat(), rows[-1].id])
    return Page[MediaRead](
        items=[service.to_read(context, m) for m in rows], next_cursor=next_cursor
    )


def _cursor_key(cursor: str) -> tuple[datetime, str]:
    key = decode_cursor(cursor, "media")
    try:
        created, media_id = key
        return datetime.fromisoformat(str(created)), str(media_id)
    except (ValueError, TypeError):
        raise invalid("The cursor is not one this listing returned.") from None


@router.get("/{media_id}", response_model=MediaRead, responses=problem_responses(404))
def get_media(
    media_id: str, session: SessionDep, user: CurrentUser, context: MediaDep, response: Response
) -> MediaRead:
    return _respond(context, service.get_or_404(session, user, media_id), response)


@router.patch("/{media_id}", response_model=MediaRead, responses=problem_responses(404, 412))
def update_media(
    media_id: str,
    data: MediaUpdate,
    session: SessionDep,
    user: CurrentUser,
    context: MediaDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="The ETag you last read.")] = None,
) -> MediaRead:
    """Edit the alt text (posts that already carry the file keep their own)."""
    media = service.get_or_404(session, user, media_id)
    require_if_match(if_match, media.version, required=False)
    return _respond(context, service.update_alt_text(session, media, data.alt_text), response)


@router.delete("/{media_id}", status_code=204, responses=problem_responses(404, 409))
def delete_media(media_id: str, user: CurrentUser, context: MediaDep) -> Response:
    """Delete a file no post uses."""
    service.delete(context, user, media_id)
    return Response(status_code=204)


def _disposition(kind: str, filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "media"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/{media_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **problem_responses(404, 409)},
)
def media_content(
    media_id: str, session: SessionDep, user: CurrentUser, context: MediaDep
) -> StreamingResponse:
    """The file as Handpost keeps it (images without their metadata)."""
    media = service.get_ready_or_404(session, user, media_id)
    assert media.mime_type is not None
    return StreamingResponse(
        context.storage.read(media.storage_key),
        media_type=media.mime_type,
        headers={
            "Content-Length": str(media.size_bytes),
            "Content-Disposition": _disposition("attachment", media.filename),
        },
    )


@router.post(
    "/{media_id}/public-url", response_model=PublicUrlRead, responses=problem_responses(404, 409)
)
def media_public_url(
    media_id: str, session: SessionDep, user: CurrentUser, context: MediaDep
) -> PublicUrlRead:
    """A link anyone can fetch the file from until it expires: what a network that fetches
    media by URL (Threads) is given. Presigned when media is in S3."""
    media = service.get_ready_or_404(session, user, media_id)
    url, expires_at = service.public_url(context, media)
    return PublicUrlRead(url=url, expires_at=expires_at)


@public_router.get("/m/{token}", include_in_schema=False)
def signed_file(token: str, request: Request) -> StreamingResponse:
    """A file or thumbnail behind a signed, expiring link; no token, no redirect."""
    context: MediaContext = request.app.state.media
    found = service.signed_target(context, token)
    if found is None:
        raise not_found("media link", token[:16])
    media, key, mime_type = found
    length = context.storage.size(key)
    original = key == media.storage_key
    lifetime = 300 if original else 3600
    return StreamingResponse(
        context.storage.read(key),
        media_type=mime_type,
        headers={
            "Content-Length": str(length),
            "Content-Disposition": _disposition(
                "inline", media.filename if original else "thumbnail.jpg"
            ),
            "Cache-Control": f"private, max-age={lifetime}",
        },
    )
