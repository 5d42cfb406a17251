"""LinkedIn (Posts API): 3,000 characters of "little" text; a link becomes an article card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex

from service.networks._common import (
    StandardRules,
    bearer_json_headers,
    hash_digits,
)
from service.networks.base import (
    AccountRef,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.text import find_urls

# Each version lives about a year and a sunset one fails every call (426); to become config.
LINKEDIN_VERSION = "202611"

VISIBILITY = {"public": "PUBLIC", "connections": "CONNECTIONS", "logged_in": "LOGGED_IN"}

# Unescaped, these make LinkedIn silently truncate the post at the first one.
_RESERVED = frozenset("\\|{}@[]()<>#*_~")
_HASHTAG = regex.compile(r"#\w+")


def escape_little_text(text: str) -> str:
    """``text`` in LinkedIn's little text format, so that it appears exactly as written.

    URLs and #hashtags stay unescaped: escaped, they would stop being links and hashtags.
    """
    spans = [(start, end) for start, end, _url in find_urls(text)]
    spans += [match.span() for match in _HASHTAG.finditer(text)]
    kept = {index for start, end in spans for index in range(start, end)}
    return "".join(
        f"\\{char}" if char in _RESERVED and index not in kept else char
        for index, char in enumerate(text)
    )


@dataclass(frozen=True)
class LinkedInRules(StandardRules):
    def count_text(self, text: str) -> int:
        return len(text)

    def title_violations(self, content: PostContent) -> list[Violation]:
        # The title is published only as the headline of the link's article card.
        if content.title and content.title.strip() and not content.link:
            return [
                Violation(
                    field="title",
                    code="title-not-supported",
                    message="LinkedIn shows a title only as the headline of a shared link. "
                    "Add a link, or remove the title.",
                )
            ]
        return super().title_violations(content)

    def create_body(self, content: PostContent, account: AccountRef) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": f"urn:li:person:{account.handle}",
            "commentary": escape_little_text(content.text),
            "visibility": VISIBILITY[self.visibility_for(content)],
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content.link:
            # The Posts API does not scrape URLs: a link card needs an explicit article.
            title = content.title.strip() if content.title else ""
            body["content"] = {"article": {"source": content.link, "title": title or content.link}}
        return body

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/rest/posts",
            headers=bearer_json_headers(
                {
                    "LinkedIn-Version": LINKEDIN_VERSION,
                    "X-Restli-Protocol-Version": "2.0.0",
                }
            ),
            json=self.create_body(content, account),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        urn = f"urn:li:share:{hash_digits(publish_key, salt=self.network, length=19)}"
        return SandboxResult(external_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


RULES = LinkedInRules(
    network=Network.LINKEDIN,
    display_name="LinkedIn",
    text_limit=3000,
    visibilities=tuple(VISIBILITY),
    supports_title=True,
    title_limit=200,
    expects_call_to_action=True,
    default_base_url="https://api.linkedin.com",
)
