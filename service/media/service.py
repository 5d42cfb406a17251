"""Media: resumable uploads, what a file really is, links to it, its place in posts, clean-up.

An upload follows tus 1.0 (service.media.tus): the row in ``media`` holds the promised length
and the durable offset, so a PATCH may land on any replica and a dropped connection loses
nothing that was acknowledged. One PATCH at a time holds the upload (a lease in the row,
taken with a conditional update at the stated offset), so two racing PATCHes cannot both
append. Once the last byte is in, the content decides what the file is (service.media.probe);
what is not an image or video Handpost takes is deleted and refused.

Requests that stream bytes never hold a database transaction open while they do: each
step is its own short transaction (SQLite has one writer).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import anyio
from sqlmodel import Session

from service.accounts.credentials import SecretKeyMissing, derived_key
from service.accounts.limits import limits_of
from service.accounts.models import Account, AccountMode
from service.config import Settings
from service.db import Database, utcnow
from service.fields import first_invalid_character
from service.media import links, probe, repository
from service.media.models import Media, MediaKind, MediaState, PostMedia
from service.media.schemas import MAX_ALT_TEXT, MediaRead, PostMediaIn, PostMediaRead
from service.media.storage import Storage, StorageError, storage_for
from service.networks import media_limits_for, publishes_media, rules_for
from service.networks.base import Network, Violation
from service.networks.media_rules import MediaItem, MediaLimits, media_violations
from service.problems import ProblemError, invalid, not_found, overloaded
from service.users.models import User

log = logging.getLogger("handpost.media")

# A PATCH holds its upload this long, renewed while bytes keep coming.
LEASE = timedelta(seconds=60)
RENEW_EVERY_SECONDS = 15.0
# A request whose client sends nothing for this long ends (keeping what came) well before its
# lease runs out, so a stalled request can never write beside the one that takes over.
IDLE_SECONDS = 30.0
# Reading a finished file (downloading it first, on S3) and thumbnailing it.
FINALIZE_LEASE = timedelta(minutes=30)
RENEW_EVERY_BYTES = 256 * 1024 * 1024
# Bytes gathered from the connection before one write to storage (in a worker thread).
WRITE_BATCH = 1024 * 1024
THUMBNAIL_MIME = "image/jpeg"
# A deletion claimed by a replica that died is taken over after this long.
DELETION_LEASE = timedelta(minutes=10)
PURGE_BATCH = 100


class UploadSlots:
    """Uploads receiving bytes at once in this process: each holds a buffer and a thread for
    its writes, so they have their own bound instead of the API's request slots."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    def try_acquire(self) -> bool:
        if self.active >= self.limit:
            return False
        self.active += 1
        return True

    def release(self) -> None:
        self.active -= 1


@dataclass
class MediaContext:
    """What media requests share: database, settings, storage and the link-signing key."""

    database: Database
    settings: Settings
    storage: Storage
    slots: UploadSlots = field(init=False)

    def __post_init__(self) -> None:
        self.slots = UploadSlots(self.settings.media_upload_concurrency)

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> MediaContext:
        return cls(database=database, settings=settings, storage=storage_for(settings))

    @cached_property
    def signing_key(self) -> bytes:
        # Read on first use: on SQLite the key file is made only when something needs it.
        return derived_key(self.settings, "media-links")

    def thumbnail_url(self, media: Media, now: datetime | None = None) -> str | None:
        if media.thumbnail_key is None:
            return None
        return self._signed_path(media, "thumb", now)

    def download_url(self, media: Media, now: datetime | None = None) -> str | None:
        """The file itself, for a person publishing by hand to download (an hour's link)."""
        return self._signed_path(media, "file", now)

    def _signed_path(self, media: Media, variant: str, now: datetime | None) -> str | None:
        if media.state != MediaState.READY:
            return None
        try:
            self.signing_key  # noqa: B018 - PostgreSQL without HANDPOST_SECRET_KEY has none
        except SecretKeyMissing:
            log.warning("media links need HANDPOST_SECRET_KEY; %s is not linked", variant)
            return None
        expires = links.expiry(now or utcnow(), 3600, rounded=True)
        token = links.sign(self.signing_key, links.SignedTarget(media.id, variant, expires))
        return f"{links.PREFIX}{token}"


# --- reading --------------------------------------------------------------------------------


