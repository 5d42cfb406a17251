"""The guard against its labelled corpus (tests/guard_corpus/README.md).

Precision and recall are printed for the tuning part (what the defaults were chosen on) and the
held-out part (written alongside it, never tuned on), and held to the minimums recorded when
the defaults were chosen. Every clear pair must come out right, and a refused copy must be
refused for the move it shows. The same verdicts must come back through the database, where
the candidate query has to reach the earlier post first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from service import guard
from service.accounts.models import Account
from service.config import Settings
from service.db import Database
from service.posts.models import Post, PostState
from service.posts.service import PostPolicy, find_cross_post, guard_policy
from service.users.models import User

CORPUS = Path(__file__).parent / "guard_corpus"
PARTS = ("tuning", "heldout")
COPY_MOVES = {"truncate-link", "sentence-dropped", "reordered", "line-added", "trivial"}
ALLOWED_MOVES = {
    "translation",
    "audience-rewrite",
    "article-from-post",
    "teaser",
    "same-topic",
    "line-added",  # borderline: a line of the user's own news added
}
# Measured with the defaults when they were chosen (see the closing figures in
# /work/notes/guard.md); a change to the guard that lowers them must say why.
MINIMUMS = {"tuning": (0.96, 1.0), "heldout": (0.92, 1.0)}


@dataclass(frozen=True)
class Pair:
    part: str
    group: str
    lang: str
    earlier: str
    new: str
    move: str
    label: str
    kinds: tuple[str, ...]
    borderline: bool

    @property
    def copy(self) -> bool:
        return self.label == "copy"

    def __str__(self) -> str:
        return f"{self.group}:{self.move}:{hash(self.new) % 10_000:04d}"


def load(part: str) -> list[Pair]:
    pairs = []
    for path in sorted((CORPUS / part).glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            for item in group["pairs"]:
                kinds = item.get("kind", [])
                pairs.append(
                    Pair(
                        part=part,
                        group=group["group"],
                        lang=group["lang"],
                        earlier=group["earlier"],
                        new=item["new"],
                        move=item["move"],
                        label=item["label"],
                        kinds=tuple([kinds] if isinstance(kinds, str) else kinds),
                        borderline=item.get("borderline", False),
                    )
                )
    return pairs


PAIRS = [pair for part in PARTS for pair in load(part)]
CLEAR = [pair for pair in PAIRS if not pair.borderline]


def verdict(pair: Pair, policy: guard.GuardPolicy | None = None) -> guard.CrossPostMatch | None:
    earlier = guard.GuardEntry(
        "earlier", "acct-mastodon", "mastodon", guard.normalise(pair.earlier)
    )
    return guard.check(guard.normalise(pair.new), [earlier], policy or guard.GuardPolicy())


def test_the_corpus_is_as_its_readme_says() -> None:
    assert len(PAIRS) >= 200
    for part in PARTS:
        in_part = [pair for pair in PAIRS if pair.part == part]
        for lang in ("en", "fi"):
            moves = {(p.label, p.move) for p in in_part if p.lang == lang}
            # Every move, and every allowed case, in both languages and both parts.
            assert {m for label, m in moves if label == "copy"} >= COPY_MOVES - {"trivial"}
            assert {m for label, m in moves if label == "allowed"} >= ALLOWED_MOVES - {"line-added"}
    for pair in PAIRS:
        assert pair.lang in ("en", "fi"), pair
        assert pair.label in ("copy", "allowed"), pair
        assert pair.move in (COPY_MOVES if pair.copy else ALLOWED_MOVES), pair
        assert set(pair.kinds) <= set(guard.Move), pair
        assert bool(pair.kinds) == pair.copy, pair
    groups = [(p.part, p.group) for p in PAIRS]
    assert len({g for _, g in groups}) == len(set(groups)), "a group is in both parts"
    assert any(p.borderline for p in PAIRS)


@pytest.mark.parametrize("pair", CLEAR, ids=str)
def test_every_clear_pair_comes_out_right(pair: Pair) -> None:
    found = verdict(pair)
    if pair.copy:
        assert found is not None, f"{pair.move} let through"
        assert found.kind in pair.kinds, f"refused as {found.kind}, not as {pair.kinds}"
        assert found.similarity >= found.threshold
    else:
        assert found is None, f"{pair.move} refused as {found}"


@pytest.mark.parametrize("part", PARTS)
def test_precision_and_recall(part: str, capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    borderline = {"right": 0, "wrong": 0}
    for pair in (p for p in PAIRS if p.part == part):
        refused = verdict(pair) is not None
        counts[("t" if refused == pair.copy else "f") + ("p" if refused else "n")] += 1
        if pair.borderline:
            borderline["right" if refused == pair.copy else "wrong"] += 1
    precision = counts["tp"] / (counts["tp"] + counts["fp"])
    recall = counts["tp"] / (counts["tp"] + counts["fn"])
    with capsys.disabled():
        print(
            f"\nguard corpus, {part}: precision {precision:.3f}, recall {recall:.3f} "
            f"({sum(counts.values())} pairs: {counts}; borderline {borderline})"
        )
    low_precision, low_recall = MINIMUMS[part]
    assert precision >= low_precision
    assert recall >= low_recall


def test_the_corpus_is_judged_with_the_shipped_defaults() -> None:
    assert guard_policy(Settings(database_url="sqlite://")) == guard.GuardPolicy()


# --- through the database ----------------------------------------------------------------------


def post_of(user_id: str, account: Account, text: str, **fields: Any) -> Post:
    """A post as the service builds it, with its comparable form."""
    normalised = guard.normalise(text)
    return Post(
        user_id=user_id,
        account_id=account.id,
        network=account.network,
        text=text,
        visibility="public",
        guard_text=normalised,
        guard_length=len(normalised),
        **fields,
    )


@pytest.fixture
def stored(database: Database) -> dict[str, tuple[str, Account]]:
    """Each group's earlier post, published on Mastodon by a user of its own (so that the
    parallel English and Finnish stories never meet): group -> (user id, LinkedIn account)."""
    found: dict[str, tuple[str, Account]] = {}
    with database.session() as session:
        for group, earlier in {p.group: p.earlier for p in PAIRS}.items():
            user = User(username=group, password_hash="never signs in")
            session.add(user)
            session.flush()
            mastodon, linkedin = (
                Account(user_id=user.id, network=network, handle=group, handle_key=group,
                        purpose="society", audience="readers")
                for network in ("mastodon", "linkedin")
            )  # fmt: skip
            session.add_all([mastodon, linkedin])
            session.flush()
            session.add(post_of(user.id, mastodon, earlier, state=PostState.PUBLISHED))
            session.expunge(linkedin)
            found[group] = (user.id, linkedin)
        session.commit()
    return found


@pytest.mark.parametrize("recent_posts", [guard.RECENT_POSTS, 0], ids=["recent", "fingerprints"])
def test_the_database_reaches_every_verdict(
    database: Database,
    stored: dict[str, tuple[str, Account]],
    monkeypatch: pytest.MonkeyPatch,
    recent_posts: int,
) -> None:
    """With recent_posts=0 every earlier post counts as old: only a fingerprint reaches it."""
    monkeypatch.setattr(guard, "RECENT_POSTS", recent_posts)
    missed = []
    with database.session(read_only=True) as session:
        for pair in PAIRS:
            user_id, linkedin = stored[pair.group]
            post = post_of(user_id, linkedin, pair.new)
            found = find_cross_post(session, post, PostPolicy(), exclude_source=False)
            alone = verdict(pair)
            got = None if found is None else (found.kind, found.similarity)
            expected = None if alone is None else (alone.kind, alone.similarity)
            if got != expected:
                missed.append((str(pair), expected, got))
    assert missed == [], "\n".join(map(str, missed))
