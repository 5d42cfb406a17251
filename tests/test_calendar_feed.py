"""The calendar feed as a calendar application sees it: fetched without a token from its
private address, read with the `icalendar` library and checked byte by byte where RFC 5545
is strict (escaping, folding at 75 octets, CRLF, UTC times)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlalchemy import text

from service.db import Database
from service.posts.models import PostState
from tests.conftest import AppFactory
from tests.support.api import assert_problem, create_account, create_post, in_seconds, wait_for
from tests.support.rows import insert_post

PUBLIC = "https://handpost.example.org"


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client(dispatch=False, public_url=PUBLIC + "/")


def subscribe(client: TestClient) -> str:
    response = client.post("/api/v1/calendar-feed")
    assert response.status_code == 201, response.text
    url: str = response.json()["url"]
    parts = urlsplit(url)
    assert parts.path.startswith("/api/v1/feeds/calendar/") and url.endswith(".ics")
    assert response.json()["webcal_url"] == "webcal://" + url.split("://", 1)[1]
    return parts.path


def fetch(client: TestClient, path: str, **headers: str) -> httpx.Response:
    """As a calendar application: no token, only the address."""
    return client.get(path, headers={"Authorization": "", **headers})


def events(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def schedule(client: TestClient, account_id: str, words: str, **when: Any) -> dict[str, Any]:
    when = when or {"scheduled_at": in_seconds(3600)}
    response = create_post(client, account_id, words, **when)
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()
    return post


def test_every_scheduled_post_is_an_event_a_calendar_can_read(client: TestClient) -> None:
    """With HANDPOST_PUBLIC_URL set, the feed's address and its links use it."""
    account = create_account(client, "mastodon", "ada", base_url="https://example.social")
    post = schedule(
        client,
        account["id"],
        "Colleagues: we now ship weekly. What slows your releases down the most?",
        local_time="2027-12-01T07:30:00",
        time_zone="Europe/Helsinki",
    )
    draft = create_post(client, account["id"], "Only a draft, no time yet.").json()
    created = client.post("/api/v1/calendar-feed").json()["url"]
    assert created.startswith(f"{PUBLIC}/api/v1/feeds/calendar/")
    path = urlsplit(created).path

    found = events(fetch(client, path))
    assert list(found) == [f"{post['id']}@handpost"]
    event = found[f"{post['id']}@handpost"]
    # 07:30 in Helsinki in December is 05:30 UTC, written as UTC.
    assert event["DTSTART"].dt == datetime(2027, 12, 1, 5, 30, tzinfo=UTC)
    assert b"DTSTART:20271201T053000Z" in fetch(client, path).content
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=15)
    assert str(event["SUMMARY"]) == (
        "Mastodon (ada): Colleagues: we now ship weekly. What slows your releases…"
    )
    assert str(event["URL"]) == f"{PUBLIC}/#/compose/{post['id']}"
    assert f"Open in Handpost: {PUBLIC}/#/compose/{post['id']}" in str(event["DESCRIPTION"])
    assert "What slows your releases down the most?" in str(event["DESCRIPTION"])
    assert event["SEQUENCE"] == post["version"]
    assert event["LAST-MODIFIED"].dt == event["DTSTAMP"].dt
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert "VALARM" not in [c.name for c in event.subcomponents]
    assert draft["id"] not in fetch(client, path).text


def test_recent_outcomes_show_and_old_cancelled_and_other_users_posts_do_not(
    make_client: AppFactory, database: Database
) -> None:
    client = make_client(dispatch=False, calendar_past_days=7)
    account = create_account(client, "facebook", "1001")
    now = datetime.now(UTC)

    def row(words: str, state: PostState, days_ago: float, **fields: Any) -> str:
        moment = now - timedelta(days=days_ago)
        return insert_post(
            database, account["id"], words, state=state, scheduled_at=moment, **fields
        )

    published = row(
        "Went out yesterday.",
        PostState.PUBLISHED,
        1,
        external_url="https://facebook.com/1001/posts/1",
    )
    failed = row("Failed this morning.", PostState.FAILED, 0.2, last_error="Refused by Facebook.")
    row("Went out long ago.", PostState.PUBLISHED, 30)
    cancelled = schedule(client, account["id"], "Cancelled after all.")
    assert client.post(f"/api/v1/posts/{cancelled['id']}/cancel").status_code == 200
    other = make_client(dispatch=False, as_user="bob")
    bobs = create_account(other, "facebook", "2002")
    schedule(other, bobs["id"], "Bob's own plans.")

    found = events(fetch(client, subscribe(client)))
    assert set(found) == {f"{published}@handpost", f"{failed}@handpost"}
    published_event = found[f"{published}@handpost"]
    assert str(published_event["SUMMARY"]).startswith("Published — Facebook (1001): ")
    assert "Live at https://facebook.com/1001/posts/1" in str(published_event["DESCRIPTION"])
    failed_event = found[f"{failed}@handpost"]
    assert str(failed_event["SUMMARY"]).startswith("Failed — Facebook (1001): ")
    assert "Refused by Facebook." in str(failed_event["DESCRIPTION"])


