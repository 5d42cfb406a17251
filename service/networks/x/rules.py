"""X's rules: the weighted length, links and invalid characters as twitter-text has them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from service.networks._common import (
    StandardRules,
    bare_handle,
    bearer_json_headers,
    hash_digits,
)
from service.networks.base import (
    AccountRef,
    Entity,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.media_rules import MB, MediaLimits
from service.networks.x.counting import from_utf16, parse_tweet, utf16
from service.networks.x.entities import extract_entities


@dataclass(frozen=True)
class XRules(StandardRules):
    length_unit: ClassVar[str] = "weighted characters"
    length_note: ClassVar[str] = (
        " (each URL counts 23; emoji and most non-Latin characters count 2)"
    )
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return parse_tweet(text).weighted_length

    def extra_violations(
        self, content: PostContent, account: AccountRef | None = None
    ) -> list[Violation]:
        parsed = parse_tweet(self.sent_text(content))
        violations = []
        if parsed.too_complex:
            violations.append(
                Violation(
                    field="text",
                    code="text-too-complex",
                    message="X's link rules cannot be applied to this text in reasonable time "
                    "(thousands of dot-separated words in a row). Shorten it.",
                )
            )
        if parsed.has_invalid_characters:
            violations.append(
                Violation(
                    field="text",
                    code="invalid-character",
                    message="X refuses posts that contain U+FEFF, U+FFFE or U+FFFF (invisible "
                    "characters that text pasted from some editors carries). Remove them.",
                )
            )
        return violations

    def entities(self, content: PostContent) -> list[Entity]:
        """What X makes of the text: t.co links (only what twitter-text recognises), mentions,
        hashtags and cashtags, as twitter-text's extractEntitiesWithIndices finds them."""
        text = self.sent_text(content)
        units = utf16(text)
        if parse_tweet(text).too_complex:
            return []
        found = []
        for entity in extract_entities(units):
            start = len(from_utf16(units[: entity.start]))
            end = start + len(from_utf16(units[entity.start : entity.end]))
            value = from_utf16(entity.value)
            if entity.kind == "link":
                value = _with_scheme(value)
            found.append(Entity(entity.kind, start, end, text[start:end], value))
        return found

    def create_body(self, content: PostContent) -> dict[str, Any]:
        self.visibility_for(content)  # X posts are always public; refuse anything else.
        body: dict[str, Any] = {"text": self.sent_text(content)}
        if content.media:  # the ids X gave the uploads (placeholders in the sandbox)
            body["media"] = {"media_ids": [item.media_ref for item in content.media]}
        return body

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/2/tweets",
            headers=bearer_json_headers(),
            json=self.create_body(content),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        post_id = hash_digits(publish_key, salt=self.network, length=19)
        return SandboxResult(
            external_id=post_id,
            url=f"https://x.com/{bare_handle(account.handle)}/status/{post_id}",
        )


RULES = XRules(
    network=Network.X,
    display_name="X",
    text_limit=280,
    visibilities=("public",),
    expects_call_to_action=True,
    default_base_url="https://api.x.com",
)


def _with_scheme(url: str) -> str:
    return url if "://" in url else f"https://{url}"


# Media (docs.x.com x-api/media quickstart, best practices): 4 photos, or 1 GIF, or 1 video.
# Video: the older 512 MB / 140 s figures (pages disagree; newer ones say 8 GB / 20 min for
# some accounts): the stricter one, so a post is refused here rather than at publish time.
MEDIA_LIMITS = MediaLimits(
    max_items=4,
    max_images=4,
    max_videos=1,
    max_gifs=1,
    image_formats=frozenset({"jpeg", "png", "gif", "webp"}),
    max_image_bytes=5 * MB,
    max_gif_bytes=15 * MB,
    video_formats=frozenset({"mp4", "mov"}),
    video_codecs=frozenset({"h264"}),
    max_video_bytes=512 * MB,
    min_video_seconds=0.5,
    max_video_seconds=140,
    max_video_fps=60,
    video_aspect=(1 / 3, 3.0),
    alt_text_limit=1000,
    source="docs.x.com: x-api/media (quickstart, best practices)",
)
