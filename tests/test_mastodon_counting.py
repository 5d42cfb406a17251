"""Mastodon counts as Mastodon's own StatusLengthValidator does.

The cases of Mastodon's spec (spec/validators/status_length_validator_spec.rb, MAX_CHARS 100
there, the limit here), and what the counting issue found: links Mastodon does not recognise
count in full, a Wikipedia link with parentheses counts 23, other schemes Mastodon links count
short, and a remote mention counts as @user.
"""

from __future__ import annotations

import pytest

from service.networks import mastodon
from service.networks.base import AccountRef, PostContent, ServerLimits
from service.networks.mastodon.counting import entities, status_length

LIMIT = 100
INSTANCE = AccountRef(id="a", handle="alice", limits=ServerLimits(max_characters=LIMIT))


def fits(text: str) -> bool:
    return mastodon.RULES.validate(PostContent(text=text), INSTANCE) == []


def test_the_specs_cases() -> None:
    assert not fits("a" * 200)
    assert fits("a" * 100) and not fits("a" * 101)
    # URLs count 23, whatever their length, when separated from the text.
    link = f"http://{'b' * 30}.com/example"
    assert fits(" ".join(["a" * 76, link]))
    assert not fits("".join(["a" * 76, link]))  # not a URL without what precedes it
    assert not fits(f"http://example.com/valid?{'#foo?' * 1000}")
    # A remote username counts only its front part.
    assert fits(("a" * 75) + f" @alice@{'b' * 30}.com")
    assert not fits(f"@alice@{'b' * 253 * 2}.com")
    assert fits("✨" * LIMIT) and fits("🏳️‍⚧️" * LIMIT)


def test_the_content_warning_counts_too() -> None:
    assert status_length("b" * 81, spoiler_text="a" * 20) == 101


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("https://example", 15),  # no known top-level domain: not a link to Mastodon
        ("http://localhost/abc", 20),
        ("http://192.168.0.1/x", 20),
        ("example.com/no-scheme", 21),  # Mastodon shortens only links with a scheme
        ("https://en.wikipedia.org/wiki/Pluto_(planet)", 23),
        ("gemini://example.org/a/long/path/of/the/capsule", 23),
        ("ipfs://example.org/a", 23),
        ("see https://example.com/a.", 4 + 23 + 1),  # the full stop ends the link
        ("hi @bob@mastodon.example.org!", len("hi @bob!")),
        ("@alice@x.y@z", 12),  # followed by another @: not a mention
        ("https://\U0001f600.com/x", 15),  # no valid internationalised name: counted in full
        ("https://☃.net/", 23),
    ],
)
def test_what_mastodon_recognises(text: str, length: int) -> None:
    assert status_length(text) == length


def test_the_instances_url_length_and_limit_apply() -> None:
    account = AccountRef(
        id="a",
        handle="alice",
        limits=ServerLimits(max_characters=1000, characters_reserved_per_url=30),
    )
    content = PostContent(text="x" * 970 + " https://example.com/a")
    assert mastodon.RULES.text_length(content, account) == 971 + 30
    assert mastodon.RULES.text_limit_for(account) == 1000
    assert [v.code for v in mastodon.RULES.validate(content, account)] == ["text-too-long"]
    assert mastodon.RULES.text_limit_for(None) == 500


def test_entities_are_the_links_and_mentions_mastodon_makes() -> None:
    text = "Hi @bob@example.social, read https://example.org/(a) and example.com"
    found = [(e.kind, text[e.start : e.end]) for e in entities(text)]
    assert found == [("mention", "@bob@example.social"), ("link", "https://example.org/(a)")]


def test_language_goes_as_its_iso_639_part() -> None:
    body = mastodon.RULES.create_body(PostContent(text="Olá", language="pt-BR"))
    assert body["language"] == "pt"
    assert "language" not in mastodon.RULES.create_body(PostContent(text="Hi"))