def storage_key(user_id: str, media_id: str) -> str:
    return f"media/{user_id}/{media_id}"


def to_read(context: MediaContext, media: Media) -> MediaRead:
    return MediaRead.model_validate(
        {
            **media.model_dump(),
            "thumbnail_url": context.thumbnail_url(media),
            "content_url": f"/api/v1/media/{media.id}/content",
        }
    )


def get_or_404(session: Session, user: User, media_id: str) -> Media:
    media = repository.get(session, user.id, media_id)
    if media is None:
        raise not_found("media", media_id)
    return media


def get_ready_or_404(session: Session, user: User, media_id: str) -> Media:
    media = get_or_404(session, user, media_id)
    if media.state != MediaState.READY:
        raise ProblemError(
            409,
            "upload-incomplete",
            "Upload not finished",
            f"The upload has {media.upload_offset:,} of {media.upload_length:,} bytes; finish "
            "it first.",
        )
    return media


# --- creating and receiving uploads ------------------------------------------------------


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]")


def clean_filename(name: str) -> str:
    """A client's file name for display only: no directories, no control characters."""
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE_NAME.sub("", base).strip().lstrip(".")
    return base[:255] or "upload"


def check_alt_text(alt_text: str, field_name: str = "alt_text") -> str:
    reason = first_invalid_character(alt_text, multiline=True)
    if reason is not None:
        raise invalid(
            f"{field_name} {reason}",
            [{"field": field_name, "code": "invalid-character", "message": reason}],
        )
    if len(alt_text) > MAX_ALT_TEXT:
        raise invalid(
            f"{field_name} is longer than {MAX_ALT_TEXT} characters.",
            [{"field": field_name, "code": "too-long", "message": "Too long."}],
        )
    return alt_text.replace("\r\n", "\n").replace("\r", "\n")


def create_upload(
    context: MediaContext, user: User, length: int, filename: str, alt_text: str
) -> Media:
    """A new upload of ``length`` bytes; storage is ready for it before it is committed."""
    now = utcnow()
    media = Media(
        user_id=user.id,
        filename=clean_filename(filename),
        alt_text=alt_text,
        upload_length=length,
        storage_key="",
        created_at=now,
        updated_at=now,
        last_used_at=now,
    )
    media.storage_key = storage_key(user.id, media.id)
    media.upload_state = context.storage.begin_upload(media.storage_key)
    with context.database.session() as session:
        repository.add(session, media)
        session.commit()
    return media


@dataclass
class Claim:
    media: Media
    token: str


def claim_upload(context: MediaContext, user: User, media_id: str, offset: int) -> Claim:
    """Hold the upload for one PATCH at ``offset``; 409 if that is not its offset or another
    request holds it (tus: the client asks for the offset with HEAD and resumes there)."""
    now = utcnow()
    token = secrets.token_hex(16)
    with context.database.session() as session:
        media = get_or_404(session, user, media_id)
        stored, state = media.upload_offset, media.state
        if state == MediaState.UPLOADING and repository.claim_upload(
            session, media_id, offset, token, now, now + LEASE
        ):
            session.commit()
            session.refresh(media)
            return Claim(media, token)
        session.rollback()
    if stored != offset:
        raise ProblemError(
            409,
            "upload-offset-mismatch",
            "Wrong upload offset",
            f"The upload has {stored:,} bytes; send Upload-Offset: {stored} (ask with HEAD).",
            upload_offset=stored,
        )
    if state == MediaState.READY:
        raise ProblemError(409, "upload-complete", "Upload complete", "The upload is complete.")
    problem = ProblemError(
        409,
        "upload-busy",
        "Upload in progress",
        "Another request is sending bytes to this upload; wait for it, then ask for the "
        "offset with HEAD.",
    )
    problem.headers["Retry-After"] = "2"
    return _raise(problem)


def _raise(problem: ProblemError) -> Claim:
    raise problem


def _save(
    context: MediaContext,
    claim: Claim,
    offset: int,
    state: str | None,
    *,
    hold: timedelta | None,
) -> bool:
    now = utcnow()
    with context.database.session() as session:
        kept = repository.record_progress(
            session,
            claim.media.id,
            claim.token,
            offset=offset,
            upload_state=state,
            now=now,
            locked_until=now + hold if hold is not None else None,
        )
        session.commit()
    return kept


class UploadTooLong(Exception):
    """A request sent more bytes than the upload has room for."""


