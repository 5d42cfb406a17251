"""Bluesky links, mentions and tags come out as in Bluesky's own app (@atproto/api).

* The reference's own test cases (tests/conformance/atproto, from @atproto/api's
  rich-text-detection tests, MIT): every text split into the same segments with the same
  link URIs and mention handles, the same tags with the same UTF-8 byte offsets.
* Differential: generated texts full of handles, domains, parentheses, quotes, trailing
  punctuation, invisible characters and tags, detected by @atproto/api itself (node) and by
  Handpost, must give identical facets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.networks.bluesky import record_facets
from service.networks.bluesky.richtext import detect_facets
from tests.support.references import reference_text
from tests.support.textgen import texts

CASES = json.loads(
    (Path(__file__).parent / "conformance" / "atproto" / "rich_text_detection.json").read_text(
        encoding="utf-8"
    )
)


def _segments(text: str) -> list[list[str]]:
    """The reference test's view: text split at facets, a facet with its DID or URI."""
    raw = text.encode("utf-8")
    segments: list[list[str]] = []
    position = 0
    for facet in detect_facets(text):
        if facet.byte_start > position:
            segments.append([raw[position : facet.byte_start].decode()])
        target = f"did:fake:{facet.value}" if facet.kind == "mention" else facet.value
        part = raw[facet.byte_start : facet.byte_end].decode()
        segments.append([part, target if facet.kind != "tag" else ""])
        position = facet.byte_end
    if position < len(raw) or not segments:
        segments.append([raw[position:].decode()])
    return segments


@pytest.mark.parametrize("case", CASES["segments"], ids=lambda c: c["text"])
def test_segments_as_the_reference_has_them(case: dict[str, Any]) -> None:
    assert _segments(case["text"]) == case["segments"]


@pytest.mark.parametrize("case", CASES["tags"], ids=lambda c: c["text"])
def test_tags_as_the_reference_has_them(case: dict[str, Any]) -> None:
    tags = [f for f in detect_facets(case["text"]) if f.kind == "tag"]
    assert [f.value for f in tags] == case["tags"]
    assert [{"byteStart": f.byte_start, "byteEnd": f.byte_end} for f in tags] == case["indices"]


@pytest.mark.parametrize("case", CASES["cashtags"], ids=lambda c: c["text"])
def test_cashtags_as_the_reference_has_them(case: dict[str, Any]) -> None:
    tags = [f for f in detect_facets(case["text"]) if f.value.startswith("$")]
    assert [f.value for f in tags] == case["tags"]
    assert [{"byteStart": f.byte_start, "byteEnd": f.byte_end} for f in tags] == case["indices"]


def _as_reference(text: str) -> list[dict[str, Any]]:
    """Our facets in the reference's JSON, mentions carrying the handle as their "did"."""
    facets = []
    for facet in detect_facets(text):
        feature: dict[str, Any]
        if facet.kind == "mention":
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": facet.value}
        elif facet.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": facet.value}
        else:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": facet.value}
        facets.append(
            {
                "index": {"byteStart": facet.byte_start, "byteEnd": facet.byte_end},
                "features": [feature],
            }
        )
    return facets


def _comparable(facets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"index": f["index"], "features": f["features"]} for f in facets]


def test_agrees_with_atproto_on_generated_text() -> None:
    generated = texts(3000, seed=21, near=300)
    reference = reference_text(bluesky=generated)["bluesky"]
    disagreements = [
        (text, ours, theirs)
        for text, theirs in zip(generated, reference, strict=True)
        if (ours := _as_reference(text)) != _comparable(theirs)
    ]
    assert disagreements == [], f"{len(disagreements)} of {len(generated)} disagree"


def test_what_the_issue_found_is_linked_as_bluesky_links_it() -> None:
    def links(text: str) -> list[str]:
        return [f.value for f in detect_facets(text) if f.kind == "link"]

    assert links("see https://en.wikipedia.org/wiki/Pluto_(planet)") == [
        "https://en.wikipedia.org/wiki/Pluto_(planet)"
    ]
    assert links("HTTPS://EXAMPLE.COM and WWW.EXAMPLE.COM") == []
    assert links("bare example.com/a.") == ["https://example.com/a"]
    # An invisible U+FEFF ends a link (the PDS refuses a URI containing it).
    assert links("https://example.com/a\ufeffmore") == ["https://example.com/a"]


def test_unresolved_mentions_are_left_as_plain_text() -> None:
    text = "hi @alice.test and @nobody.test"
    facets = record_facets(text, {"alice.test": "did:plc:alice", "nobody.test": None})
    assert [f["features"][0] for f in facets] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}
    ]
