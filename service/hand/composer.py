"""The page that opens each network's composer, for a post published by hand.

None of these takes the text itself reliably (Facebook's composer takes none at all), so the
web page copies the text to the clipboard and opens the composer beside it. An account's own
``base_url`` wins: the address of a Facebook group, a Mastodon instance's /publish, a forum.
"""

from __future__ import annotations

from service.networks.base import Network

COMPOSERS: dict[str, str] = {
    # A personal profile: "What's on your mind?" at the top of the home page.
    Network.FACEBOOK: "https://www.facebook.com/",
    Network.X: "https://x.com/compose/post",
    Network.LINKEDIN: "https://www.linkedin.com/feed/?shareActive=true",
    Network.THREADS: "https://www.threads.com/",
    Network.BLUESKY: "https://bsky.app/",
    # Uploads start in YouTube Studio.
    Network.YOUTUBE: "https://studio.youtube.com/",
}


def composer_url(network: str, base_url: str | None) -> str | None:
    """Where to publish this account's post by hand; None when nothing is known (a Mastodon
    account without its instance's address)."""
    if base_url:
        return base_url
    return COMPOSERS.get(network)