def test_a_post_published_by_hand_gets_an_alarm(client: TestClient, database: Database) -> None:
    hand = create_account(client, "facebook", "1001", display_name="Ada Lovelace", mode="hand")
    machine = create_account(client, "mastodon", "ada", base_url="https://example.social")
    by_hand = schedule(client, hand["id"], "Family: photos from the trip are up!")
    sent = schedule(client, machine["id"], "The fediverse hears about it separately.")
    done = insert_post(
        database,
        hand["id"],
        "Already posted by hand.",
        state=PostState.PUBLISHED,
        scheduled_at=datetime.now(UTC),
    )

    found = events(fetch(client, subscribe(client)))
    event = found[f"{by_hand['id']}@handpost"]
    assert str(event["SUMMARY"]) == (
        "Publish by hand — Facebook (Ada Lovelace): Family: photos from the trip are up!"
    )
    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(0)  # at the post's time
    assert "Family: photos from the trip" in str(alarm["DESCRIPTION"])
    assert found[f"{sent['id']}@handpost"].walk("VALARM") == []
    assert found[f"{done}@handpost"].walk("VALARM") == []


HOSTILE_TEXT = (
    "Commas, semicolons; backslashes \\ and colons: all escaped.\n"
    "A second line, then a long one: " + "Päivää 🌍 " * 30 + "\n\nEnd."
)


def test_text_is_escaped_and_folded_as_rfc_5545_says(client: TestClient) -> None:
    account = create_account(client, "mastodon", "ada", base_url="https://example.social")
    post = schedule(client, account["id"], HOSTILE_TEXT)
    raw = fetch(client, subscribe(client)).content

    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines), max(lines, key=len)
    for line in lines:
        line.decode("utf-8")  # no line is cut inside a UTF-8 character
    # Unfolded and unescaped by hand (not by the library): the text comes back exactly.
    unfolded = raw.replace(b"\r\n ", b"").decode().split("\r\n")
    [description] = [line for line in unfolded if line.startswith("DESCRIPTION:Scheduled")]
    value = description.removeprefix("DESCRIPTION:")
    assert "\\," in value and "\\;" in value and "\\\\" in value and "\\n" in value
    assert _unescape(value).split("\n\n", 1)[1].rsplit("\n\nOpen in", 1)[0] == HOSTILE_TEXT
    # ...and the library reads the same.
    event = Calendar.from_ical(raw).walk("VEVENT")[0]
    assert HOSTILE_TEXT in str(event["DESCRIPTION"])
    assert str(event["UID"]) == f"{post['id']}@handpost"


def _unescape(value: str) -> str:
    out, characters = [], iter(value)
    for character in characters:
        if character == "\\":
            escaped = next(characters)
            out.append("\n" if escaped in "nN" else escaped)
        else:
            out.append(character)
    return "".join(out)


def test_the_feed_follows_changes_and_answers_304_when_nothing_changed(
    client: TestClient,
) -> None:
    account = create_account(client, "mastodon", "ada", base_url="https://example.social")
    post = schedule(client, account["id"], "Moved around a bit before it goes.")
    path = subscribe(client)
    first = fetch(client, path)
    before = events(first)[f"{post['id']}@handpost"]
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "private, no-cache"

    assert fetch(client, path, **{"If-None-Match": etag}).status_code == 304
    assert fetch(client, path, **{"If-None-Match": f'W/{etag}, "other"'}).status_code == 304
    not_modified = fetch(client, path, **{"If-Modified-Since": modified})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag

    later = in_seconds(7200)
    moved = client.post(f"/api/v1/posts/{post['id']}/schedule", json={"scheduled_at": later})
    assert moved.status_code == 200, moved.text
    again = fetch(client, path, **{"If-None-Match": etag})
    after = events(again)[f"{post['id']}@handpost"]
    assert again.headers["etag"] != etag
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after["LAST-MODIFIED"].dt >= before["LAST-MODIFIED"].dt  # to the second
    assert abs((after["DTSTART"].dt - datetime.fromisoformat(later)).total_seconds()) < 1
    # A cancelled post leaves the feed: a calendar holding the last copy gets the new one.
    assert client.post(f"/api/v1/posts/{post['id']}/cancel").status_code == 200
    gone = fetch(client, path, **{"If-None-Match": again.headers["etag"]})
    assert events(gone) == {}


def test_the_feed_is_bounded(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, calendar_max_events=3)
    account = create_account(client, "mastodon", "ada", base_url="https://example.social")
    posts = [
        schedule(
            client,
            account["id"],
            f"Post number {n} in the queue, distinct {n * 7919}.",
            scheduled_at=in_seconds(3600 * (n + 1)),
        )
        for n in range(5)
    ]
    found = events(fetch(client, subscribe(client)))
    assert list(found) == [f"{p['id']}@handpost" for p in posts[:3]]  # the nearest ones
    # No HANDPOST_PUBLIC_URL: links use the address the calendar application asked.
    first = found[f"{posts[0]['id']}@handpost"]
    assert str(first["URL"]) == f"http://testserver/#/compose/{posts[0]['id']}"


