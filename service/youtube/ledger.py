"""The database side of a YouTube upload (service.networks.youtube.upload.UploadLedger).

Every method is one short transaction, called from a worker thread: the upload's steps are
committed as they happen, so a worker killed at any point leaves the next one what it needs.
"""

from __future__ import annotations

from service.accounts import repository as accounts_repository
from service.accounts.credentials import CredentialCipher, cipher_for
from service.config import Settings
from service.connect import repository as connect_repository
from service.db import Database, utcnow
from service.networks._http import until_midnight
from service.networks.youtube.upload import UploadProgress
from service.youtube import repository
from service.youtube.models import YouTubeUpload
from service.youtube.quota import PACIFIC, pacific_day

PRIVATE_LOCK_EVENT = "youtube-private-lock"


class YouTubeLedger:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.chunk_bytes = settings.youtube_chunk_bytes
        self._cipher: CredentialCipher | None = None

    def _seal(self, session_uri: str) -> str:
        if self._cipher is None:
            self._cipher = cipher_for(self.settings)
        return self._cipher.encrypt({"session_uri": session_uri})

    def _open(self, ciphertext: str) -> str:
        if self._cipher is None:
            self._cipher = cipher_for(self.settings)
        return self._cipher.decrypt(ciphertext)["session_uri"]

    # -- progress ----------------------------------------------------------------------------

    def progress(self, publish_key: str) -> UploadProgress | None:
        with self.database.session(read_only=True) as session:
            row = repository.upload_of(session, publish_key)
        if row is None or row.session_ciphertext is None:
            return None
        return UploadProgress(
            session_uri=self._open(row.session_ciphertext),
            total=row.total_bytes,
            confirmed=row.confirmed_bytes,
            started_at=row.session_started_at,
        )

    def session_opened(self, publish_key: str, session_uri: str, total: int) -> None:
        now = utcnow()
        with self.database.session() as session:
            row = repository.upload_of(session, publish_key)
            if row is None:
                post = repository.post_by_key(session, publish_key)
                if post is None:
                    raise LookupError(publish_key)
                row = YouTubeUpload(post_id=post.id, publish_key=publish_key)
            row.session_ciphertext = self._seal(session_uri)
            row.total_bytes = total
            row.confirmed_bytes = 0
            row.session_started_at = now
            row.sessions_opened += 1
            row.updated_at = now
            repository.save_upload(session, row)
            session.commit()

    def _update(self, publish_key: str, **values: object) -> None:
        with self.database.session() as session:
            repository.update_upload(session, publish_key, {**values, "updated_at": utcnow()})
            session.commit()

    def confirmed(self, publish_key: str, offset: int) -> None:
        self._update(publish_key, confirmed_bytes=offset)

    def session_closed(self, publish_key: str, confirmed: int | None = None) -> None:
        values: dict[str, object] = {"session_ciphertext": None}
        if confirmed is not None:
            values["confirmed_bytes"] = confirmed
        self._update(publish_key, **values)

    # -- quota --------------------------------------------------------------------------------

    def spend_quota(self, project: str) -> float | None:
        now = utcnow()
        day = pacific_day(now)
        with self.database.session() as session:
            repository.ensure_quota_day(session, project, day, now)
            spent = repository.spend_units(
                session,
                project,
                day,
                self.settings.youtube_upload_cost,
                self.settings.youtube_daily_quota,
                now,
            )
            session.commit()
        return None if spent else until_midnight(PACIFIC)

    def quota_spent(self, project: str) -> float:
        now = utcnow()
        day = pacific_day(now)
        with self.database.session() as session:
            repository.ensure_quota_day(session, project, day, now)
            repository.mark_exhausted(session, project, day, now)
            session.commit()
        return until_midnight(PACIFIC)

    # -- the audit lock ---------------------------------------------------------------------

    def private_lock(self, account_id: str, message: str) -> None:
        """Note the lock in the account's history (GET /accounts/{id}/events) and on the
        account itself (status_message), where the accounts page shows it."""
        now = utcnow()
        with self.database.session() as session:
            connect_repository.add_event(session, account_id, PRIVATE_LOCK_EVENT, message, now)
            accounts_repository.note_status(session, account_id, message)
            session.commit()
