"""A post's files as the live publisher sends them: bytes from storage, uploads in the database.

``StoredMedia`` is the ``MediaFiles`` an adapter gets (service.networks._media): it reads each
file from the configured storage in bounded pieces (a 1 GB video never sits in memory), and
keeps ``post_media_uploads``, the record of what each network already has, so a retry reuses
an accepted upload instead of sending the file again. Storage and the database block, so each
call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Generator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from sqlmodel import Session

from service.config import Settings
from service.db import Database, utcnow
from service.media import repository
from service.media.models import Media, PostMedia, PostMediaUpload
from service.media.service import MediaContext, file_url
from service.media.storage import Storage, StorageError
from service.networks._http import NetworkError
from service.networks._media import MediaFiles
from service.networks.base import Attachment, FailureKind, NetworkUpload, UploadState
from service.problems import ProblemError

log = logging.getLogger("handpost.media")


def attachments(rows: Sequence[tuple[PostMedia, Media]]) -> tuple[Attachment, ...]:
    """One post's media rows (in order) as the networks' flows see them."""
    return tuple(
        Attachment(
            position=link.position,
            media_id=media.id,
            kind=media.kind or "",
            mime_type=media.mime_type or "application/octet-stream",
            format=media.format or "",
            size_bytes=media.size_bytes or 0,
            width=media.width or 0,
            height=media.height or 0,
            alt_text=link.alt_text,
            filename=media.filename,
            storage_key=media.storage_key,
            animated=media.animated,
            duration_ms=media.duration_ms,
        )
        for link, media in rows
    )


def attachments_by_post(
    session: Session, post_ids: Sequence[str]
) -> dict[str, tuple[Attachment, ...]]:
    """The media of several posts (one query), for the dispatcher's claimed jobs."""
    rows: dict[str, list[tuple[PostMedia, Media]]] = {}
    for link, media in repository.post_media(session, post_ids):
        rows.setdefault(link.post_id, []).append((link, media))
    return {post_id: attachments(found) for post_id, found in rows.items()}


class StoredMedia(MediaFiles):
    """The files of one post being published to one account."""

    def __init__(
        self,
        database: Database,
        storage: Storage,
        *,
        post_id: str,
        account_id: str,
        network: str,
        settings: Settings | None = None,
    ) -> None:
        self.database = database
        self.storage = storage
        # For links a network fetches the file from (public_url); None: no such links.
        self.settings = settings
        self.post_id = post_id
        self.account_id = account_id
        self.network = network
        # Position -> (media id, account id, upload), read once per attempt.
        self._recorded: dict[int, tuple[str, str, NetworkUpload]] | None = None

    async def recorded(self, item: Attachment) -> NetworkUpload | None:
        if self._recorded is None:
            self._recorded = await asyncio.to_thread(self._load)
        found = self._recorded.get(item.position)
        if found is None or found[:2] != (item.media_id, self.account_id):
            return None
        return found[2]

    async def record(self, item: Attachment, upload: NetworkUpload) -> None:
        row = PostMediaUpload(
            post_id=self.post_id,
            position=item.position,
            media_id=item.media_id,
            account_id=self.account_id,
            network=self.network,
            network_media_id=upload.network_media_id,
            state=upload.state.value,
            expires_at=upload.expires_at,
            details=dict(upload.details),
            updated_at=utcnow(),
        )
        try:
            await asyncio.to_thread(self._save, row)
        except Exception as exc:
            # The network has the file but Handpost could not note it: attaching it now could
            # not be repeated exactly once, so stop; the next attempt uploads it again.
            log.exception("post %s: recording the upload of %s failed", self.post_id, item.media_id)
            raise NetworkError(
                FailureKind.RETRYABLE,
                f"Could not record the upload of {item.describe()}; it will be sent again "
                f"({type(exc).__name__}).",
            ) from None
        if self._recorded is not None:
            self._recorded[item.position] = (item.media_id, self.account_id, upload)

    async def chunks(self, item: Attachment, size: int, start: int = 0) -> AsyncIterator[bytes]:
        if size <= 0:
            raise ValueError("size must be positive")
        pieces = self._open(item, start)
        buffer = bytearray()
        try:
            while True:
                piece = await asyncio.to_thread(next, pieces, None)
                if piece is None:
                    break
                buffer += piece
                while len(buffer) >= size:
                    yield bytes(buffer[:size])
                    del buffer[:size]
            if buffer:
                yield bytes(buffer)
        finally:
            await asyncio.to_thread(pieces.close)

    async def public_url(self, item: Attachment) -> str:
        if self.settings is None:
            return await super().public_url(item)
        context = MediaContext(self.database, self.settings, self.storage)
        try:
            url, _expires = await asyncio.to_thread(
                file_url, context, item.media_id, item.storage_key, item.mime_type
            )
        except ProblemError as problem:
            raise NetworkError(
                FailureKind.PERMANENT,
                f"A network must fetch {item.describe()} from Handpost, which has no address "
                f"for it: {problem.detail}",
            ) from None
        return url

    def local_file(self, item: Attachment) -> AbstractAsyncContextManager[Path]:
        return self._local_file(item)

    @asynccontextmanager
    async def _local_file(self, item: Attachment) -> AsyncIterator[Path]:
        manager = self.storage.local_copy(item.storage_key)
        try:
            path = await asyncio.to_thread(manager.__enter__)
        except StorageError as exc:
            raise self._missing(item, exc) from None
        try:
            yield path
        finally:
            await asyncio.to_thread(manager.__exit__, None, None, None)

    # -- helpers -----------------------------------------------------------------------------

    def _open(self, item: Attachment, start: int = 0) -> Generator[bytes]:
        reader = self.storage.read(item.storage_key, start)

        def guarded() -> Generator[bytes]:
            try:
                yield from reader
            except StorageError as exc:
                raise self._missing(item, exc) from None

        return guarded()

    @staticmethod
    def _missing(item: Attachment, exc: Exception) -> NetworkError:
        return NetworkError(
            FailureKind.PERMANENT,
            f"The file {item.describe()} could not be read from Handpost's storage: {exc}",
        )

    def _load(self) -> dict[int, tuple[str, str, NetworkUpload]]:
        with self.database.session(read_only=True) as session:
            rows = repository.uploads_for_post(session, self.post_id)
            return {
                position: (
                    row.media_id,
                    row.account_id,
                    NetworkUpload(
                        network_media_id=row.network_media_id,
                        state=UploadState(row.state),
                        expires_at=row.expires_at,
                        details=dict(row.details or {}),
                    ),
                )
                for position, row in rows.items()
            }

    def _save(self, row: PostMediaUpload) -> None:
        with self.database.session() as session:
            repository.save_upload(session, row)
            session.commit()
