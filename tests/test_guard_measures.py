"""The guard's reuse measures: what each mechanical move does to them, and the rules' limits."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.guard import (
    CrossPostMatch,
    GuardEntry,
    GuardPolicy,
    Move,
    candidate_windows,
    check,
    length_window,
    normalise,
    reuse,
)
from service.guard.match import most_similar
from service.guard.measures import Passages, changed_passages, copied_runs

POST = (
    "We moved every build onto one machine in the office. Builds that took eleven minutes "
    "now take three. The bill is now the price of electricity and a spare disk."
)
SENTENCES = [s.strip() + "." for s in POST.split(".") if s.strip()]


def entry(text: str, post_id: str = "earlier") -> GuardEntry:
    return GuardEntry(post_id, "acct-mastodon", "mastodon", normalise(text))


def refused(new: str, earlier: str, policy: GuardPolicy | None = None) -> CrossPostMatch | None:
    return check(normalise(new), [entry(earlier)], policy or GuardPolicy())


# --- the moves --------------------------------------------------------------------------------


def test_a_truncation_is_all_the_earlier_posts_words_but_not_all_of_it() -> None:
    cut = POST[:70] + "… https://ex.com/one-machine"
    found = reuse(normalise(cut), normalise(POST))
    assert found.of_new > 0.9
    assert found.of_old < 0.5
    assert not found.reordered
    match = refused(cut, POST)
    assert match is not None
    assert (match.kind, match.how) == (Move.SHORTENED, "a shortened copy")
    assert match.similarity >= match.threshold == GuardPolicy().copied_share


def test_sentences_reordered_are_all_of_both_texts_out_of_order() -> None:
    shuffled = " ".join([SENTENCES[2], SENTENCES[0], SENTENCES[1]])
    found = reuse(normalise(shuffled), normalise(POST))
    assert found.of_new == found.of_old == 1.0
    assert found.reordered
    match = refused(shuffled, POST)
    assert match is not None
    assert (match.kind, match.how) == (Move.REORDERED, "the same sentences in another order")


def test_a_dropped_sentence_is_a_shortened_copy() -> None:
    match = refused(" ".join([SENTENCES[0], SENTENCES[2]]), POST)
    assert match is not None
    assert match.kind == Move.SHORTENED


def test_a_dropped_and_reordered_sentence_says_both() -> None:
    match = refused(" ".join([SENTENCES[2], SENTENCES[0]]), POST)
    assert match is not None
    assert match.kind == Move.REORDERED
    assert match.how == "a shortened copy with its sentences in another order"


@pytest.mark.parametrize("line", ["Follow me for more!", "Seuraa minua, niin näet lisää!"])
def test_a_generic_line_added_to_a_short_post(line: str) -> None:
    short = "Sunrise over Lake Näsijärvi this morning, worth getting up at five for."
    match = refused(f"{short} {line}", short)
    assert match is not None
    assert (match.kind, match.how) == (Move.LINE_ADDED, "the same text with a line added")


def test_a_near_copy_with_a_line_added_is_named_for_it() -> None:
    match = refused(POST + " Thoughts? Comment below!", POST)
    assert match is not None
    assert match.threshold == GuardPolicy().threshold  # the similarity measure refused it
    assert match.kind == Move.LINE_ADDED


def test_scattered_trivial_changes_are_the_same_text() -> None:
    changed = "🚀 We moved every build onto #OneMachine in the office! " + POST.split(". ", 1)[1]
    match = refused(changed, POST)
    assert match is not None
    assert (match.kind, match.how) == (Move.SAME, "the same text")


# --- what stays allowed -----------------------------------------------------------------------


def test_an_article_that_quotes_the_whole_post_is_its_own_text() -> None:
    article = (
        f'Last month I wrote: "{POST}" Many of you asked what happened next. The machine broke '
        "in August and we had no builds for a morning, so we bought a smaller standby and wrote "
        "a runbook that fits on a page. Patching is now a calendar entry, not a surprise. I "
        "would still do it again for a team of our size, but not for fifty parallel jobs."
    )
    found = reuse(normalise(article), normalise(POST))
    assert found.of_old == 1.0
    assert found.of_new < 0.5
    assert refused(article, POST) is None


def test_a_teaser_in_its_own_words_is_allowed() -> None:
    teaser = "Eleven-minute builds down to three on a single office box. What it cost us: link"
    assert refused(teaser, POST) is None


def test_a_long_own_addition_is_not_a_line() -> None:
    short = "We're hiring a backend developer in Tampere! Python, PostgreSQL and a friendly team."
    grown = (
        f"{short} The team runs the sync service that half of Finland's libraries use, and "
        "you would own its PostgreSQL layer from the first month."
    )
    assert refused(grown, short) is None
    # The same addition counts as a line when the limit allows that many characters.
    assert refused(grown, short, GuardPolicy(line_added_chars=1000, line_added_share=0.3))


def test_a_phrase_that_recurs_is_no_copy() -> None:
    """Shorter than min_copied_chars: a sign-off or greeting a person writes every week."""
    assert refused("Thanks for reading, see you!", POST + " Thanks for reading, see you!") is None


def test_the_limits_are_honoured() -> None:
    cut = " ".join(SENTENCES[:2])
    assert refused(cut, POST) is not None
    assert refused(cut, POST, GuardPolicy(min_copied_chars=1000)) is None
    # Every word of the cut is the earlier post's: no share below 1 lets it through...
    assert refused(cut, POST, GuardPolicy(copied_share=1.0)) is not None
    # ...but one word of its own does.
    assert refused(cut + " Wow.", POST, GuardPolicy(copied_share=1.0)) is None


# --- the measures themselves ------------------------------------------------------------------


def test_runs_shorter_than_the_minimum_are_not_copied() -> None:
    assert copied_runs(["a", "b", "x", "c", "d"], ["a", "b", "y", "c", "d"], 3) == []
    assert copied_runs(["a", "b", "c"], ["a", "b", "c"], 3)[0].words == 3
    with pytest.raises(ValueError, match="run_words"):
        copied_runs(["a"], ["a"], 0)


def test_a_repeated_sentence_is_copied_once_per_occurrence() -> None:
    once = normalise("Big news today. We ship on Friday.")
    twice = normalise("Big news today. Big news today. We ship on Friday.")
    assert reuse(twice, once).of_new < 1.0  # the second "big news today" is its own
    assert reuse(once, twice).of_new == 1.0


def test_changed_passages() -> None:
    earlier = normalise(POST)
    assert changed_passages(earlier, earlier) == Passages(added=0, left_out=0)
    dropped = changed_passages(normalise(" ".join([SENTENCES[0], SENTENCES[2]])), earlier)
    assert dropped.added == 0
    assert dropped.left_out == len(SENTENCES[1].split())
    added = changed_passages(normalise(POST + " Follow me for more!"), earlier)
    assert added == Passages(added=4, left_out=0)


def test_long_articles_are_measured_too() -> None:
    """Past a few thousand characters the tiling runs without the C++ bound (it is cheaper)."""
    article = " ".join(f"{SENTENCES[i % 3]} Part {i} of the story." for i in range(120))
    assert len(article) > 6000
    match = refused(
        article[: len(article) * 3 // 4] + " Continue reading: https://ex.com/a", article
    )
    assert match is not None
    assert match.kind == Move.SHORTENED
    own = (
        article[: len(article) // 4]
        + " "
        + " ".join(f"My own thought number {i}." for i in range(300))
    )
    assert refused(own, article) is None


@pytest.mark.timeout(30)  # a guard against quadratic work, not a benchmark
def test_a_text_of_one_phrase_repeated_completes() -> None:
    earlier = normalise("we ship on friday " * 20_000)
    new = normalise("we ship on friday " * 10_000 + "and then we rest")
    found = reuse(new, earlier)
    assert found.of_new > 0.99
    assert check(new, [GuardEntry("p", "a", "x", earlier)]) is not None


@pytest.mark.parametrize(
    "fields",
    [
        {"copied_share": 0},
        {"line_added_share": 1.5},
        {"whole_share": math.nan},
        {"threshold": -1},
        {"line_added_chars": -1},
        {"min_copied_chars": 2.5},
        {"min_copied_chars": True},
    ],
)
def test_limits_outside_their_range_are_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(fields))):
        GuardPolicy(**fields)  # type: ignore[arg-type]


# --- properties: the fast paths never change the answer ---------------------------------------

# Few distinct words, so that random texts share runs and make every kind of copy.
vocabulary = st.sampled_from(
    ["sauna", "kahvi", "we", "ship", "on", "friday", "the", "team", "and", "a", "new", "build"]
)
texts = st.lists(vocabulary, min_size=0, max_size=40).map(" ".join)
policies = st.builds(
    GuardPolicy,
    threshold=st.floats(0.5, 1.0),
    copied_share=st.floats(0.3, 1.0),
    line_added_share=st.floats(0.2, 1.0),
    line_added_chars=st.integers(0, 120),
    whole_share=st.floats(0.5, 1.0),
    min_copied_chars=st.integers(0, 60),
)


def rule(new: str, earlier: str, policy: GuardPolicy) -> bool:
    """The guard's rule as the policy module documents it, with no shortcut."""
    if most_similar(new, [GuardEntry("p", "a", "x", earlier)], policy.threshold):
        return True
    if not new or not earlier:
        return False
    found = reuse(new, earlier)
    if found.copied < policy.min_copied_chars:
        return False
    own = found.new_size - found.copied
    return found.of_new >= policy.copied_share - 1e-9 or (
        found.of_old >= policy.whole_share - 1e-9
        and found.of_new >= policy.line_added_share - 1e-9
        and own <= policy.line_added_chars
    )


