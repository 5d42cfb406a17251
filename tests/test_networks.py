"""What each network module promises its users: counting, refusals, and the exact request."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.networks import (
    RULES,
    AccountRef,
    Network,
    NetworkRules,
    PostContent,
    Violation,
    bluesky,
    facebook,
    linkedin,
    mastodon,
    rules_for,
    threads,
    x,
    youtube,
)

ACCOUNT = AccountRef(id="acc-1", handle="alice")
BLOG = AccountRef(id="acc-2", handle="alice's blog", base_url="https://blog.example.com")
KEY = "post-42-attempt-1"
LINK = "https://example.com/article"


def codes(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.field, v.code) for v in violations]


def content_for(network: Network, text: str = "Hello there", **fields: str | None) -> PostContent:
    # YouTube and blogs cannot go without a title; every other test input is left as given.
    if rules_for(network).requires_title and "title" not in fields:
        fields["title"] = "My video"
    return PostContent(text=text, **fields)


# Networks Handpost sends to; the others are published by hand only.
API_NETWORKS = [n for n in Network if RULES[n].has_api]

# --- registry -------------------------------------------------------------------------------


def test_registry_has_every_network_once() -> None:
    assert set(RULES) == set(Network)
    for network, rules in RULES.items():
        assert rules.network is network
        assert isinstance(rules, NetworkRules)


def test_a_network_without_an_api_builds_no_request_and_no_sandbox_result() -> None:
    rules = rules_for(Network.OTHER)
    assert not rules.has_api and rules.validate(PostContent(text="Hello, forum.")) == []
    with pytest.raises(NotImplementedError, match="publish by hand"):
        rules.build_create_request(PostContent(text="Hello, forum."), ACCOUNT, KEY)
    with pytest.raises(NotImplementedError, match="publish by hand"):
        rules.sandbox_result(ACCOUNT, KEY)


def test_rules_for_accepts_enum_and_string() -> None:
    assert rules_for(Network.MASTODON) is mastodon.RULES
    assert rules_for("bluesky") is bluesky.RULES


def test_rules_for_unknown_network_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"myspace.*linkedin"):
        rules_for("myspace")


def test_call_to_action_expected_only_on_linkedin_and_x() -> None:
    expecting = {n for n, rules in RULES.items() if rules.expects_call_to_action}
    assert expecting == {Network.X, Network.LINKEDIN}


# --- shared rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("network", list(Network))
@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_refused_everywhere(network: Network, text: str) -> None:
    violations = rules_for(network).validate(content_for(network, text, link=LINK))
    assert ("text", "text-required") in codes(violations)
    message = next(v.message for v in violations if v.code == "text-required")
    assert RULES[network].display_name in message


@pytest.mark.parametrize("network", list(Network))
def test_a_plain_post_fits_everywhere(network: Network) -> None:
    # A blog post's links are in its body: it has no separate link.
    link = None if rules_for(network).has_blog_fields else LINK
    assert rules_for(network).validate(content_for(network, link=link)) == []


@pytest.mark.parametrize("network", list(Network))
@pytest.mark.parametrize(
    "link", ["example.com/x", "ftp://example.com/x", "https://", "https://exa mple.com", " "]
)
def test_link_must_be_absolute_http_url(network: Network, link: str) -> None:
    violations = rules_for(network).validate(content_for(network, link=link))
    assert ("link", "invalid-link") in codes(violations)


@pytest.mark.parametrize(
    "network", [Network.X, Network.FACEBOOK, Network.MASTODON, Network.BLUESKY, Network.THREADS]
)
def test_title_refused_where_the_network_has_none(network: Network) -> None:
    violations = rules_for(network).validate(PostContent(text="Hi", title="A title"))
    assert codes(violations) == [("title", "title-not-supported")]
    assert RULES[network].display_name in violations[0].message


@pytest.mark.parametrize(
    ("network", "visibility"),
    [
        (Network.X, "unlisted"),
        (Network.BLUESKY, "private"),
        (Network.THREADS, "connections"),
        (Network.FACEBOOK, "private"),
        (Network.LINKEDIN, "unlisted"),
        (Network.YOUTUBE, "direct"),
        (Network.MASTODON, "connections"),
    ],
)
def test_unsupported_visibility_is_refused_naming_the_allowed_ones(
    network: Network, visibility: str
) -> None:
    rules = rules_for(network)
    content = content_for(network, visibility=visibility)
    violations = rules.validate(content)
    assert codes(violations) == [("visibility", "unsupported-visibility")]
    for allowed in rules.visibilities:
        assert f"'{allowed}'" in violations[0].message
    with pytest.raises(ValueError, match=visibility):
        rules.build_create_request(content, ACCOUNT, KEY)


@pytest.mark.parametrize("network", API_NETWORKS)
def test_requests_carry_no_secrets(network: Network) -> None:
    request = rules_for(network).build_create_request(content_for(network, link=LINK), ACCOUNT, KEY)
    record = request.as_record()
    if "Authorization" in request.headers:
        scheme = {Network.WORDPRESS: "Basic", Network.GHOST: "Ghost"}.get(network, "Bearer")
        assert request.headers["Authorization"] == f"{scheme} <redacted>"
    body = request.json or request.form or {}
    if "access_token" in body:
        assert body["access_token"] == "<redacted>"
    assert "Authorization" in request.headers or "access_token" in body
    assert "token=" not in str(record["url"])


@pytest.mark.parametrize("network", API_NETWORKS)
def test_account_base_url_replaces_scheme_and_host(network: Network) -> None:
    rules = rules_for(network)
    default = rules.build_create_request(content_for(network), ACCOUNT, KEY).url
    assert default.startswith(rules.default_base_url + "/")
    custom = AccountRef(id="acc-1", handle="alice", base_url="http://localhost:9000/")
    url = rules.build_create_request(content_for(network), custom, KEY).url
    assert url == "http://localhost:9000" + default.removeprefix(rules.default_base_url)


@pytest.mark.parametrize("network", API_NETWORKS)
def test_sandbox_results_are_deterministic_per_publish_key(network: Network) -> None:
    rules = rules_for(network)
    # A blog account always has its site's address.
    account = BLOG if rules.needs_site_url else ACCOUNT
    first = rules.sandbox_result(account, KEY)
    assert rules.sandbox_result(account, KEY) == first
    other = rules.sandbox_result(account, "another-key")
    assert other.external_id != first.external_id
    assert other.url != first.url
    assert first.url.startswith("https://")


# --- X --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 280, 280),
        ("中" * 140, 280),
        ("https://example.com/" + "a" * 200, 23),
        ("see http://x.co and www.example.org/long/path", 4 + 23 + 5 + 23),
        ("👨‍👩‍👧‍👦", 2),  # ZWJ family of seven code points
        ("👋🏽", 2),  # skin tone
        ("🇫🇮", 2),  # flag
        ("1️⃣", 2),  # keycap
        ("\u2019\u2014", 2),  # curly quote and em dash are in the light ranges
        ("…", 2),  # U+2026 is outside them
        ("Привет", 6),  # Cyrillic is below U+10FF
    ],
)
def test_x_weighted_length(text: str, expected: int) -> None:
    assert x.weighted_length(text) == expected


def test_x_counts_decomposed_and_composed_the_same() -> None:
    composed = "café " * 10
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert x.weighted_length(decomposed) == x.weighted_length(composed) == 50


@pytest.mark.parametrize(("length", "fits"), [(279, True), (280, True), (281, False)])
def test_x_limit_is_280(length: int, fits: bool) -> None:
    violations = x.RULES.validate(PostContent(text="a" * length))
    assert (violations == []) is fits


def test_x_over_limit_message_says_how_x_counts() -> None:
    [violation] = x.RULES.validate(PostContent(text="é" * 268 + " https://example.com/" + "p" * 99))
    assert codes([violation]) == [("text", "text-too-long")]
    assert violation.message.startswith("X counts this post as 292 of 280 weighted characters")
    assert "URL counts 23" in violation.message
    assert "Shorten it by 12" in violation.message


def test_x_link_is_appended_and_counted() -> None:
    content = PostContent(text="a" * 255, link=LINK)
    assert x.RULES.text_length(content) == 255 + 2 + 23
    assert x.RULES.validate(content) == []
    too_long = PostContent(text="a" * 256, link=LINK)
    assert codes(x.RULES.validate(too_long)) == [("text", "text-too-long")]
    request = x.RULES.build_create_request(content, ACCOUNT, KEY)
    assert request.json == {"text": "a" * 255 + "\n\n" + LINK}


def test_x_link_already_in_text_is_not_repeated() -> None:
    content = PostContent(text=f"Read {LINK}, it is good", link=LINK)
    request = x.RULES.build_create_request(content, ACCOUNT, KEY)
    assert request.json == {"text": f"Read {LINK}, it is good"}


def test_x_request() -> None:
    request = x.RULES.build_create_request(PostContent(text="Hi"), ACCOUNT, KEY)
    assert (request.method, request.url) == ("POST", "https://api.x.com/2/tweets")
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {"text": "Hi"}


def test_x_sandbox_result() -> None:
    result = x.RULES.sandbox_result(AccountRef(id="a", handle="@alice"), KEY)
    assert re.fullmatch(r"[1-9]\d{18}", result.external_id)
    assert result.url == f"https://x.com/alice/status/{result.external_id}"


# --- LinkedIn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("Plain words.", "Plain words."),
        (
            "a\\b|c{d}e@f[g]h(i)j<k>l*m_n~o",
            "a\\\\b\\|c\\{d\\}e\\@f\\[g\\]h\\(i\\)j\\<k\\>l\\*m\\_n\\~o",
        ),
        ("Love #python_3 and #rust!", "Love #python_3 and #rust!"),
        ("C# and # alone", "C\\# and \\# alone"),
        (
            "See (https://example.com/a_b?x=1#frag) now",
            "See \\(https://example.com/a_b?x=1#frag\\) now",
        ),
        ("mail @bob_smith", "mail \\@bob\\_smith"),
    ],
)
def test_linkedin_escape_little_text(text: str, escaped: str) -> None:
    assert linkedin.escape_little_text(text) == escaped


@pytest.mark.parametrize(("length", "fits"), [(2999, True), (3000, True), (3001, False)])
def test_linkedin_counts_the_unescaped_text(length: int, fits: bool) -> None:
    # Every "(" doubles when escaped; the limit applies to what the user wrote.
    content = PostContent(text="(" * length)
    assert linkedin.RULES.text_length(content) == length
    assert (linkedin.RULES.validate(content) == []) is fits


@pytest.mark.parametrize(
    ("visibility", "api_value"),
    [
        (None, "PUBLIC"),
        ("public", "PUBLIC"),
        ("connections", "CONNECTIONS"),
        ("logged_in", "LOGGED_IN"),
    ],
)
def test_linkedin_visibility_mapping(visibility: str | None, api_value: str) -> None:
    content = PostContent(text="Hi", visibility=visibility)
    assert linkedin.RULES.validate(content) == []
    request = linkedin.RULES.build_create_request(content, ACCOUNT, KEY)
    assert request.json is not None
    assert request.json["visibility"] == api_value


def test_linkedin_request() -> None:
    content = PostContent(text="Ask me (anything) #AMA", call_to_action="Ask")
    request = linkedin.RULES.build_create_request(content, ACCOUNT, KEY)
    assert (request.method, request.url) == ("POST", "https://api.linkedin.com/rest/posts")
    assert request.headers["LinkedIn-Version"] == linkedin.LINKEDIN_VERSION == "202611"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.json == {
        "author": "urn:li:person:alice",
        "commentary": "Ask me \\(anything\\) #AMA",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def test_linkedin_link_becomes_an_article_titled_by_the_title_or_the_link() -> None:
    titled = PostContent(text="Worth reading", link=LINK, title="A fine article")
    request = linkedin.RULES.build_create_request(titled, ACCOUNT, KEY)
    assert request.json is not None
    assert request.json["content"] == {"article": {"source": LINK, "title": "A fine article"}}
    assert request.json["commentary"] == "Worth reading"
    untitled = PostContent(text="Worth reading", link=LINK)
    request = linkedin.RULES.build_create_request(untitled, ACCOUNT, KEY)
    assert request.json is not None
    assert request.json["content"] == {"article": {"source": LINK, "title": LINK}}


def test_linkedin_title_rules() -> None:
    assert linkedin.RULES.validate(PostContent(text="Hi", link=LINK, title="t" * 200)) == []
    too_long = linkedin.RULES.validate(PostContent(text="Hi", link=LINK, title="t" * 201))
    assert codes(too_long) == [("title", "title-too-long")]
    without_link = linkedin.RULES.validate(PostContent(text="Hi", title="Orphan"))
    assert codes(without_link) == [("title", "title-not-supported")]
    assert "link" in without_link[0].message


def test_linkedin_sandbox_result() -> None:
    result = linkedin.RULES.sandbox_result(ACCOUNT, KEY)
    assert re.fullmatch(r"urn:li:share:[1-9]\d{18}", result.external_id)
    assert result.url == f"https://www.linkedin.com/feed/update/{result.external_id}/"


# --- Facebook -------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "fits"), [(63206, True), (63207, False)])
def test_facebook_limit(length: int, fits: bool) -> None:
    violations = facebook.RULES.validate(PostContent(text="ä" * length))
    assert (violations == []) is fits
    if not fits:
        assert "Facebook counts this post as 63,207 of 63,206 characters" in violations[0].message


def test_facebook_link_is_its_own_field_and_not_counted() -> None:
    content = PostContent(text="Read this", link=LINK)
    assert facebook.RULES.text_length(content) == len("Read this")
    request = facebook.RULES.build_create_request(content, AccountRef(id="a", handle="1234"), KEY)
    assert (request.method, request.url) == (
        "POST",
        f"https://graph.facebook.com/{facebook.GRAPH_VERSION}/1234/feed",
    )
    assert facebook.GRAPH_VERSION == "v24.0"
    assert request.json == {"message": "Read this", "link": LINK, "access_token": "<redacted>"}


def test_facebook_sandbox_result() -> None:
    result = facebook.RULES.sandbox_result(AccountRef(id="a", handle="1234"), KEY)
    page, post = result.external_id.split("_")
    assert page == "1234" and post.isdigit()
    assert result.url == f"https://www.facebook.com/1234/posts/{post}"


# --- YouTube --------------------------------------------------------------------------------


@pytest.mark.parametrize("title", [None, "", "   "])
def test_youtube_requires_a_title(title: str | None) -> None:
    violations = youtube.RULES.validate(PostContent(text="About the video", title=title))
    assert codes(violations) == [("title", "title-required")]


@pytest.mark.parametrize(("length", "fits"), [(100, True), (101, False)])
def test_youtube_title_limit(length: int, fits: bool) -> None:
    violations = youtube.RULES.validate(PostContent(text="About", title="é" * length))
    assert codes(violations) == ([] if fits else [("title", "title-too-long")])


@pytest.mark.parametrize(("extra", "fits"), [("", True), ("a", False)])
def test_youtube_description_is_limited_in_bytes(extra: str, fits: bool) -> None:
    content = PostContent(text="ä" * 2500 + extra, title="T")  # 5,000 bytes, 2,500 characters
    violations = youtube.RULES.validate(content)
    assert codes(violations) == ([] if fits else [("text", "text-too-long")])
    if not fits:
        assert "YouTube counts this description as 5,001 of 5,000 bytes" in violations[0].message


def test_youtube_link_counts_in_the_description() -> None:
    content = PostContent(text="a" * (5000 - len(LINK) - 2), title="T", link=LINK)
    assert youtube.RULES.text_length(content) == 5000
    assert youtube.RULES.validate(content) == []


@pytest.mark.parametrize(
    ("title", "text", "fields"),
    [("<b>", "fine", ["title"]), ("fine", "a > b", ["text"]), ("<", ">", ["title", "text"])],
)
def test_youtube_forbids_angle_brackets(title: str, text: str, fields: list[str]) -> None:
    violations = youtube.RULES.validate(PostContent(text=text, title=title))
    assert codes(violations) == [(field, "forbidden-character") for field in fields]


@pytest.mark.parametrize(
    ("visibility", "privacy"),
    [(None, "public"), ("public", "public"), ("unlisted", "unlisted"), ("private", "private")],
)
def test_youtube_request(visibility: str | None, privacy: str) -> None:
    content = PostContent(text="About", title="My video", link=LINK, visibility=visibility)
    request = youtube.RULES.build_create_request(content, ACCOUNT, KEY)
    assert request.method == "POST"
    assert request.url == (
        "https://www.googleapis.com/upload/youtube/v3/videos"
        "?uploadType=resumable&part=snippet,status"
    )
    # The upload carries a tag naming the post: how a lost upload is found on the channel.
    assert request.json == {
        "snippet": {
            "title": "My video",
            "description": f"About\n\n{LINK}",
            "categoryId": "22",
            "tags": [f"handpost-{KEY}"],
        },
        "status": {"privacyStatus": privacy, "selfDeclaredMadeForKids": False},
    }


def test_youtube_sandbox_result() -> None:
    result = youtube.RULES.sandbox_result(ACCOUNT, KEY)
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", result.external_id)
    assert result.url == f"https://www.youtube.com/watch?v={result.external_id}"


# --- Mastodon -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 500, 500),
        ("👨‍👩‍👧‍👦🇫🇮", 2),
        ("https://example.com/" + "x" * 100, 23),
        ("hi @bob@mastodon.example.org!", len("hi @bob!")),
        ("hi @bob", len("hi @bob")),
        ("www.example.com/" + "x" * 30, 46),  # Mastodon shortens only URLs with a scheme
    ],
)
def test_mastodon_length(text: str, expected: int) -> None:
    assert mastodon.RULES.text_length(PostContent(text=text)) == expected


@pytest.mark.parametrize(("length", "fits"), [(500, True), (501, False)])
def test_mastodon_limit_with_link(length: int, fits: bool) -> None:
    content = PostContent(text="a" * (length - 25), link=LINK)
    assert mastodon.RULES.text_length(content) == length
    assert (mastodon.RULES.validate(content) == []) is fits


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_mastodon_visibility_words_are_mastodons_own(visibility: str) -> None:
    content = PostContent(text="Hi", visibility=visibility)
    assert mastodon.RULES.validate(content) == []
    request = mastodon.RULES.build_create_request(content, ACCOUNT, KEY)
    assert request.json == {"status": "Hi", "visibility": visibility}


def test_mastodon_request_uses_the_instance_and_idempotency_key() -> None:
    account = AccountRef(id="a", handle="alice", base_url="https://fosstodon.org")
    content = PostContent(text="Hi", link=LINK)
    request = mastodon.RULES.build_create_request(content, account, KEY)
    assert (request.method, request.url) == ("POST", "https://fosstodon.org/api/v1/statuses")
    assert request.headers["Idempotency-Key"] == KEY
    assert request.json == {"status": f"Hi\n\n{LINK}", "visibility": "public"}


def test_mastodon_sandbox_result() -> None:
    result = mastodon.RULES.sandbox_result(AccountRef(id="a", handle="@alice@mastodon.social"), KEY)
    assert re.fullmatch(r"[1-9]\d{17}", result.external_id)
    assert result.url == f"https://mastodon.social/@alice/{result.external_id}"
    own = AccountRef(id="a", handle="alice", base_url="https://fosstodon.org")
    assert mastodon.RULES.sandbox_result(own, KEY).url.startswith("https://fosstodon.org/@alice/")


# --- Bluesky --------------------------------------------------------------------------------


def test_bluesky_facet_byte_offsets_with_non_ascii_before_the_url() -> None:
    text = "Hyvää päivää 👋 https://example.com/x"
    [facet] = bluesky.link_facets(text)
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert start != text.index("https")  # characters and bytes differ here
    assert text.encode("utf-8")[start:end] == b"https://example.com/x"
    assert facet["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/x"}
    ]


def test_bluesky_facets_every_url_and_completes_bare_www() -> None:
    text = "Två länkar: www.example.org/ö och https://example.com/y."
    facets = bluesky.link_facets(text)
    raw = text.encode("utf-8")
    assert [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]] for f in facets] == [
        "www.example.org/ö".encode(),
        b"https://example.com/y",
    ]
    assert [f["features"][0]["uri"] for f in facets] == [
        "https://www.example.org/ö",
        "https://example.com/y",
    ]


def test_bluesky_request() -> None:
    content = PostContent(text="Hyvää päivää 👋", link=LINK)
    when = datetime(2026, 1, 31, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    request = bluesky.RULES.build_create_request(content, ACCOUNT, KEY, created_at=when)
    assert (request.method, request.url) == (
        "POST",
        "https://bsky.social/xrpc/com.atproto.repo.createRecord",
    )
    assert request.json is not None
    text = f"Hyvää päivää 👋\n\n{LINK}"
    assert request.json["repo"] == "alice"
    assert request.json["collection"] == "app.bsky.feed.post"
    assert request.json["rkey"] == bluesky.rkey_for(KEY)
    assert request.json["record"] == {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2026-01-31T12:00:00.123Z",
        "facets": bluesky.link_facets(text),
    }
    assert len(request.json["record"]["facets"]) == 1


def test_bluesky_without_urls_has_no_facets_and_defaults_created_at_to_now() -> None:
    before = datetime.now(UTC)
    request = bluesky.RULES.build_create_request(PostContent(text="Just words"), ACCOUNT, KEY)
    assert request.json is not None
    record = request.json["record"]
    assert "facets" not in record
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["createdAt"])
    created = datetime.fromisoformat(record["createdAt"])
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC)


def test_bluesky_rkey_is_a_stable_tid() -> None:
    rkey = bluesky.rkey_for(KEY)
    assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", rkey)
    assert bluesky.rkey_for(KEY) == rkey
    assert bluesky.rkey_for("another-key") != rkey


@pytest.mark.parametrize(("count", "fits"), [(300, True), (301, False)])
def test_bluesky_grapheme_limit(count: int, fits: bool) -> None:
    violations = bluesky.RULES.validate(PostContent(text="👋" * count))  # 4 bytes each
    assert codes(violations) == ([] if fits else [("text", "text-too-long")])


def test_bluesky_byte_limit_applies_too() -> None:
    family = "👨‍👩‍👧‍👦"  # one grapheme, 25 bytes
    content = PostContent(text=family * 121)  # 121 graphemes, 3,025 bytes
    violations = bluesky.RULES.validate(content)
    assert codes(violations) == [("text", "text-too-long")]
    assert "3,000 bytes" in violations[0].message
    assert bluesky.RULES.validate(PostContent(text=family * 120)) == []


def test_bluesky_link_counts_in_full() -> None:
    content = PostContent(text="a" * 10, link="https://example.com/" + "p" * 200)
    assert bluesky.RULES.text_length(content) == 10 + 2 + 220


def test_bluesky_sandbox_result() -> None:
    account = AccountRef(id="a", handle="alice.bsky.social")
    result = bluesky.RULES.sandbox_result(account, KEY)
    rkey = bluesky.rkey_for(KEY)
    assert result.external_id == f"at://alice.bsky.social/app.bsky.feed.post/{rkey}"
    assert result.url == f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"


# --- Threads --------------------------------------------------------------------------------


def test_threads_counts_emoji_as_their_utf8_bytes() -> None:
    assert threads.threads_length("👋") == 4
    assert threads.threads_length("👨‍👩‍👧‍👦") == 25
    assert threads.threads_length("ä中a") == 3


@pytest.mark.parametrize(("extra", "fits"), [("", True), ("a", False)])
def test_threads_limit(extra: str, fits: bool) -> None:
    content = PostContent(text="👋" * 124 + "abcd" + extra)  # 496 + 4 = 500
    violations = threads.RULES.validate(content)
    assert codes(violations) == ([] if fits else [("text", "text-too-long")])


@pytest.mark.parametrize(("links", "fits"), [(5, True), (6, False)])
def test_threads_link_limit_counts_the_attached_link(links: int, fits: bool) -> None:
    text = " ".join(f"https://example.com/{n}" for n in range(links - 1))
    violations = threads.RULES.validate(PostContent(text=text, link=LINK))
    assert codes(violations) == ([] if fits else [("text", "too-many-links")])


def test_threads_request() -> None:
    content = PostContent(text="Hi", link=LINK)
    request = threads.RULES.build_create_request(content, AccountRef(id="a", handle="9876"), KEY)
    assert (request.method, request.url) == (
        "POST",
        "https://graph.threads.net/v1.0/9876/threads",
    )
    assert request.json is None
    assert request.form == {
        "media_type": "TEXT",
        "text": f"Hi\n\n{LINK}",
        "link_attachment": LINK,
        "access_token": "<redacted>",
    }


def test_threads_sandbox_result() -> None:
    result = threads.RULES.sandbox_result(ACCOUNT, KEY)
    assert result.external_id.isdigit()
    assert re.fullmatch(r"https://www\.threads\.net/@alice/post/[A-Za-z0-9_-]{11}", result.url)


def test_the_language_goes_where_each_network_takes_one() -> None:
    content = PostContent(text="Moi", title="Otsikko", language="fi")
    assert youtube.RULES.create_body(content)["snippet"]["defaultLanguage"] == "fi"
    assert mastodon.RULES.create_body(content)["language"] == "fi"
    record = bluesky.RULES.build_create_request(content, ACCOUNT, KEY).json
    assert record is not None and record["record"]["langs"] == ["fi"]
    # X, LinkedIn, Facebook and Threads take no language when a post is created.
    assert "lang" not in str(x.RULES.create_body(content))