def _lease_lost() -> ProblemError:
    return ProblemError(
        409, "upload-busy", "Upload taken over", "The upload's lease ran out; resume it."
    )


async def receive(
    context: MediaContext, claim: Claim, chunks: AsyncIterator[bytes]
) -> tuple[int, bool]:
    """Append a request's bytes; (the new durable offset, whether the client went away).

    What arrived before a dropped connection is kept (tus); a request that would go past
    the promised length keeps nothing of itself.
    """
    from starlette.requests import ClientDisconnect

    media = claim.media
    room = media.upload_length - media.upload_offset
    if room == 0:
        # Every byte arrived before, but the request that finished it died before the file
        # was read: an empty PATCH at the end finishes it (never reopen the stored bytes).
        saved = await anyio.to_thread.run_sync(
            partial(
                _save, context, claim, media.upload_offset, media.upload_state, hold=FINALIZE_LEASE
            )
        )
        if not saved:
            raise _lease_lost()
        return media.upload_offset, False
    writer = await anyio.to_thread.run_sync(
        context.storage.writer, media.storage_key, media.upload_offset, media.upload_state
    )
    received = 0
    since_save = 0
    loop = asyncio.get_running_loop()
    last_save = loop.time()
    batch = bytearray()
    disconnected = False
    iterator = chunks.__aiter__()
    try:
        while True:
            try:
                async with asyncio.timeout(IDLE_SECONDS):
                    chunk = await iterator.__anext__()
            except StopAsyncIteration:
                break
            except (ClientDisconnect, TimeoutError):
                disconnected = True  # gone or stalled: keep what came
                break
            received += len(chunk)
            if received > room:
                raise UploadTooLong
            batch += chunk
            now = loop.time()
            due = now - last_save >= RENEW_EVERY_SECONDS
            if len(batch) >= WRITE_BATCH or (due and batch):
                data, batch = bytes(batch), bytearray()
                await anyio.to_thread.run_sync(writer.write, data)
                since_save += len(data)
            if since_save >= RENEW_EVERY_BYTES or due:
                offset, state = await anyio.to_thread.run_sync(writer.checkpoint)
                saved = await anyio.to_thread.run_sync(
                    partial(_save, context, claim, offset, state, hold=LEASE)
                )
                if not saved:
                    raise _lease_lost()
                since_save, last_save = 0, now
        if batch:
            await anyio.to_thread.run_sync(writer.write, bytes(batch))
        last = media.upload_offset + received == media.upload_length and not disconnected
        offset, state = await anyio.to_thread.run_sync(lambda: writer.finish(last=last))
    finally:
        await anyio.to_thread.run_sync(writer.close)
    complete = offset == media.upload_length
    saved = await anyio.to_thread.run_sync(
        partial(_save, context, claim, offset, state, hold=FINALIZE_LEASE if complete else None)
    )
    if not saved:
        raise _lease_lost()
    media.upload_offset, media.upload_state = offset, state
    return offset, disconnected


async def release(context: MediaContext, claim: Claim) -> None:
    """A request that failed half-way gives the upload back at its last durable offset."""
    media = claim.media

    def give_back() -> None:
        with context.database.session() as session:
            current = session.get(Media, media.id)
            if current is not None and current.lock_token == claim.token:
                current.lock_token, current.locked_until = None, None
                session.add(current)
            session.commit()

    await anyio.to_thread.run_sync(give_back)