@given(texts, texts, policies)
@settings(max_examples=500)
def test_the_prefilter_never_drops_a_copy(new: str, earlier: str, policy: GuardPolicy) -> None:
    assert (check(new, [GuardEntry("p", "a", "x", earlier)], policy) is not None) == rule(
        new, earlier, policy
    )


@given(texts, texts, policies)
@settings(max_examples=500)
def test_the_candidate_windows_never_exclude_a_copy(
    new: str, earlier: str, policy: GuardPolicy
) -> None:
    """Every refused earlier post is in the shared window (the posts sharing a fingerprint);
    one refused by the similarity is in the recent window too."""
    found = check(new, [GuardEntry("p", "a", "x", earlier)], policy)
    if found is None:
        return
    windows = candidate_windows(len(new), policy)
    assert windows.shared[0] <= len(earlier) <= windows.shared[1]
    if found.threshold == policy.threshold and most_similar(
        new, [GuardEntry("p", "a", "x", earlier)], policy.threshold
    ):
        assert windows.recent == length_window(len(new), policy.threshold)
        assert windows.recent[0] <= len(earlier) <= windows.recent[1]


def test_only_the_entries_sharing_a_fingerprint_are_read_for_reuse() -> None:
    cut = normalise(" ".join(SENTENCES[:2]))
    assert check(cut, [entry(POST, "source")], sharing={"source"}) is not None
    assert check(cut, [entry(POST, "source")], sharing=set()) is None
    # The similarity measure reads every entry.
    assert check(normalise(POST), [entry(POST, "source")], sharing=set()) is not None


def test_the_most_similar_wins_and_ties_go_to_the_first_entry() -> None:
    cut = normalise(" ".join(SENTENCES[:2]))
    others = [
        entry("Something else entirely about saunas and coffee on Fridays.", "far"),
        entry(POST, "source"),
        entry(POST, "second-source"),
        entry(" ".join(SENTENCES[:2]) + " A line.", "near-copy"),
    ]
    found = check(cut, others)
    assert found is not None
    assert found.post_id == "near-copy"  # the similarity measure first
    found = check(cut, others[:3])
    assert found is not None
    assert found.post_id == "source"
