"""Facebook Pages (Graph API): 63,206 characters; the link travels in its own field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.networks._common import REDACTED, StandardRules, hash_digits
from service.networks.base import (
    AccountRef,
    Network,
    OutgoingRequest,
    PostContent,
    SandboxResult,
)

# Pinned because a retired version is silently served by a newer one; to become config.
GRAPH_VERSION = "v24.0"


@dataclass(frozen=True)
class FacebookRules(StandardRules):
    def count_text(self, text: str) -> int:
        return len(text)

    def create_body(self, content: PostContent) -> dict[str, Any]:
        self.visibility_for(content)  # Page posts are always public; refuse anything else.
        body: dict[str, Any] = {"message": content.text}
        if content.link:
            body["link"] = content.link
        # Graph takes the Page token as a parameter, not a header.
        body["access_token"] = REDACTED
        return body

    def build_create_request(
        self, content: PostContent, account: AccountRef, publish_key: str
    ) -> OutgoingRequest:
        return OutgoingRequest(
            method="POST",
            url=f"{self.api_base(account)}/{GRAPH_VERSION}/{account.handle}/feed",
            headers={"Content-Type": "application/json"},
            json=self.create_body(content),
        )

    def sandbox_result(self, account: AccountRef, publish_key: str) -> SandboxResult:
        page = account.handle
        post = hash_digits(publish_key, salt=self.network, length=16)
        return SandboxResult(
            external_id=f"{page}_{post}",
            url=f"https://www.facebook.com/{page}/posts/{post}",
        )


RULES = FacebookRules(
    network=Network.FACEBOOK,
    display_name="Facebook",
    text_limit=63206,
    visibilities=("public",),
    default_base_url="https://graph.facebook.com",
)