def finalize(context: MediaContext, claim: Claim) -> Media:
    """Every byte is in: make it one object, read what it is, clean it, thumbnail it."""
    media = claim.media
    storage, settings = context.storage, context.settings
    try:
        storage.complete_upload(media.storage_key, media.upload_state)
    except Exception as exc:
        # Done before by a request that died after it: the object exists already.
        try:
            storage.size(media.storage_key)
        except StorageError:
            raise exc from None
    thumbnail_key = f"{media.storage_key}.thumb.jpg"
    try:
        with storage.local_copy(media.storage_key) as path:
            facts = probe.inspect(path, max_pixels=settings.media_max_pixels)
            size = _store_clean(context, media, path, facts, thumbnail_key)
    except probe.MediaRefused as refusal:
        _discard(context, media)
        raise ProblemError(
            422,
            "unsupported-media",
            "Not an image or video Handpost takes",
            refusal.message,
            errors=[{"field": "file", "code": refusal.code, "message": refusal.message}],
        ) from None
    except StorageError:
        raise
    except Exception as exc:  # FFmpeg or Pillow choking on hostile input: refuse, never 500
        log.warning("media %s could not be read: %s", media.id, exc)
        _discard(context, media)
        raise ProblemError(
            422,
            "unsupported-media",
            "Not an image or video Handpost takes",
            "The file could not be decoded.",
            errors=[{"field": "file", "code": "undecodable", "message": str(exc)[:200]}],
        ) from None
    now = utcnow()
    values: dict[str, Any] = {
        "state": MediaState.READY,
        "kind": facts.kind,
        "format": facts.format,
        "mime_type": facts.mime_type,
        "size_bytes": size,
        "width": facts.width,
        "height": facts.height,
        "animated": facts.animated,
        "duration_ms": facts.duration_ms,
        "frame_rate": facts.frame_rate,
        "video_codec": facts.video_codec,
        "audio_codec": facts.audio_codec,
        "thumbnail_key": thumbnail_key,
        "upload_state": None,
        "lock_token": None,
        "locked_until": None,
        "updated_at": now,
        "last_used_at": now,
    }
    with context.database.session() as session:
        repository.mark_ready(session, media.id, values)
        session.commit()
        ready = session.get(Media, media.id)
    assert ready is not None
    return ready


def _store_clean(
    context: MediaContext, media: Media, path: Path, facts: probe.MediaFacts, thumbnail_key: str
) -> int:
    storage, max_pixels = context.storage, context.settings.media_max_pixels
    with tempfile.TemporaryDirectory(prefix="handpost-media-") as directory:
        source = path
        if facts.kind == MediaKind.IMAGE:
            cleaned = Path(directory) / "clean"
            probe.clean_image(path, cleaned, max_pixels=max_pixels)
            storage.put_file(media.storage_key, cleaned, facts.mime_type)
            source = cleaned
        size = source.stat().st_size
        thumbnail = Path(directory) / "thumb.jpg"
        probe.make_thumbnail(source, facts.kind, thumbnail, max_pixels=max_pixels)
        storage.put_file(thumbnail_key, thumbnail, THUMBNAIL_MIME)
    return size


def _discard(context: MediaContext, media: Media) -> None:
    _remove_files(context.storage, media)
    with context.database.session() as session:
        repository.delete_media(session, media.id)
        session.commit()


def _remove_files(storage: Storage, media: Media) -> None:
    if media.state == MediaState.UPLOADING or media.upload_state:
        storage.abort_upload(media.storage_key, media.upload_state)
    storage.delete(media.storage_key)
    storage.delete(f"{media.storage_key}.thumb.jpg")


def slot_or_503(context: MediaContext) -> None:
    if not context.slots.try_acquire():
        raise overloaded(
            f"{context.slots.limit} uploads are receiving bytes already; nothing was changed. "
            "Resume this one shortly (HEAD tells the offset)."
        )


# --- editing and deleting -----------------------------------------------------------------


def update_alt_text(session: Session, media: Media, alt_text: str) -> Media:
    media.alt_text = alt_text
    media.updated_at = utcnow()
    media.version += 1
    session.add(media)
    session.flush()
    return media


def delete(context: MediaContext, user: User, media_id: str) -> None:
    """Delete a medium (or terminate its upload); refused while a post uses it."""
    with context.database.session() as session:
        media = get_or_404(session, user, media_id)
        if repository.is_used(session, media.id):
            raise ProblemError(
                409,
                "media-in-use",
                "Media in use",
                "A post uses this file; remove it from the post first.",
            )
        if media.locked_until is not None and media.locked_until > utcnow():
            raise ProblemError(
                409, "upload-busy", "Upload in progress", "A request is sending bytes to it."
            )
        repository.delete_media(session, media.id)
        session.commit()
    _remove_files(context.storage, media)


