"""Properties of the cross-post guard that must hold for any text, checked with hypothesis."""

from __future__ import annotations

import unicodedata

import pytest
import regex
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from service.guard import GuardEntry, find_cross_post, length_window, normalise

# --- strategies ------------------------------------------------------------------------------

# Letters from several scripts whose case mapping round-trips through casefold. Turkish dotless
# i (U+0131) upper-cases to "I", which casefolds to "i", a different letter: upper-casing
# changes Turkish text for real, so such letters do not belong in a "case is trivial" property.
LETTERS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "äöåÄÖÅéèüßñçøæœ"
    "абвгдежзийклмнопрстуфхцчшщъыьэюяёАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯЁ"
    "αβγδεζηθικλμνξοπρστυφχψωςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ"
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    "日本語中文漢字今新版本公開ひらがなカタカナ한국어버전"
)
# Letter plus combining mark, as typed on some keyboards: NFKC composes it.
DECOMPOSED = ["a\u0308", "o\u0308", "A\u030a", "e\u0301", "u\u0308"]

word = st.lists(st.sampled_from([*LETTERS, *DECOMPOSED]), min_size=1, max_size=12).map("".join)
words = st.lists(word, min_size=1, max_size=12)

SEPARATORS = [" ", "  ", "\n", "\t", "\r\n", "\u00a0", "\u3000", "\u2028", " \n\n "]

EMOJI = [
    "🎉",
    "🚀",
    "❤️",
    "👍🏽",
    "👨‍👩‍👧",
    "🇫🇮",
    "🏳️‍🌈",
    "1️⃣",
    "#️⃣",
    "™️",
    "©",
    "\u2139\ufe0f",  # INFORMATION SOURCE, a letter "i" in NFKC
    "🈁",
    "☕",
    "✨",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland, tag sequence
]


def _is_decoration(char: str) -> bool:
    """Punctuation, symbols and invisibles that stay free of words even in compatibility form.

    Some symbols are words in disguise (U+2121 "℡" is "TEL", U+24B6 "Ⓐ" is "A"): adding those
    adds words. "#" and "@" start hashtags and mentions, which remove the word they precede.
    """
    folded = unicodedata.normalize("NFKC", char)
    return not regex.search(r"[\p{L}\p{M}\p{N}#@]", folded)


decoration_char = st.characters(categories=["P", "S", "Cf"]).filter(_is_decoration)
decoration = st.one_of(
    st.sampled_from(EMOJI),
    st.lists(decoration_char, min_size=1, max_size=3).map("".join),
)

# Anything at all, with extra weight on categories that are easy to get wrong. Lone surrogates
# ("Cs") are possible in a Python str: json.loads turns a "\ud800" escape into one.
odd_text = st.text(
    alphabet=st.characters(
        categories=[
            *["Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Zs", "Mn", "Mc", "Me", "Sk", "So", "Lm"]
        ]
    )
)
any_text = st.one_of(st.text(), odd_text)

url = st.builds(
    lambda scheme, www, host, path: scheme + www + host + path,
    st.sampled_from(["http://", "https://", "HTTPS://", ""]),
    st.sampled_from(["www.", "WWW.", ""]),
    st.from_regex(r"[a-zäö0-9-]{1,10}\.(com|fi|social)", fullmatch=True),
    st.text(
        alphabet=st.characters(exclude_categories=["Z", "Cs"], exclude_characters="<>\"'"),
        max_size=15,
    ).map(lambda p: "/" + p),
)
token = st.one_of(
    word,
    url,
    decoration,
    word.map(lambda w: "#" + w),
    word.map(lambda w: "@" + w),
    st.tuples(word, word).map(lambda ws: f"@{ws[0]}@{ws[1]}.social"),
    st.text(max_size=5),
)
# Post-like text: words, links, hashtags, mentions, emoji, noise, glued or spaced.
post = st.lists(st.tuples(token, st.sampled_from(["", *SEPARATORS])), min_size=0, max_size=15).map(
    lambda parts: "".join(t + s for t, s in parts)
)


@st.composite
def decorated(draw: st.DrawFn, base: list[str]) -> str:
    """The words of ``base`` with emoji/punctuation around them and a case change."""
    parts: list[str] = []
    for item in base:
        if draw(st.booleans()):
            parts.append(draw(decoration))
        parts.append(draw(st.sampled_from(["", "(", "«", "¡", "¿", "*"])))
        parts[-1] += item + draw(st.sampled_from(["", "!", "?", ".", ",", "!!!", "…", ":", ")"]))
        if draw(st.booleans()):
            parts[-1] += draw(decoration)
        parts.append(draw(st.sampled_from(SEPARATORS)))
    text = "".join(parts)
    case = draw(st.sampled_from([str.upper, str.lower, str.title, str.swapcase, str]))
    return case(text)


def entry(normalised: str) -> GuardEntry:
    return GuardEntry(post_id="p", account_id="a", network="x", normalised=normalised)


# --- normalise -------------------------------------------------------------------------------


def storable(form: str) -> bool:
    """The database must accept it: valid UTF-8 and, for PostgreSQL text, no NUL."""
    form.encode("utf-8")
    return "\x00" not in form


