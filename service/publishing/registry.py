"""Which publisher serves an account: the sandbox, or the network's live adapter."""

from __future__ import annotations

from service.accounts.models import Account, AccountMode
from service.publishing.publishers import Publisher, SandboxPublisher


class PublisherRegistry:
    def __init__(self) -> None:
        self._sandbox = SandboxPublisher()

    def for_account(self, account: Account) -> Publisher:
        if account.mode == AccountMode.SANDBOX:
            return self._sandbox
        raise NotImplementedError("live publishing")