def public_url(context: MediaContext, media: Media) -> tuple[str, datetime]:
    """A URL a network can fetch the file from: presigned on S3, else signed by Handpost."""
    seconds = context.settings.media_url_seconds
    now = utcnow()
    assert media.mime_type is not None
    presigned = context.storage.presigned_url(media.storage_key, seconds, media.mime_type)
    if presigned is not None:
        return presigned, now + timedelta(seconds=seconds)
    base = context.settings.public_url
    if base is None:
        raise ProblemError(
            409,
            "public-url-not-configured",
            "No public address",
            "Set HANDPOST_PUBLIC_URL to the address networks can reach this service at (or "
            "keep media in S3), so they can fetch the file.",
        )
    try:
        key = context.signing_key
    except SecretKeyMissing as missing:
        raise ProblemError(
            409, "secret-key-missing", "No key to sign links", str(missing)
        ) from None
    expires = links.expiry(now, seconds, rounded=False)
    token = links.sign(key, links.SignedTarget(media.id, "file", expires))
    return f"{base}{links.PREFIX}{token}", now + timedelta(seconds=seconds)


def signed_target(context: MediaContext, token: str) -> tuple[Media, str, str] | None:
    """The medium, storage key and type a ``/m/`` token grants, or None."""
    try:
        key = context.signing_key
    except SecretKeyMissing:
        return None
    target = links.verify(key, token, utcnow())
    if target is None:
        return None
    with context.database.session(read_only=True) as session:
        media = session.get(Media, target.media_id)
    if media is None or media.state != MediaState.READY or media.mime_type is None:
        return None
    if target.variant == "thumb":
        if media.thumbnail_key is None:
            return None
        return media, media.thumbnail_key, THUMBNAIL_MIME
    return media, media.storage_key, media.mime_type


# --- media in posts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Attached:
    """One medium in a post, as the rules and the answer need it."""

    media: Media
    alt_text: str


def resolve(session: Session, user_id: str, refs: Sequence[PostMediaIn]) -> list[Attached]:
    """The user's ready media for ``refs``, in order; 422 naming each one that is not."""
    attached, errors = resolve_partly(session, user_id, refs)
    if errors:
        raise invalid(" ".join(e["message"] for e in errors), errors)
    return attached


def resolve_partly(
    session: Session, user_id: str, refs: Sequence[PostMediaIn]
) -> tuple[list[Attached], list[dict[str, str]]]:
    """The media of ``refs`` that can be attached, and why the others cannot (a preview)."""
    found = repository.get_many(session, user_id, [ref.media_id for ref in refs])
    errors: list[dict[str, str]] = []
    attached: list[Attached] = []
    seen: set[str] = set()
    for index, ref in enumerate(refs):
        media = found.get(ref.media_id)
        where = f"media[{index}]"
        if ref.media_id in seen:
            errors.append({"field": where, "code": "duplicate-media", "message": "Attached twice."})
            continue
        seen.add(ref.media_id)
        if media is None:
            errors.append(
                {"field": where, "code": "unknown-media", "message": f"No media {ref.media_id!r}."}
            )
            continue
        if media.state != MediaState.READY:
            errors.append(
                {
                    "field": where,
                    "code": "upload-incomplete",
                    "message": f"The upload of {media.filename!r} is not finished.",
                }
            )
            continue
        alt = media.alt_text if ref.alt_text is None else ref.alt_text
        attached.append(Attached(media, alt))
    return attached, errors


def current(session: Session, post_id: str) -> list[Attached]:
    return [
        Attached(media, link.alt_text) for link, media in repository.post_media(session, [post_id])
    ]


# Mastodon's instance limits (/api/v2/instance, kept on the account by service.accounts.limits)
# mapped onto the media rules: the statuses section's count, the media_attachments section.
_MASTODON_MEDIA_FIELDS = {
    "image_size_limit": "max_image_bytes",
    "image_matrix_limit": "max_image_pixels",
    "video_size_limit": "max_video_bytes",
    "video_frame_rate_limit": "max_video_fps",
    "video_matrix_limit": "max_video_pixels",
    "description_limit": "alt_text_limit",
}


def limits_for_account(account: Account) -> MediaLimits:
    """The media rules for posts to ``account``: Mastodon's from its instance when known."""
    limits = media_limits_for(account.network)
    server = limits_of(account) if account.network == Network.MASTODON else None
    if server is None:
        return limits
    changes: dict[str, Any] = {}
    for name, attribute in _MASTODON_MEDIA_FIELDS.items():
        value = server.media.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            changes[attribute] = value
    if server.max_media_attachments:
        changes["max_items"] = changes["max_images"] = server.max_media_attachments
    return limits.with_overrides(**changes)


