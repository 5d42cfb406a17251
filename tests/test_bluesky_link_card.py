"""A Bluesky post carries a card for its first link, built from the page's OpenGraph data,
fetched only through the outbound gate (bounded, no private addresses unless allowed)."""

from __future__ import annotations

import pytest

from service.networks.bluesky.card import MAX_PAGE_BYTES, card_from_html
from tests.conftest import AppFactory
from tests.emulator.server import EmulatorServer
from tests.support.live import connect, live_client, publish_now, settled
from tests.support.pages import serve_pages

pytestmark = pytest.mark.usefixtures("secret_key")

ARTICLE = (
    b"<html><head><title>Fallback</title>"
    b'<meta property="og:title" content="Pluto, &amp; its moons">'
    b'<meta property="og:description" content="  Five moons,\n one heart. ">'
    b"</head><body>text</body></html>"
)


def _record(network: EmulatorServer) -> dict[str, object]:
    [request] = network.received("bluesky", "create")
    record: dict[str, object] = request["body"]["record"]
    return record


def test_the_first_links_page_becomes_the_card(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    pages = {"/pluto": ("text/html; charset=utf-8", ARTICLE), "/second": ("text/html", ARTICLE)}
    with serve_pages(pages) as (base, requested):
        client = live_client(make_client)
        account, _ = connect(client, network, "bluesky")
        post = publish_now(client, account["id"], f"Read {base}/pluto and {base}/second")
        assert settled(client, post["id"])["state"] == "published"
    assert requested == ["/pluto"]  # only the first link's page
    assert _record(network)["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": f"{base}/pluto",
            "title": "Pluto, & its moons",
            "description": "Five moons, one heart.",
        },
    }


def test_a_loopback_page_is_not_fetched_unless_allowed(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    with serve_pages({"/pluto": ("text/html", ARTICLE)}, host="127.0.0.2") as (base, requested):
        # The account's PDS (the emulator, at 127.0.0.1) is allowed; the page's address is not.
        client = live_client(
            make_client, outbound_allow_private=False, outbound_allowed_networks=["127.0.0.1/32"]
        )
        account, _ = connect(client, network, "bluesky")
        post = publish_now(client, account["id"], f"Read {base}/pluto")
        assert settled(client, post["id"])["state"] == "published"
    assert requested == []
    assert "embed" not in _record(network)


def test_no_card_from_a_huge_or_wordless_page(
    make_client: AppFactory, network: EmulatorServer
) -> None:
    huge = b"<html><head><title>Big</title></head>" + b"x" * (MAX_PAGE_BYTES + 1)
    pages = {"/huge": ("text/html", huge), "/image": ("image/png", b"\x89PNG")}
    with serve_pages(pages) as (base, _requested):
        client = live_client(make_client)
        account, _ = connect(client, network, "bluesky")
        for path in ("/huge", "/image"):
            post = publish_now(client, account["id"], f"Look {base}{path}")
            assert settled(client, post["id"])["state"] == "published"
    assert all("embed" not in r["body"]["record"] for r in network.received("bluesky", "create"))


def test_card_from_html_uses_the_title_when_there_is_no_opengraph() -> None:
    card = card_from_html("https://e.x/a", "<title> Just a title </title><p>x")
    assert card is not None and card["external"] == {
        "uri": "https://e.x/a",
        "title": "Just a title",
        "description": "",
    }
    assert card_from_html("https://e.x/a", "<p>no title at all") is None