@given(st.one_of(any_text, post, st.tuples(post, odd_text, post).map("".join)))
@settings(max_examples=300)
def test_normalise_never_raises_and_is_storable(text: str) -> None:
    assert storable(normalise(text))


@given(st.one_of(any_text, post))
@settings(max_examples=500)
def test_normalise_is_idempotent(text: str) -> None:
    # Holds for bare-link forms too: their marker has no words and their links stay URLs.
    once = normalise(text)
    assert normalise(once) == once


@given(post)
@settings(max_examples=300)
def test_normalised_form_is_words_or_a_bare_link_form(text: str) -> None:
    form = normalise(text)
    if form and not form.startswith("\U0001f517 "):
        assert regex.fullmatch(r"[\p{L}\p{M}\p{N}]+(?: [\p{L}\p{M}\p{N}]+)*", form)
    assert storable(form)


@given(words, st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_emoji_punctuation_and_case_never_change_the_normalised_form(
    base: list[str], data: st.DataObject
) -> None:
    plain = " ".join(base)
    changed = data.draw(decorated(base))
    assert normalise(changed) == normalise(plain)


@given(st.one_of(any_text, post))
@settings(max_examples=300)
def test_a_text_always_matches_itself(text: str) -> None:
    form = normalise(text)
    assume(form)
    found = find_cross_post(form, [entry(normalise(text))], threshold=1.0)
    assert found is not None
    assert found.similarity == 1.0


# Text with nothing to compare: emoji, punctuation, symbols, hashtags and mentions only.
wordless = st.lists(
    st.one_of(
        decoration,
        st.text(alphabet=st.characters(categories=["Z", "Cc"])),
        word.map(lambda w: "#" + w),
        word.map(lambda w: "@" + w),
    )
).map(" ".join)


@given(wordless)
def test_empty_forms_never_match(text: str) -> None:
    assume(not normalise(text))
    assert find_cross_post(normalise(text), [entry(""), entry(normalise(text))], 0.01) is None


@pytest.mark.parametrize(
    "pattern",
    [
        "Hyvää huomenta! 🎉 ",
        "www.",
        "https://",
        "https://ex.com/" + "." * 50 + " ",
        "#",
        "#tag",
        "@",
        "@a",
        "@a@b.",
        "a\u0301\u0308",
        "\u200d\ufe0f",
        "🏳️‍🌈",
        "1️⃣",
        "\x00\x1f\u2028",
        "ﷺ",  # one character that NFKC expands to 18
    ],
)
@pytest.mark.timeout(60)  # a guard against catastrophic backtracking, not a benchmark
def test_megabyte_input_completes(pattern: str) -> None:
    text = (pattern * (1_000_000 // len(pattern) + 1))[:1_000_000]
    assert isinstance(normalise(text), str)


@given(st.text(min_size=1, max_size=20))
@settings(max_examples=10, deadline=None)
@pytest.mark.timeout(120)
def test_megabyte_of_any_repeated_text_completes(chunk: str) -> None:
    text = (chunk * (1_000_000 // len(chunk) + 1))[:1_000_000]
    assert normalise(normalise(text)) == normalise(text)


# --- length_window ---------------------------------------------------------------------------

thresholds = st.floats(min_value=0, max_value=1, exclude_min=True, allow_nan=False)


@given(st.integers(0, 400), st.integers(0, 400), thresholds)
@settings(max_examples=1000)
def test_length_window_never_excludes_a_match_at_the_bound(
    length: int, other_length: int, threshold: float
) -> None:
    # "x" * a and "x" * b reach the highest similarity any texts of these lengths can, so if
    # the guard calls them the same, the window must contain b.
    found = find_cross_post("x" * length, [entry("x" * other_length)], threshold)
    low, high = length_window(length, threshold)
    if found is not None:
        assert low <= other_length <= high


@given(st.lists(st.sampled_from("abcdefgh "), min_size=1, max_size=120).map("".join), st.data())
@settings(max_examples=300)
def test_length_window_never_excludes_a_matching_edit(text: str, data: st.DataObject) -> None:
    edits = data.draw(st.lists(st.tuples(st.integers(0, 200), st.sampled_from(["", "a", "z"]))))
    chars = list(text)
    for position, replacement in edits:
        if chars and replacement == "":
            del chars[position % len(chars)]
        else:
            chars.insert(position % (len(chars) + 1), replacement)
    other = "".join(chars)
    threshold = data.draw(thresholds)
    if find_cross_post(text, [entry(other)], threshold) is not None:
        low, high = length_window(len(text), threshold)
        assert low <= len(other) <= high


@given(st.integers(0, 10_000), thresholds)
def test_length_window_contains_the_length_itself(length: int, threshold: float) -> None:
    low, high = length_window(length, threshold)
    assert 0 <= low <= length <= high


@given(st.floats(allow_nan=True).filter(lambda t: not 0 < t <= 1))
def test_thresholds_outside_zero_one_are_rejected(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        length_window(10, threshold)
    with pytest.raises(ValueError, match="threshold"):
        find_cross_post("abc", [entry("abc")], threshold)
