"""X counts, links and refuses text exactly as twitter-text 3.1, its reference, does.

* Conformance: every case of twitter-text's own suite (tests/conformance/twitter_text, vendored
  with its licence) that applies to X's counting today: the v3 weighted counter (emoji counted
  as one), invalid and directional characters, and URL extraction with and without a scheme,
  for every top-level domain.
* Differential: thousands of generated texts, near the limit and full of the characters that
  make counting subtle, counted by Handpost and by twitter-text itself (node), must agree on
  the weighted length, the validity and every URL with its place.
"""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.networks import x
from service.networks.base import PostContent
from service.networks.x.counting import extract_urls, from_utf16, parse_tweet, utf16
from service.networks.x.entities import cashtags, extract_entities, hashtags, mentions_or_lists
from tests.support.references import reference_text
from tests.support.textgen import texts

SUITE = Path(__file__).parent / "conformance" / "twitter_text"


def _cases(file: str, *sections: str, how: Any = None) -> list[Any]:
    """The suite's cases as pytest params (with ``how`` to run them, when given)."""
    tests = yaml.safe_load((SUITE / file).read_text(encoding="utf-8"))["tests"]
    return [
        pytest.param(
            *([case] if how is None else [case, how]), id=f"{section}: {case['description']}"
        )
        for section in sections
        for case in tests[section]
    ]


# The v3 configuration counts an emoji sequence as one character: the "discounted emoji"
# section is today's X; the plain weighted section is v2's (each code point of an emoji
# counted) and does not apply. The 140-character "tweets" and the username, list and hashtag
# validators are v1 or not part of counting.
@pytest.mark.parametrize(
    "case",
    _cases(
        "validate.yml",
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    ),
)
def test_weighted_length_and_validity(case: dict[str, Any]) -> None:
    parsed = parse_tweet(case["text"])
    expected = case["expected"]
    assert (parsed.weighted_length, parsed.valid) == (expected["weightedLength"], expected["valid"])


def _urls(text: str) -> list[dict[str, Any]]:
    units = utf16(unicodedata.normalize("NFC", text))
    return [{"url": from_utf16(u.url), "indices": [u.start, u.end]} for u in extract_urls(units)]


@pytest.mark.parametrize(
    "case",
    _cases("extract.yml", "urls", "tco_urls_with_params")
    + _cases("tlds.yml", "country", "generic"),
)
def test_urls_found(case: dict[str, Any]) -> None:
    assert [found["url"] for found in _urls(case["text"])] == case["expected"]


@pytest.mark.parametrize(
    "case", _cases("extract.yml", "urls_with_indices", "urls_with_directional_markers")
)
def test_urls_found_where_they_are(case: dict[str, Any]) -> None:
    assert _urls(case["text"]) == case["expected"]


def _mentions(text: str) -> list[dict[str, Any]]:
    found = []
    for mention in mentions_or_lists(utf16(text)):
        name, _, slug = mention.value.partition("/")
        found.append(
            {
                "screen_name": name,
                "list_slug": f"/{slug}" if slug else "",
                "indices": [mention.start, mention.end],
            }
        )
    return found


def _hashtags(text: str) -> list[dict[str, Any]]:
    return [
        {"hashtag": from_utf16(tag.value), "indices": [tag.start, tag.end]}
        for tag in hashtags(utf16(text))
    ]


def _cashtags(text: str) -> list[dict[str, Any]]:
    return [
        {"cashtag": tag.value[1:], "indices": [tag.start, tag.end]} for tag in cashtags(utf16(text))
    ]


# What a composer shows of an X post besides its links; X counts these as plain text.
@pytest.mark.parametrize(
    ("case", "found"),
    [
        *_cases("extract.yml", "mentions",
                how=lambda t: [m["screen_name"] for m in _mentions(t) if not m["list_slug"]]),
        *_cases("extract.yml", "mentions_with_indices",
                how=lambda t: [{k: m[k] for k in ("screen_name", "indices")}
                               for m in _mentions(t) if not m["list_slug"]]),
        *_cases("extract.yml", "mentions_or_lists_with_indices", how=_mentions),
        *_cases("extract.yml", "hashtags", "hashtags_from_astral",
                how=lambda t: [h["hashtag"] for h in _hashtags(t)]),
        *_cases("extract.yml", "hashtags_with_indices", how=_hashtags),
        *_cases("extract.yml", "cashtags", how=lambda t: [c["cashtag"] for c in _cashtags(t)]),
        *_cases("extract.yml", "cashtags_with_indices", how=_cashtags),
    ],
)  # fmt: skip
def test_mentions_hashtags_and_cashtags_found(case: dict[str, Any], found: Any) -> None:
    assert found(case["text"]) == case["expected"]


def _entities(text: str) -> list[dict[str, Any]]:
    """Ours, in the shape of twitter-text's extractEntitiesWithIndices."""
    shaped = []
    for entity in extract_entities(utf16(text)):
        value, indices = from_utf16(entity.value), [entity.start, entity.end]
        if entity.kind == "link":
            shaped.append({"url": value, "indices": indices})
        elif entity.kind == "mention":
            name, _, slug = value.partition("/")
            slug = f"/{slug}" if slug else ""
            shaped.append({"screenName": name, "listSlug": slug, "indices": indices})
        elif value.startswith("$"):
            shaped.append({"cashtag": value[1:], "indices": indices})
        else:
            shaped.append({"hashtag": value, "indices": indices})
    return shaped


def test_agrees_with_twitter_text_on_generated_text() -> None:
    generated = texts(3000, seed=20, invalid=True, near=280)
    reference = reference_text(x=generated)["x"]
    disagreements = []
    for text, expected in zip(generated, reference, strict=True):
        parsed = parse_tweet(text)
        ours = {
            "weightedLength": parsed.weighted_length,
            "valid": parsed.valid,
            "urls": _urls(text),
            "entities": _entities(text),
        }
        if ours != expected:
            disagreements.append((text, ours, expected))
    assert disagreements == [], f"{len(disagreements)} of {len(generated)} disagree"


def test_what_the_issue_found_now_counts_as_x_counts() -> None:
    # Not URLs to X: counted in full.
    assert x.weighted_length("https://example") == len("https://example")
    assert x.weighted_length("http://localhost:8000") == len("http://localhost:8000")
    # Links without a scheme are t.co links too.
    assert x.weighted_length("see example.com") == 4 + 23
    assert x.weighted_length("t.co/xyz") == 23
    # X refuses these characters.
    assert [v.code for v in x.RULES.validate(PostContent(text="a\ufeffb"))] == ["invalid-character"]


def test_a_text_that_defeats_the_url_pattern_is_refused_quickly() -> None:
    started = time.monotonic()
    violations = x.RULES.validate(PostContent(text="a." * 20_000))
    assert time.monotonic() - started < 5
    assert "text-too-complex" in [v.code for v in violations]


def test_links_are_reported_where_they_are_in_the_text() -> None:
    text = "Ünï 😀 read example.com/a and https://x.org/b."
    [first, second] = x.RULES.entities(PostContent(text=text))
    assert (
        text[first.start : first.end] == "example.com/a" and first.value == "https://example.com/a"
    )
    assert text[second.start : second.end] == "https://x.org/b"
