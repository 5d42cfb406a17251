"""The iCalendar document (RFC 5545) of a user's schedule: pure, no database nor web.

Generated with the ``icalendar`` library, which escapes TEXT values (backslash, comma,
semicolon, newline) and folds lines at 75 octets without splitting a UTF-8 character or an
escape. The document depends only on the rows it is given, never on the clock: fetched
twice without a change in between, it is the same bytes, so its ETag holds and a calendar
application's refresh costs a 304.

Each post is one event whose UID is the post's id, whose SEQUENCE is the post's version
and whose DTSTAMP and LAST-MODIFIED are its last change, so a calendar updates the event in
place when the post is edited, rescheduled or published. Times are UTC (``...Z``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from icalendar import Alarm, Calendar, Event, vDuration

from service.networks import rules_for
from service.networks.base import Network
from service.posts.models import Post, PostState

PRODUCT_ID = "-//Handpost//Calendar feed//EN"
# Accounts in this mode are published by hand: the hand-publish feature adds the mode
# (AccountMode.HAND); the feed already reminds the person when such a post is due.
HAND_MODE = "hand"
# How long an event lasts in the calendar: a post is a moment, but a zero-length event is
# hard to see and to click in most calendar applications.
EVENT_LENGTH = timedelta(minutes=15)
# How often calendar applications are asked to fetch the feed again.
REFRESH_INTERVAL = timedelta(minutes=15)
SUMMARY_WORDS_CHARACTERS = 60
DESCRIPTION_TEXT_CHARACTERS = 1000

STATE_LABELS = {
    PostState.SCHEDULED: "Scheduled",
    PostState.PUBLISHING: "Publishing",
    PostState.PUBLISHED: "Published",
    PostState.FAILED: "Failed",
    PostState.MISSED: "Missed",
    PostState.UNKNOWN: "Outcome unknown",
}


@dataclass(frozen=True)
class FeedEntry:
    """A post and what the feed shows of its account."""

    post: Post
    handle: str
    account_name: str | None
    account_mode: str

    @property
    def by_hand(self) -> bool:
        return self.account_mode == HAND_MODE


def first_words(text: str, limit: int = SUMMARY_WORDS_CHARACTERS) -> str:
    """The text's first words on one line, at most ``limit`` characters, "…" if cut."""
    words = text.split()
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if len(candidate) > limit:
            break
        line = candidate
    if not line and words:  # one long first word
        line = words[0][: limit - 1]
    return line if line == " ".join(words) else line + "…"


def post_link(base_url: str, post_id: str) -> str:
    return f"{base_url}/#/compose/{post_id}"


def calendar(entries: list[FeedEntry], *, base_url: str, owner: str) -> bytes:
    """The whole feed, as bytes ready to send."""
    cal = Calendar()
    cal.add("prodid", PRODUCT_ID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", f"Handpost: {owner}")
    cal.add("x-wr-calname", f"Handpost: {owner}")
    cal.add("description", "Your scheduled posts, and how recent ones went.")
    cal.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    for entry in entries:
        cal.add_component(_event(entry, base_url))
    document: bytes = cal.to_ical()
    return document


def _event(entry: FeedEntry, base_url: str) -> Event:
    post = entry.post
    assert post.scheduled_at is not None
    network = rules_for(Network(post.network)).display_name
    account = f"{network} ({entry.account_name or entry.handle})"
    words = first_words(post.text)
    upcoming = post.state in (PostState.SCHEDULED, PostState.PUBLISHING)
    if upcoming and entry.by_hand:
        summary = f"Publish by hand — {account}: {words}"
    elif upcoming:
        summary = f"{account}: {words}"
    else:
        summary = f"{STATE_LABELS.get(PostState(post.state), post.state)} — {account}: {words}"
    link = post_link(base_url, post.id)

    event = Event()
    event.add("uid", f"{post.id}@handpost")
    event.add("dtstamp", post.updated_at)
    event.add("last-modified", post.updated_at)
    event.add("created", post.created_at)
    event.add("sequence", post.version)
    event.add("dtstart", post.scheduled_at)
    event.add("dtend", post.scheduled_at + EVENT_LENGTH)
    event.add("summary", summary)
    event.add("description", _description(entry, account, link))
    event.add("url", link)
    event.add("categories", [network])
    event.add("transp", "TRANSPARENT")
    if upcoming and entry.by_hand:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Publish by hand on {account}: {words}")
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
    return event


def _description(entry: FeedEntry, account: str, link: str) -> str:
    post = entry.post
    text = post.text
    if len(text) > DESCRIPTION_TEXT_CHARACTERS:
        text = text[: DESCRIPTION_TEXT_CHARACTERS - 1] + "…"
    state = STATE_LABELS.get(PostState(post.state), post.state)
    lines = [f"{state} on {account}" + (" (published by hand)" if entry.by_hand else "") + "."]
    if post.state == PostState.PUBLISHED and post.external_url:
        lines.append(f"Live at {post.external_url}")
    elif post.state in (PostState.FAILED, PostState.MISSED, PostState.UNKNOWN) and post.last_error:
        lines.append(post.last_error)
    lines += ["", text, "", f"Open in Handpost: {link}"]
    return "\n".join(lines)
