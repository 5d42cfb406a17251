"""Bluesky's rules: 300 graphemes and 3,000 bytes; links, mentions and tags as facets."""

from __future__ import annotations

from collections.abc import Mapping
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
    Attachment,
    Entity,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.bluesky.richtext import detect_facets, facet_json
from service.networks.media_rules import MediaLimits
from service.text import grapheme_count

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


def record_facets(
    text: str, mention_dids: Mapping[str, str | None] | None = None
) -> list[dict[str, Any]]:
    """The facets Bluesky's own app would attach: links, mentions, tags (UTF-8 byte offsets).

    Bluesky turns nothing into a link by itself. A mention needs the DID its handle resolves
    to: ``mention_dids`` maps handles to DIDs (None: unresolvable, so it stays plain text);
    without it (the sandbox, which calls no network) mentions are left out.
    """
    facets = []
    for facet in detect_facets(text):
        if facet.kind != "mention":
            facets.append(facet_json(facet))
        elif mention_dids is not None and mention_dids.get(facet.value):
            facets.append(facet_json(facet, mention_dids[facet.value]))
    return facets


def link_facets(text: str) -> list[dict[str, Any]]:
    """Only the link facets of ``text`` (what every post carries, resolved or not)."""
    return [facet_json(f) for f in detect_facets(text) if f.kind == "link"]


def timestamp(moment: datetime) -> str:
    """``createdAt`` as Bluesky's clients write it: UTC, milliseconds, "Z"; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class BlueskyRules(StandardRules):
    length_note: ClassVar[str] = " (links count in full)"
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return grapheme_count(text)

    def entities(self, content: PostContent) -> list[Entity]:
        """What the post will show as links, mentions and tags (Bluesky's own detection)."""
        text = self.sent_text(content)
        return [
            Entity(f.kind, f.start, f.end, text[f.start : f.end], f.value)
            for f in detect_facets(text)
        ]

    def extra_violations(
        self, content: PostContent, account: AccountRef | None = None
    ) -> list[Violation]:
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
        repo: str | None = None,
        mention_dids: Mapping[str, str | None] | None = None,
        embed: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``repo`` is the account's DID (live); the sandbox, which has none, uses the handle.
        ``embed``: a link card, built live from the first link's page (files, if any, take
        its place)."""
        self.visibility_for(content)  # Every Bluesky post is public; refuse anything else.
        text = self.sent_text(content)
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": timestamp(created_at),
        }
        facets = record_facets(text, mention_dids)
        if facets:
            record["facets"] = facets
        if content.language:
            record["langs"] = [content.language]
        if content.media:  # files take the one embed a post has, before any link card
            embed = media_embed(content)
        if embed is not None:
            record["embed"] = embed
        return {
            "repo": repo or bare_handle(account.handle),
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
        repo: str | None = None,
        mention_dids: Mapping[str, str | None] | None = None,
        embed: dict[str, Any] | None = None,
    ) -> OutgoingRequest:
        """``created_at`` defaults to now: the record says when it was written."""
        moment = created_at or datetime.now(UTC)
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/xrpc/com.atproto.repo.createRecord",
            headers=bearer_json_headers(),
            json=self.create_body(content, account, publish_key, moment, repo, mention_dids, embed),
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


def blob_ref(item: Attachment) -> dict[str, Any]:
    """The blob as uploadBlob answered it, or (sandbox) its shape with a placeholder CID."""
    if item.uploaded is not None and isinstance(item.uploaded.details.get("blob"), dict):
        return dict(item.uploaded.details["blob"])
    return {
        "$type": "blob",
        "ref": {"$link": item.media_ref},
        "mimeType": item.mime_type,
        "size": item.size_bytes,
    }


def media_embed(content: PostContent) -> dict[str, Any]:
    """``app.bsky.embed.images`` (up to 4, each with its alt text, which the lexicon requires
    even if empty, and its aspect ratio) or ``app.bsky.embed.video``."""
    items = content.media
    if items[0].kind == "video":
        video = items[0]
        embed: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": blob_ref(video)}
        if video.alt_text:
            embed["alt"] = video.alt_text
        if video.width and video.height:
            embed["aspectRatio"] = {"width": video.width, "height": video.height}
        return embed
    images = []
    for item in items:
        image: dict[str, Any] = {"image": blob_ref(item), "alt": item.alt_text}
        if item.width and item.height:
            image["aspectRatio"] = {"width": item.width, "height": item.height}
        images.append(image)
    return {"$type": "app.bsky.embed.images", "images": images}


# Media (atproto lexicons app.bsky.embed.images / .video): up to 4 images of at most
# 1,000,000 bytes each, or one MP4 video (50,000,000 bytes in the lexicon read; 3 minutes).
MEDIA_LIMITS = MediaLimits(
    max_items=4,
    max_images=4,
    max_videos=1,
    image_formats=frozenset({"jpeg", "png", "webp", "gif"}),
    max_image_bytes=1_000_000,
    video_formats=frozenset({"mp4"}),
    max_video_bytes=50_000_000,
    max_video_seconds=180,
    alt_text_limit=2000,
    source="atproto lexicons: app.bsky.embed.images, app.bsky.embed.video",
)
