"""X (Twitter): 280 weighted characters, the link carried in the text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar

from service.networks._common import (
    StandardRules,
    bare_handle,
    bearer_json_headers,
    hash_digits,
    is_emoji_cluster,
    measure_with_urls,
)
from service.networks.base import (
    AccountRef,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
)
from service.text import find_urls, graphemes

# Code points X counts as 1 (twitter-text config v3); every other code point counts 2.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
EMOJI_WEIGHT = 2


def _code_point_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in _LIGHT_RANGES) else 2


def _weight_without_urls(text: str) -> int:
    # An emoji weighs 2 however many code points build it (ZWJ families, skin tones, flags).
    return sum(
        EMOJI_WEIGHT if is_emoji_cluster(cluster) else sum(map(_code_point_weight, cluster))
        for cluster in graphemes(text)
    )


def weighted_length(text: str) -> int:
    """Length of ``text`` as X counts it against its 280 limit (twitter-text weighting).

    X normalises to NFC first, so a decomposed "é" costs the same as a composed one.
    """
    text = unicodedata.normalize("NFC", text)
    return measure_with_urls(text, _weight_without_urls, find_urls(text))


@dataclass(frozen=True)
class XRules(StandardRules):
    length_unit: ClassVar[str] = "weighted characters"
    length_note: ClassVar[str] = (
        " (each URL counts 23; emoji and most non-Latin characters count 2)"
    )
    link_in_text: ClassVar[bool] = True

    def count_text(self, text: str) -> int:
        return weighted_length(text)

    def create_body(self, content: PostContent) -> dict[str, Any]:
        self.visibility_for(content)  # X posts are always public; refuse anything else.
        return {"text": self.sent_text(content)}

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
