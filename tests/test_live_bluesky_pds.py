"""Bluesky, live, against the reference PDS itself (@atproto/pds, run on loopback once per
session by tests/realservers/pds.mjs): every record is read back from the PDS and checked.

The PDS checks a facet's URI and DID but never its byte offsets, so acceptance proves little:
each facet's offsets are sliced out of the text as stored and compared with what was meant.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from service.db import Database
from service.networks.bluesky import rkey_for
from tests.conftest import AppFactory
from tests.support.api import create_account, create_post
from tests.support.live import (
    attempts,
    create_bluesky_record,
    live_client,
    mark_as_claimed_by_a_dead_worker,
    publish_now,
    settled,
)
from tests.support.pages import serve_pages
from tests.support.realpds import RealPds

pytestmark = pytest.mark.usefixtures("secret_key")


def _connect(client: Any, pds: RealPds, handle: str = "alice.test", **extra: Any) -> dict[str, Any]:
    account = pds.accounts[handle]
    return create_account(
        client,
        "bluesky",
        handle,
        mode="live",
        base_url=pds.url,
        credentials={"identifier": handle, "app_password": account.app_password},
        **extra,
    )


def _sliced(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Each facet as (the bytes it covers, decoded; its kind; its target)."""
    raw = record["text"].encode("utf-8")
    found = []
    for facet in record.get("facets", []):
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        assert 0 <= start < end <= len(raw)
        feature = facet["features"][0]
        kind = feature["$type"].rpartition("#")[2]
        target = feature.get("uri") or feature.get("did") or feature.get("tag")
        found.append((raw[start:end].decode("utf-8"), kind, target))
    return found


def test_text_facets_and_langs_read_back_from_the_pds(
    make_client: AppFactory, real_pds: RealPds
) -> None:
    client = live_client(make_client)
    account = _connect(client, real_pds, language="fi")
    bob = real_pds.accounts["bob.test"]
    text_ = (
        "Grüße 👋 @bob.test and @nobody.test: see en.wikipedia.org/wiki/Pluto_(planet), "
        "“https://example.com/q” (https://example.org/a). #Tagi #🦋 $AAPL"
    )
    post = publish_now(client, account["id"], text_)
    final = settled(client, post["id"], timeout=40)
    assert final["state"] == "published", final["last_error"]
    [entry] = attempts(client, post["id"])
    assert "@nobody.test left as plain text" in entry["message"]

    record = real_pds.get_record(final["external_id"])
    assert record["text"] == text_
    assert record["langs"] == ["fi"]
    assert _sliced(record) == [
        ("@bob.test", "mention", bob.did),
        (
            "en.wikipedia.org/wiki/Pluto_(planet)",
            "link",
            "https://en.wikipedia.org/wiki/Pluto_(planet)",
        ),
        ("https://example.org/a", "link", "https://example.org/a"),
        ("#Tagi", "tag", "Tagi"),
        ("#🦋", "tag", "🦋"),
        ("$AAPL", "tag", "$AAPL"),
    ]


def test_an_invisible_character_after_a_link_no_longer_fails_the_post(
    make_client: AppFactory, real_pds: RealPds
) -> None:
    client = live_client(make_client)
    account = _connect(client, real_pds)
    text_ = "Read https://example.com/a\ufeff today, and https://example.net/b\u200bc"
    post = publish_now(client, account["id"], text_, language="en")
    final = settled(client, post["id"], timeout=40)
    assert final["state"] == "published", final["last_error"]
    record = real_pds.get_record(final["external_id"])
    # As Bluesky's app links them: U+FEFF ends a link, U+200B does not.
    assert _sliced(record) == [
        ("https://example.com/a", "link", "https://example.com/a"),
        ("https://example.net/b\u200bc", "link", "https://example.net/b\u200bc"),
    ]
    assert record["langs"] == ["en"]


def test_300_graphemes_are_accepted_and_301_refused_before_sending(
    make_client: AppFactory, real_pds: RealPds
) -> None:
    client = live_client(make_client)
    account = _connect(client, real_pds)
    full = publish_now(client, account["id"], "ä" * 299 + "👍🏽")
    final = settled(client, full["id"], timeout=40)
    assert final["state"] == "published", final["last_error"]
    assert real_pds.get_record(final["external_id"])["text"] == "ä" * 299 + "👍🏽"
    refused = create_post(client, account["id"], "ö" * 301, publish_now=True)
    assert refused.status_code == 422 and "301 of 300" in refused.text


def test_after_a_crash_the_record_key_prevents_a_second_post(
    make_client: AppFactory, real_pds: RealPds, database: Database
) -> None:
    """The real PDS answers a taken record key with a 500: the resend must find the record."""
    client = live_client(make_client, dispatch=False)
    account = _connect(client, real_pds, "bob.test")
    post = create_post(client, account["id"], "Created just before the worker died.").json()
    with database.engine.begin() as connection:
        key = connection.execute(
            text("SELECT publish_key FROM posts WHERE id = :id"), {"id": post["id"]}
        ).scalar_one()
    bob = real_pds.accounts["bob.test"]
    created = create_bluesky_record(
        real_pds.url, bob.handle, bob.password, rkey_for(key), post["text"]
    )
    assert created.status_code == 200, created.text
    before = len(real_pds.list_records("bob.test"))
    mark_as_claimed_by_a_dead_worker(database, post["id"])

    worker = live_client(make_client)
    final = settled(worker, post["id"], timeout=40)
    assert final["state"] == "published", final["last_error"]
    assert final["external_id"] == created.json()["uri"]
    assert len(real_pds.list_records("bob.test")) == before  # no second record


def test_a_link_card_is_accepted_and_read_back(make_client: AppFactory, real_pds: RealPds) -> None:
    page = (
        b'<head><meta property="og:title" content="A page">'
        b'<meta name="description" content="About it"></head>'
    )
    with serve_pages({"/a": ("text/html", page)}) as (base, _requested):
        client = live_client(make_client)
        account = _connect(client, real_pds)
        post = publish_now(client, account["id"], f"Card: {base}/a")
        final = settled(client, post["id"], timeout=40)
    assert final["state"] == "published", final["last_error"]
    record = real_pds.get_record(final["external_id"])
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": f"{base}/a", "title": "A page", "description": "About it"},
    }
    assert _sliced(record) == [(f"{base}/a", "link", f"{base}/a")]