def violations(
    account: Account, attached: Sequence[Attached], *, require_alt_text: bool
) -> list[Violation]:
    if not attached:
        return []
    items = [
        MediaItem(
            media_id=a.media.id,
            label=a.media.filename,
            kind=a.media.kind or "",
            format=a.media.format or "",
            size_bytes=a.media.size_bytes or 0,
            width=a.media.width or 0,
            height=a.media.height or 0,
            animated=a.media.animated,
            duration_ms=a.media.duration_ms,
            frame_rate=a.media.frame_rate,
            video_codec=a.media.video_codec,
            alt_text=a.alt_text,
        )
        for a in attached
    ]
    name = rules_for(account.network).display_name
    found = media_violations(
        limits_for_account(account), name, items, require_alt_text=require_alt_text
    )
    unsent = sorted({a.media.kind or "file" for a in attached} - _sent_kinds(account))
    if account.mode == AccountMode.LIVE and unsent:
        what = "media" if not publishes_media(account.network) else f"{' or '.join(unsent)}s"
        found.append(
            Violation(
                "media",
                "media-not-published-yet",
                f"Handpost cannot send {what} to {name} yet; attach it to a sandbox account's "
                "post, or post the text alone.",
            )
        )
    return found


def _sent_kinds(account: Account) -> set[str]:
    """The kinds of file Handpost sends to the account's network live."""
    return {
        kind
        for kind in (MediaKind.IMAGE, MediaKind.VIDEO)
        if publishes_media(account.network, kind)
    }


def save(session: Session, post_id: str, user_id: str, attached: Sequence[Attached]) -> None:
    """Replace the post's media; files it no longer uses start their unused time now."""
    now = utcnow()
    before = {link.media_id for link, _ in repository.post_media(session, [post_id])}
    ids = [a.media.id for a in attached]
    if repository.touch_for_use(session, user_id, ids, now) != len(ids):
        raise invalid(
            "A file was deleted while the post was being saved; attach it again.",
            [{"field": "media", "code": "unknown-media", "message": "A file is gone."}],
        )
    repository.replace_post_media(
        session,
        post_id,
        [
            PostMedia(post_id=post_id, position=i, media_id=a.media.id, alt_text=a.alt_text)
            for i, a in enumerate(attached)
        ],
    )
    dropped = sorted(before - set(ids))
    if dropped:
        repository.touch_for_use(session, user_id, dropped, now)


def read_for_posts(
    session: Session, context: MediaContext | None, post_ids: Sequence[str]
) -> dict[str, list[PostMediaRead]]:
    """Each post's media as the API shows them (one query for all the posts)."""
    found: dict[str, list[PostMediaRead]] = {}
    now = utcnow()
    for link, media in repository.post_media(session, post_ids):
        found.setdefault(link.post_id, []).append(
            PostMediaRead(
                media_id=media.id,
                position=link.position,
                alt_text=link.alt_text,
                kind=media.kind or "",
                format=media.format or "",
                mime_type=media.mime_type or "",
                filename=media.filename,
                size_bytes=media.size_bytes or 0,
                width=media.width or 0,
                height=media.height or 0,
                duration_ms=media.duration_ms,
                thumbnail_url=context.thumbnail_url(media, now) if context else None,
            )
        )
    return found


# --- clean-up -------------------------------------------------------------------------------


def purge_unused(database: Database, settings: Settings) -> str | None:
    """Delete media no post has used for HANDPOST_MEDIA_UNUSED_HOURS, and abandoned uploads.

    Safe on several replicas: each medium is claimed with a conditional update (state
    ``deleting``, unused, still past the cut-off) before its files go; a replica that dies
    mid-way leaves a claim that expires, and the next turn finishes the job.
    """
    storage = storage_for(settings)
    now = utcnow()
    cutoff = now - timedelta(hours=settings.media_unused_hours)
    with database.session(read_only=True) as session:
        candidates = repository.unused_candidates(session, cutoff, now, PURGE_BATCH)
    deleted = 0
    for media_id in candidates:
        with database.session() as session:
            media = repository.claim_for_deletion(
                session, media_id, cutoff, now, now + DELETION_LEASE
            )
            session.commit()
        if media is None:
            continue
        try:
            _remove_files(storage, media)
        except Exception:
            log.exception("removing the files of media %s failed; tried again later", media_id)
            continue
        with database.session() as session:
            repository.delete_media(session, media_id)
            session.commit()
        deleted += 1
    return f"deleted {deleted} unused media" if deleted else None
