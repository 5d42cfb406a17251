"""Mastodon's rules: its own counting, against the instance's own limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from service.networks._common import (
    StandardRules,
    bare_handle,
    bearer_json_headers,
    hash_digits,
)
from service.networks._twitter_text import TooComplex
from service.networks.base import (
    AccountRef,
    Entity,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.mastodon.counting import DEFAULT_URL_LENGTH, entities, status_length
from service.networks.media_rules import MediaLimits
from service.text import grapheme_count

# What upstream Mastodon ships; an instance's own limits (GET /api/v2/instance) replace it.
DEFAULT_MAX_CHARACTERS = 500


def url_length_for(account: AccountRef | None) -> int:
    limits = account.limits if account is not None else None
    reserved = limits.characters_reserved_per_url if limits is not None else None
    return reserved if reserved is not None and reserved >= 0 else DEFAULT_URL_LENGTH


@dataclass(frozen=True)
class MastodonRules(StandardRules):
    length_note: ClassVar[str] = (
        " (each link counts as the instance reserves for it, 23 upstream; a mention of "
        "someone on another server counts only as @name)"
    )
    link_in_text: ClassVar[bool] = True

    def text_limit_for(self, account: AccountRef | None) -> int:
        limits = account.limits if account is not None else None
        if limits is not None and limits.max_characters is not None:
            return limits.max_characters
        return self.text_limit

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        try:
            return status_length(text, url_length=url_length_for(account))
        except TooComplex:
            return grapheme_count(text)  # every link counted in full: never too short

    def extra_violations(
        self, content: PostContent, account: AccountRef | None = None
    ) -> list[Violation]:
        try:
            entities(self.sent_text(content))
        except TooComplex:
            return [
                Violation(
                    field="text",
                    code="text-too-complex",
                    message="Mastodon's link rules cannot be applied to this text in "
                    "reasonable time (thousands of dot-separated words in a row). Shorten it.",
                )
            ]
        return []

    def entities(self, content: PostContent) -> list[Entity]:
        """The links and mentions Mastodon will make of the text (links with a scheme)."""
        text = self.sent_text(content)
        try:
            found = entities(text)
        except TooComplex:
            return []
        return [Entity(e.kind, e.start, e.end, e.text, e.value) for e in found]

    def create_body(self, content: PostContent) -> dict[str, Any]:
        # Handpost's words are Mastodon's own ("private" = followers only).
        body: dict[str, Any] = {
            "status": self.sent_text(content),
            "visibility": self.visibility_for(content),
        }
        if content.language:
            # Mastodon takes an ISO 639 code, the tag's language part ("pt" of "pt-BR").
            language = content.language.split("-")[0].lower()
            if language != "x":  # a private-use tag names no language
                body["language"] = language
        if content.media:  # the attachment ids the uploads got (placeholders in the sandbox)
            body["media_ids"] = [item.media_ref for item in content.media]
        return body

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
    text_limit=DEFAULT_MAX_CHARACTERS,
    visibilities=("public", "unlisted", "private", "direct"),
    default_base_url="https://mastodon.social",
)


# Media: upstream's defaults (docs.joinmastodon.org entities/Instance); each instance states
# its own in /api/v2/instance, which service.media reads when the account has them. One
# video or up to 4 images, not both.
MEDIA_LIMITS = MediaLimits(
    max_items=4,
    max_images=4,
    max_videos=1,
    image_formats=frozenset({"jpeg", "png", "gif", "webp"}),
    max_image_bytes=16_777_216,
    max_image_pixels=33_177_600,
    video_formats=frozenset({"mp4", "mov", "webm"}),
    max_video_bytes=103_809_024,
    max_video_pixels=8_294_400,
    max_video_fps=120,
    alt_text_limit=1500,
    source="docs.joinmastodon.org: entities/Instance (upstream defaults)",
)
