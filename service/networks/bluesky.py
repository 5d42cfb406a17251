"""Bluesky (AT Protocol): 300 graphemes and 3,000 bytes; every URL needs a link facet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from service.networks._common import (
    StandardRules,
    bare_handle,
    bearer_json_headers,
    hash_int,
)
from service.networks.base import (
    AccountRef,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.text import find_urls, grapheme_count

COLLECTION = "app.bsky.feed.post"
BYTE_LIMIT = 3000
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
_TID_LENGTH = 13


def rkey_for(publish_key: str) -> str:
    """A TID-shaped record key derived from ``publish_key``.

    Choosing the rkey ourselves makes a retry checkable: ``getRecord`` with the same key
    tells whether the first attempt created the post. A TID is 63 bits (the top bit is 0)
    written as 13 base32-sortable characters.
    """
    value = hash_int(publish_key, salt=Network.BLUESKY, bits=63)
    chars = []
    for _ in range(_TID_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(_TID_ALPHABET[digit])
    return "".join(reversed(chars))


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every URL in ``text``: Bluesky does not turn URLs into links itself.

    Offsets are UTF-8 byte offsets (start inclusive, end exclusive), as the lexicon requires.
    """
    facets: list[dict[str, Any]] = []
    for start, _end, url in find_urls(text):
        byte_start = len(text[:start].encode("utf-8"))
        uri = url if "://" in url else f"https://{url}"
        facets.append(
            {
                "index": {
                    "byteStart": byte_start,
                    "byteEnd": byte_start + len(url.encode("utf-8")),
                },
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
            }
        )
    return facets


def timestamp(moment: datetime) -> str:
    """``createdAt`` as Bluesky's clients write it: UTC, milliseconds, "Z"; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class BlueskyRules(StandardRules):
    length_note: ClassVar[str] = " (links count in full)"
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str) -> int:
        return grapheme_count(text)

    def extra_violations(self, content: PostContent) -> list[Violation]:
        size = len(self.sent_text(content).encode("utf-8"))
        if size <= BYTE_LIMIT:
            return []
        return [
            Violation(
                field="text",
                code="text-too-long",
                message=f"Bluesky also limits a post to {BYTE_LIMIT:,} bytes; this one "
                f"takes {size:,} (letters such as ä take 2 bytes, most emoji 4). "
                f"Shorten it by {size - BYTE_LIMIT:,} bytes.",
            )
        ]

    def create_body(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        created_at: datetime,
    ) -> dict[str, Any]:
        self.visibility_for(content)  # Every Bluesky post is public; refuse anything else.
        text = self.sent_text(content)
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": timestamp(created_at),
        }
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        return {
            "repo": bare_handle(account.handle),
            "collection": COLLECTION,
            "rkey": rkey_for(publish_key),
            "record": record,
        }

    def build_create_request(
        self,
        content: PostContent,
        account: AccountRef,
        publish_key: str,
        *,
        created_at: datetime | None = None,
    ) -> OutgoingRequest:
        """``created_at`` defaults to now: the record says when it was written."""
        moment = created_at or datetime.now(UTC)
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/xrpc/com.atproto.repo.createRecord",
            headers=bearer_json_headers(),
            json=self.create_body(content, account, publish_key, moment),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        rkey = rkey_for(publish_key)
        handle = bare_handle(account.handle)
        return SandboxResult(
            external_id=f"at://{handle}/{COLLECTION}/{rkey}",
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        )


RULES = BlueskyRules(
    network=Network.BLUESKY,
    display_name="Bluesky",
    text_limit=300,
    visibilities=("public",),
    default_base_url="https://bsky.social",
)
