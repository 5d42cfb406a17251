"""How a claimed post reaches its network: one interface, a sandbox and live implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from service.accounts.models import Account
from service.networks import rules_for
from service.networks.base import AccountRef, FailureKind, Network, PostContent


@dataclass(frozen=True)
class AccountAccess:
    """The account's standing and encrypted credentials, as read from the database."""

    status: str
    status_message: str | None
    ciphertext: str | None

    @classmethod
    def of(cls, account: Account) -> AccountAccess:
        return cls(account.status, account.status_message, account.credentials_ciphertext)


@dataclass(frozen=True)
class PublishJob:
    post_id: str
    publish_key: str
    network: Network
    account: AccountRef
    content: PostContent
    attempt: int
    # As read with the claim, which saves a read per send; a live publisher reads it when
    # absent, and again whenever the network refuses these credentials.
    access: AccountAccess | None = None
    # Awaited right before the request that creates the post leaves (after any wait for the
    # network's limit, and after the files are uploaded, which creates nothing anyone sees);
    # if it raises, the post is not sent.
    before_send: Callable[[], Awaitable[None]] | None = None


@dataclass(frozen=True)
class PublishResult:
    external_id: str
    external_url: str
    http_status: int | None
    message: str
    request: dict[str, Any] | None


class PublishFailure(Exception):
    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        request: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after
        self.request = request


class Publisher(Protocol):
    async def publish(self, job: PublishJob) -> PublishResult: ...

    def may_resend_after_crash(self, job: PublishJob) -> bool:
        """Whether a post whose worker died mid-send can be sent again without a duplicate."""
        ...


class SandboxPublisher:
    """Records exactly the request a live account would send, and sends nothing.

    The record is written in the same transaction as the post's new state, so a crash leaves
    no trace and resending is always safe.
    """

    async def publish(self, job: PublishJob) -> PublishResult:
        rules = rules_for(job.network)
        request = rules.build_create_request(job.content, job.account, job.publish_key)
        result = rules.sandbox_result(job.account, job.publish_key)
        record = request.as_record()
        if job.content.media:
            # The files a live account would upload first, in order; the create request names
            # each by a placeholder where the network's id would go.
            record["media"] = [
                {
                    "position": item.position,
                    "media_id": item.media_id,
                    "placeholder": item.media_ref,
                    "kind": item.kind,
                    "mime_type": item.mime_type,
                    "size_bytes": item.size_bytes,
                    "alt_text": item.alt_text,
                }
                for item in job.content.media
            ]
        return PublishResult(
            external_id=result.external_id,
            external_url=result.url,
            http_status=None,
            message=f"Sandbox: recorded the request to {rules.display_name}; nothing was sent.",
            request=record,
        )

    def may_resend_after_crash(self, job: PublishJob) -> bool:
        return True
