"""A link card for a Bluesky post: its first link's page, as the page's OpenGraph data says.

Bluesky shows no preview of a link by itself; its app attaches an ``app.bsky.embed.external``
built from the page. Handpost does the same when the post goes out. The page is an address a
user gave, so it is fetched only through the outbound gate (service/outbound.py): no private
or loopback addresses unless allowed, no redirects, a few seconds and half a megabyte at most.
A page that cannot be read just means no card; the post goes out all the same.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx

from service import outbound

MAX_PAGE_BYTES = 512_000
CARD_TIMEOUT_SECONDS = 5.0
MAX_TITLE = 300
MAX_DESCRIPTION = 1000


class _Meta(HTMLParser):
    """OpenGraph title and description, falling back to <title> and the meta description."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag != "meta":
            return
        values = {name.lower(): value or "" for name, value in attrs}
        key = (values.get("property") or values.get("name") or "").lower()
        if key in ("og:title", "og:description", "description") and key not in self.found:
            self.found[key] = values.get("content", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)

    @property
    def title(self) -> str:
        return self.found.get("og:title") or "".join(self._title)

    @property
    def description(self) -> str:
        return self.found.get("og:description") or self.found.get("description") or ""


def _clean(value: str, limit: int) -> str:
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def card_from_html(uri: str, html: str) -> dict[str, Any] | None:
    """The embed for ``uri`` from its page; None when the page gives no title."""
    reader = _Meta()
    try:
        reader.feed(html)
        reader.close()
    except AssertionError:  # HTMLParser's way of giving up on broken markup
        return None
    title = _clean(reader.title, MAX_TITLE)
    if not title:
        return None
    return {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": uri,
            "title": title,
            "description": _clean(reader.description, MAX_DESCRIPTION),
        },
    }


async def link_card(
    client: httpx.AsyncClient, policy: outbound.OutboundPolicy, uri: str
) -> dict[str, Any] | None:
    """The card for ``uri``, or None if its page cannot be read or says nothing."""
    try:
        response = await outbound.send(
            client,
            policy,
            "GET",
            uri,
            headers={"Accept": "text/html"},
            max_bytes=MAX_PAGE_BYTES,
            timeout=CARD_TIMEOUT_SECONDS,
        )
    except (outbound.OutboundRefused, outbound.ResponseTooLarge, httpx.HTTPError):
        return None
    content_type = response.headers.get("content-type", "")
    if response.status_code != 200 or "html" not in content_type.lower():
        return None
    return card_from_html(uri, response.text)
