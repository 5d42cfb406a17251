"""The cross-post guard: trivial changes are the same post, tailored versions are not."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest
from rapidfuzz import fuzz

from service.guard import (
    DEFAULT_THRESHOLD,
    CrossPostMatch,
    GuardEntry,
    find_cross_post,
    length_window,
    normalise,
)

FINNISH = "Hyvää huomenta! Tänään julkaisimme uuden version."
ENGLISH = (
    "We shipped version 2.0 today: faster sync and fewer bugs. Try it and tell us what you think."
)


def entry(text: str, post_id: str = "p1", network: str = "linkedin") -> GuardEntry:
    return GuardEntry(
        post_id=post_id, account_id=f"acct-{network}", network=network, normalised=normalise(text)
    )


def match(new: str, earlier: str, threshold: float = DEFAULT_THRESHOLD) -> CrossPostMatch | None:
    return find_cross_post(normalise(new), [entry(earlier)], threshold)


def similarity(a: str, b: str) -> float:
    return fuzz.ratio(normalise(a), normalise(b)) / 100


# --- the same text, unchanged or changed trivially -------------------------------------------


def test_unchanged_copy_matches() -> None:
    found = match(ENGLISH, ENGLISH)
    assert found == CrossPostMatch(
        post_id="p1",
        account_id="acct-linkedin",
        network="linkedin",
        similarity=1.0,
        threshold=DEFAULT_THRESHOLD,
    )


@pytest.mark.parametrize(
    ("kind", "changed"),
    [
        ("case", ENGLISH.upper()),
        ("case", ENGLISH.lower()),
        ("whitespace", "  " + ENGLISH.replace(" ", " \n\t ").replace(". ", ".\n\n") + "\n"),
        ("whitespace", ENGLISH.replace(" ", "\u00a0")),  # no-break spaces
        ("punctuation", ENGLISH.replace(".", "!!!").replace(":", " —").replace(",", "")),
        ("punctuation", "«" + ENGLISH.replace("today", "(today)") + "»"),
        ("emoji added", "🚀 " + ENGLISH + " 🎉🎉 👍🏽"),
        ("emoji added", ENGLISH.replace("sync", "sync ⚡️").replace("bugs.", "bugs 🐛.")),
        ("emoji added", "👨‍👩‍👧 🇫🇮 1️⃣ " + ENGLISH + " ❤️"),
        ("hashtags added", ENGLISH + " #release #sync #Handpost2"),
        ("hashtags added", "#News: " + ENGLISH),
        ("mention added", "@alice " + ENGLISH + " cc @bob@mastodon.social @carol.bsky.social"),
        ("url added", ENGLISH + " https://example.com/releases/2.0"),
        ("url added", "www.example.com/r " + ENGLISH),
        ("everything at once", "🎉 " + ENGLISH.upper() + " #release @alice https://ex.com/r?utm=x"),
    ],
)
def test_trivial_change_matches(kind: str, changed: str) -> None:
    assert match(changed, ENGLISH) is not None, kind
    assert match(ENGLISH, changed) is not None, kind


def test_emoji_removed_matches() -> None:
    assert match("Launch day 🚀🎉 at the office ☕", "Launch day at the office") is not None


def test_url_changed_or_removed_matches() -> None:
    earlier = ENGLISH + " https://example.com/releases/2.0"
    assert match(ENGLISH + " https://example.org/blog/v2?ref=li", earlier) is not None
    assert match(ENGLISH, earlier) is not None


@pytest.mark.parametrize(
    ("changed", "original"),
    [
        # Fullwidth letters and digits.
        (
            "\uff28\uff45\uff4c\uff4c\uff4f \uff37\uff4f\uff52\uff4c\uff44 \uff12\uff10",
            "Hello World 20",
        ),
        # Ligatures.
        ("The \ufb01nal o\ufb03ce \ufb02ow", "The final office flow"),
        # Decomposed ä (a + combining diaeresis) versus composed.
        (FINNISH.replace("ä", "a\u0308"), FINNISH),
        # Mathematical bold letters, superscript digit, ideographic space.
        ("\U0001d401\U0001d41e\U0001d42c\U0001d42d\u3000plan\u00b2", "Best plan2"),
        # Invisible characters inside words: soft hyphen, zero-width joiner, word joiner.
        (
            "inter\u00adnational co\u200doperation to\u2060gether",
            "international cooperation together",
        ),
    ],
)
def test_unicode_forms_are_the_same(changed: str, original: str) -> None:
    assert normalise(changed) == normalise(original)
    assert match(changed, original) is not None


@pytest.mark.parametrize(
    "changed",
    [
        FINNISH.upper(),
        FINNISH.replace("!", "!!! 🌞").replace(".", " #julkaisu @tiimi"),
        FINNISH + " https://esimerkki.fi/versio",
        FINNISH.replace("ä", "a\u0308"),
        "  hyvää   huomenta —  tänään julkaisimme uuden version ",
    ],
)
def test_finnish_with_a_trivial_change_matches(changed: str) -> None:
    assert match(changed, FINNISH) is not None


@pytest.mark.parametrize(
    ("original", "changed"),
    [
        (
            "今日は新しいバージョンを公開しました。ぜひ試してください\uff01",
            "今日は新しいバージョンを公開しました🎉 ぜひ試してください #リリース",
        ),
        (
            "我们今天发布了新版本\uff0c欢迎试用。",
            "我们今天发布了新版本!欢迎试用 😀 https://ex.cn/v2",
        ),
        (
            "Сегодня мы выпустили новую версию. Попробуйте!",
            "СЕГОДНЯ мы выпустили новую версию 🚀 Попробуйте",
        ),
        ("أطلقنا اليوم إصدارا جديدا. جربوه!", "أطلقنا اليوم إصدارا جديدا ✨ جربوه #إصدار"),
        (
            "오늘 새 버전을 출시했습니다. 사용해 보세요!",
            "오늘 새 버전을 출시했습니다!!! 사용해 보세요 @팀",
        ),
    ],
)
def test_other_scripts_with_a_trivial_change_match(original: str, changed: str) -> None:
    assert normalise(changed) == normalise(original)
    assert match(changed, original) is not None


def test_normalised_form_keeps_diacritics_and_words() -> None:
    assert normalise(FINNISH) == "hyvää huomenta tänään julkaisimme uuden version"
    # Finnish ä and a are different letters: "tänään" is not "tanaan".
    assert normalise("Tänään") != normalise("Tanaan")


def test_hashtags_mentions_and_urls_are_removed_whole() -> None:
    text = "Read #this @bob @bob@social.example www.ex.com/a https://ex.com/b?x=1#frag now!"
    assert normalise(text) == "read now"


def test_things_that_only_look_like_hashtags_or_mentions_stay() -> None:
    # "C#" is a language, "&#39;" an HTML entity, "me@example.com" an address, not a mention.
    assert normalise("C# and F# rock") == "c and f rock"
    assert normalise("it&#39;s") == "it 39 s"
    assert normalise("write to me@example.com") == "write to me example com"


@pytest.mark.parametrize(
    "text",
    [
        "https://ex.com/a\x00b",
        "https://ex.com/\ud800x",
        "bad \udfff surrogate",
        "\x00\x01\x7f\x9f",
    ],
)
def test_control_characters_and_lone_surrogates_never_reach_the_stored_form(text: str) -> None:
    # json.loads('"\\ud800"') yields a lone surrogate; PostgreSQL text rejects NUL.
    form = normalise(text)
    form.encode("utf-8")
    assert "\x00" not in form
    assert normalise(form) == form


# --- genuinely tailored versions pass --------------------------------------------------------


def test_tailored_english_versions_do_not_match() -> None:
    linkedin = (
        "Our team shipped version 2.0 today. Sync is now twice as fast, which matters if you "
        "manage several client accounts. What would you like us to improve next?"
    )
    facebook = "Big day for us: the new version is out, and I can finally take Friday off! 🎉"
    x = "v2.0 is out: 2x faster sync, fewer bugs. Tell us what breaks."
    assert match(linkedin, facebook) is None
    assert match(linkedin, x) is None
    assert match(facebook, x) is None


def test_tailored_finnish_versions_do_not_match() -> None:
    friends = "Hei perhe ja ystävät: tänään julkaisimme uuden version, ja nyt lähden saunaan!"
    colleagues = (
        "Huomenta kaikille! Uusi versio on nyt julkaistu, kokeilkaa ja kertokaa mielipiteenne."
    )
    assert match(friends, FINNISH) is None
    assert match(colleagues, FINNISH) is None
    assert match(friends, colleagues) is None


def test_same_link_with_own_words_passes() -> None:
    assert (
        match(
            "Colleagues: our team cut sync time in half. Details: https://ex.com/r",
            "New release! Faster sync, fewer bugs https://ex.com/r",
        )
        is None
    )


# --- threshold and the reported match --------------------------------------------------------


def test_threshold_is_honoured() -> None:
    longer = FINNISH + " Kiitos tiimille!"
    assert 0.8 < similarity(FINNISH, longer) < 0.9
    assert match(longer, FINNISH, threshold=0.8) is not None
    assert match(longer, FINNISH, threshold=0.9) is None
    assert match(longer, FINNISH) is None  # the default is 0.9


def test_match_reports_similarity_and_threshold() -> None:
    longer = FINNISH + " Kiitos tiimille!"
    found = match(longer, FINNISH, threshold=0.8)
    assert found is not None
    assert found.threshold == 0.8
    assert found.similarity == round(similarity(FINNISH, longer), 3)
    assert found.similarity == 0.855


def test_exact_boundary_counts_as_reaching_the_threshold() -> None:
    # 18 of 20 characters kept: similarity exactly 0.9, which float arithmetic may round down.
    found = find_cross_post("abcdefghij", [entry("abcdefghix")], threshold=0.9)
    assert found is not None
    assert found.similarity == 0.9


def test_most_similar_of_several_entries_is_reported() -> None:
    others = [
        entry("Something completely different about sauna evenings.", "far", "facebook"),
        entry(ENGLISH.replace("today", "this morning"), "close", "x"),
        entry(ENGLISH + " Thanks, team!", "closer", "mastodon"),
        entry("We shipped version 2.0", "partial", "bluesky"),
    ]
    found = find_cross_post(normalise(ENGLISH), others, threshold=0.8)
    assert found is not None
    assert (found.post_id, found.account_id, found.network) == (
        "closer",
        "acct-mastodon",
        "mastodon",
    )
    assert found.similarity == round(similarity(ENGLISH, ENGLISH + " Thanks, team!"), 3)

    exact = [*others, entry(ENGLISH.upper(), "copy", "threads")]
    found = find_cross_post(normalise(ENGLISH), exact, threshold=0.8)
    assert found is not None
    assert (found.post_id, found.similarity) == ("copy", 1.0)


def test_ties_go_to_the_first_entry_given() -> None:
    others = [entry(ENGLISH, "newest", "x"), entry(ENGLISH.upper(), "older", "threads")]
    found = find_cross_post(normalise(ENGLISH), others)
    assert found is not None
    assert found.post_id == "newest"
    found = find_cross_post(normalise(ENGLISH), reversed(others))
    assert found is not None
    assert found.post_id == "older"


def test_no_entries_no_match() -> None:
    assert find_cross_post(normalise(ENGLISH), []) is None
    assert find_cross_post(normalise(ENGLISH), iter([])) is None


def test_entries_can_be_any_iterable() -> None:
    found = find_cross_post(normalise(ENGLISH), (entry(t) for t in [FINNISH, ENGLISH]))
    assert found is not None


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.0000001, 1.5, math.nan, math.inf])
def test_threshold_outside_zero_one_is_rejected(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        find_cross_post(normalise(ENGLISH), [entry(ENGLISH)], threshold)
    with pytest.raises(ValueError, match="threshold"):
        length_window(10, threshold)


def test_threshold_of_one_means_identical_normalised_forms() -> None:
    assert match(ENGLISH.upper() + " 🎉", ENGLISH, threshold=1.0) is not None
    assert match(ENGLISH + " Thanks", ENGLISH, threshold=1.0) is None


def test_results_are_immutable() -> None:
    found = match(ENGLISH, ENGLISH)
    assert found is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.similarity = 0.5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry(ENGLISH).normalised = ""  # type: ignore[misc]


# --- texts with no words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "   \n\t", "🎉🎉🎉", "👍", "!!! ???", "#launch #day", "@alice"]
)
def test_texts_without_words_or_links_normalise_to_empty(text: str) -> None:
    assert normalise(text) == ""


def test_empty_texts_never_match_each_other() -> None:
    assert match("🎉🎉🎉", "👍") is None
    assert match("", "") is None
    assert match("🎉", "🎉") is None
    assert find_cross_post("", [GuardEntry("p", "a", "x", "")], threshold=0.01) is None


def test_worded_text_never_matches_an_empty_entry() -> None:
    assert find_cross_post(normalise("ok"), [entry("🎉")], threshold=0.01) is None


# --- bare links ------------------------------------------------------------------------------


def test_bare_links_to_the_same_url_are_the_same() -> None:
    assert normalise("https://www.Example.com/r/") == normalise("http://example.com/r")
    found = match("http://www.EXAMPLE.com/r/ 🎉", "https://example.com/r")
    assert found is not None
    assert found.similarity == 1.0
    # Hashtags and emoji add no words: still a bare link.
    assert match("#launch https://example.com/r 🚀", "https://example.com/r") is not None


def test_bare_links_to_different_urls_differ() -> None:
    # However alike the URLs look, different links are different posts.
    assert match("https://example.com/posts/1235", "https://example.com/posts/1234", 0.01) is None
    assert match("https://example.com/a", "https://example.org/a", 0.01) is None


def test_bare_link_posts_compare_the_set_of_links() -> None:
    both = "https://a.example/x https://b.example/y"
    assert match("https://b.example/y  https://a.example/x", both) is not None
    assert match("https://a.example/x", both) is None


def test_bare_link_never_equals_a_worded_post() -> None:
    bare = "https://example.com/release-notes-for-version-two"
    assert match(bare, "Read this https://example.com/release-notes-for-version-two", 0.01) is None
    # Even words that spell out the URL are words, not the link.
    words = "example com release notes for version two"
    assert match(bare, words, 0.01) is None
    assert match(words, bare, 0.01) is None


def test_bare_link_form_is_stable_and_readable() -> None:
    form = normalise("👀 https://www.Example.com/R/ !")
    assert form == normalise("HTTP://example.com/R")
    assert normalise(form) == form
    assert "example.com/r" in form


# --- length_window ---------------------------------------------------------------------------


def test_length_window_values() -> None:
    # 2b / (100 + b) >= 0.9  <=>  b >= 81.8;  200 / (100 + b) >= 0.9  <=>  b <= 122.2
    assert length_window(100, 0.9) == (82, 122)
    assert length_window(100, 1.0) == (100, 100)
    assert length_window(0, 0.9) == (0, 0)
    low, high = length_window(10, 0.5)
    assert (low, high) == (4, 30)


def test_length_window_rejects_negative_length() -> None:
    with pytest.raises(ValueError, match="length"):
        length_window(-1, 0.9)


def test_length_window_keeps_every_matching_entry_among_many() -> None:
    base = normalise(ENGLISH)
    rng = random.Random(7)
    variants = []
    for _ in range(300):
        chars = list(base)
        for _ in range(rng.randint(0, 30)):
            position = rng.randrange(len(chars) + 1)
            if rng.random() < 0.5 and position < len(chars):
                del chars[position]
            else:
                chars.insert(position, rng.choice("abc xyz"))
        variants.append("".join(chars))
    low, high = length_window(len(base), 0.85)
    for variant in variants:
        if fuzz.ratio(base, variant) >= 85:
            assert low <= len(variant) <= high


# --- scale -----------------------------------------------------------------------------------


def test_ten_thousand_entries_give_the_right_answer() -> None:
    rng = random.Random(2024)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyzäö") for _ in range(rng.randint(2, 10)))
        for _ in range(3000)
    ]

    def post() -> str:
        words: list[str] = []
        while sum(len(word) + 1 for word in words) < 300:
            words.append(rng.choice(vocabulary))
        return " ".join(words)

    texts = [post() for _ in range(10_000)]
    others = [entry(text, f"p{i}", "x") for i, text in enumerate(texts)]

    copied = texts[7777].upper().replace(" ", "  ") + " 🎉 #launch"
    found = find_cross_post(normalise(copied), others)
    assert found is not None
    assert (found.post_id, found.similarity) == ("p7777", 1.0)

    edited = normalise(texts[4242])[:-12] + " and more"
    found = find_cross_post(edited, others)
    assert found is not None
    assert found.post_id == "p4242"
    assert 0.9 <= found.similarity < 1.0

    assert find_cross_post(normalise(post()), others) is None