def test_only_the_hash_of_the_secret_is_kept(client: TestClient, database: Database) -> None:
    path = subscribe(client)
    secret = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(secret) >= 43  # 256 bits
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM calendar_feeds")).all()
    assert secret not in str(stored)
    read = client.get("/api/v1/calendar-feed")
    assert read.status_code == 200 and secret not in read.text


def test_rotating_and_revoking_close_the_old_address(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/calendar-feed"), 404, "not-found")
    assert_problem(client.post("/api/v1/calendar-feed/rotate"), 404, "not-found")
    assert_problem(client.delete("/api/v1/calendar-feed"), 404, "not-found")
    old = subscribe(client)
    assert_problem(client.post("/api/v1/calendar-feed"), 409, "calendar-feed-exists")
    assert fetch(client, old).status_code == 200

    rotated = client.post("/api/v1/calendar-feed/rotate")
    assert rotated.status_code == 200
    new = rotated.json()["url"].removeprefix(PUBLIC)
    assert new != old
    assert_problem(fetch(client, old), 404, "not-found")
    assert fetch(client, new).status_code == 200

    assert client.delete("/api/v1/calendar-feed").status_code == 204
    unknown = fetch(client, "/api/v1/feeds/calendar/never-issued.ics")
    revoked = fetch(client, new)
    for response in (unknown, revoked):
        body = assert_problem(response, 404, "not-found")
        assert body["detail"] == (
            "No calendar feed at this address; it may have been rotated or revoked."
        )


@pytest.mark.parametrize(
    "secret",
    ["", "x" * 4000, "%00", "..%2F..%2Fetc", "%F0%9F%8C%8D", "a.ics", "%ff%fe", "<script>"],
)
def test_any_other_address_is_a_plain_404(client: TestClient, secret: str) -> None:
    subscribe(client)
    response = fetch(client, f"/api/v1/feeds/calendar/{secret}.ics")
    assert response.status_code in (400, 404), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_calendar_application_may_ask_with_head_and_its_fetch_is_noted(
    client: TestClient,
) -> None:
    path = subscribe(client)
    assert client.get("/api/v1/calendar-feed").json()["last_fetched_at"] is None
    head = client.head(path, headers={"Authorization": ""})
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"]
    assert client.get("/api/v1/calendar-feed").json()["last_fetched_at"] is None
    fetch(client, path)
    fetched = client.get("/api/v1/calendar-feed").json()["last_fetched_at"]
    assert fetched is not None
    assert datetime.now(UTC) - datetime.fromisoformat(fetched) < timedelta(minutes=1)


def test_the_address_never_reaches_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = subscribe(client)
    secret = path.rsplit("/", 1)[1].removesuffix(".ics")
    fetch(client, path)
    fetch(client, path.replace(secret, secret[::-1]))
    # The service's own lines (the test's HTTP client logs the URLs it calls, as any would).
    logged = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("handpost")
    )
    assert secret not in logged and secret[::-1] not in logged
    assert "/api/v1/feeds/calendar/{secret}.ics" in logged


def test_parallel_creates_make_one_feed(make_client: AppFactory) -> None:
    client = make_client(dispatch=False)
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        barrier.wait()
        statuses.append(client.post("/api/v1/calendar-feed").status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409, 409, 409]


def test_a_published_post_updates_its_event(make_client: AppFactory) -> None:
    client = make_client(public_url=PUBLIC)
    account = create_account(client, "mastodon", "ada", base_url="https://example.social")
    path = subscribe(client)
    post = create_post(
        client, account["id"], "Out now, and the calendar knows.", publish_now=True
    ).json()
    wait_for(lambda: client.get(f"/api/v1/posts/{post['id']}").json()["state"] == "published")
    event = events(fetch(client, path))[f"{post['id']}@handpost"]
    assert str(event["SUMMARY"]).startswith("Published — Mastodon (ada): ")
    assert event["SEQUENCE"] > post["version"]


# Text as the API accepts it: any characters but control ones, newlines and tabs included.
POST_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from(["\n", "\t", "\\", ",", ";", ":", "é", "🌍"]),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(POST_TEXT)
def test_any_text_folds_within_75_octets_and_reads_back_unchanged(words: str) -> None:
    from service.feeds.ics import FeedEntry, calendar
    from service.posts.models import Post

    moment = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
    post = Post(
        id="p1",
        user_id="u",
        account_id="a",
        network="mastodon",
        text=words or "x",
        visibility="public",
        state="scheduled",
        scheduled_at=moment,
        updated_at=moment,
        created_at=moment,
        version=1,
    )
    raw = calendar([FeedEntry(post, "ada", None, "sandbox")], base_url="https://h", owner="ada")
    lines = raw.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")  # never cut inside a character
        trailing = len(line) - len(line.rstrip(b"\\"))
        assert trailing % 2 == 0, line  # never cut between a backslash and what it escapes
    [event] = Calendar.from_ical(raw).walk("VEVENT")
    assert (words or "x").replace("\r", "") in str(event["DESCRIPTION"])
