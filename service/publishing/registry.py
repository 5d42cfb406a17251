"""Which publisher serves an account: the sandbox, or the network's live adapter."""

from __future__ import annotations

from service.accounts.models import Account, AccountMode
from service.config import Settings
from service.db import Database
from service.publishing.live import LivePublisher
from service.publishing.publishers import Publisher, SandboxPublisher


class PublisherRegistry:
    """Made once per app or worker, so the live publisher's HTTP client, per-network limits and
    per-account locks are shared by every post that process sends."""

    def __init__(self, database: Database | None = None, settings: Settings | None = None) -> None:
        self._sandbox = SandboxPublisher()
        self._live = LivePublisher(database, settings) if database and settings else None

    def for_account(self, account: Account) -> Publisher:
        if account.mode == AccountMode.SANDBOX:
            return self._sandbox
        if self._live is None:
            raise RuntimeError("live publishing needs PublisherRegistry(database, settings)")
        return self._live

    async def aclose(self) -> None:
        """Release the live publisher's connections (call when the dispatcher stops)."""
        if self._live is not None:
            await self._live.aclose()
