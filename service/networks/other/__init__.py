"""Another network: any place Handpost has no API for (a forum, a group chat, a network it
does not speak to). Its posts are only ever published by hand (service.hand), so there is no
request to build and no sandbox result: an account on it must be in ``hand`` mode.

Handpost does not know such a place's rules, so it counts characters against a generous
limit and leaves the rest to the person, who sees the composer anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.networks._common import StandardRules
from service.networks.base import AccountRef, Network, OutgoingRequest, PostContent, SandboxResult
from service.networks.media_rules import MediaLimits


class NoPublishingApi(NotImplementedError):
    """Raised if anything tries to send a post for a network without an API."""


@dataclass(frozen=True)
class OtherRules(StandardRules):
    def count_text(self, text: str, account: AccountRef | None = None) -> int:
        return len(text)

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        raise NoPublishingApi(f"{self.display_name} has no publishing API: publish by hand.")

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        raise NoPublishingApi(f"{self.display_name} has no publishing API: publish by hand.")


RULES = OtherRules(
    network=Network.OTHER,
    display_name="Another network",
    text_limit=100_000,
    visibilities=("public",),
    has_api=False,
)

# You attach the files yourself: Handpost only keeps a post's set within reason.
MEDIA_LIMITS = MediaLimits(
    max_items=10,
    max_images=10,
    max_videos=1,
    mix_images_and_video=True,
    source="Handpost does not know this place's rules: you attach the files yourself.",
)
