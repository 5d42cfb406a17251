"""Mastodon: 500 characters (the upstream default), with the link carried in the text.

The limit is really per instance (``/api/v2/instance``); 500 is what upstream ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import regex

from service.networks._common import (
    StandardRules,
    bare_handle,
    bearer_json_headers,
    hash_digits,
    measure_with_urls,
)
from service.networks.base import (
    AccountRef,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
)
from service.text import find_urls, grapheme_count

# A mention of someone on another server, "@user@remote.domain" (Mastodon's Account::MENTION_RE).
_REMOTE_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@\w+(?:[.-]+\w+)*",
    regex.IGNORECASE,
)


def _count_without_urls(text: str) -> int:
    # Mastodon counts a remote mention as just its "@user" part.
    return grapheme_count(_REMOTE_MENTION.sub(r"@\1", text))


def status_length(text: str) -> int:
    """Length as Mastodon's StatusLengthValidator counts it: graphemes, each URL 23.

    Mastodon shortens only URLs with a scheme; a bare "www." address counts in full.
    """
    urls = [url for url in find_urls(text) if "://" in url[2]]
    return measure_with_urls(text, _count_without_urls, urls)


@dataclass(frozen=True)
class MastodonRules(StandardRules):
    length_note: ClassVar[str] = (
        " (each URL counts 23; a mention of someone on another server counts only as @name)"
    )
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str) -> int:
        return status_length(text)

    def create_body(self, content: PostContent) -> dict[str, Any]:
        # Handpost's words are Mastodon's own ("private" = followers only).
        return {
            "status": self.sent_text(content),
            "visibility": self.visibility_for(content),
        }

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        # Mastodon returns the first status for a repeated key (for an hour), so a retry
        # after a timeout cannot post twice.
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/api/v1/statuses",
            headers=bearer_json_headers({"Idempotency-Key": publish_key}),
            json=self.create_body(content),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        status_id = hash_digits(publish_key, salt=self.network, length=18)
        user = bare_handle(account.handle).split("@")[0]
        return SandboxResult(
            external_id=status_id,
            url=f"{self.api_base(account)}/@{user}/{status_id}",
        )


RULES = MastodonRules(
    network=Network.MASTODON,
    display_name="Mastodon",
    text_limit=500,
    visibilities=("public", "unlisted", "private", "direct"),
    default_base_url="https://mastodon.social",
)
