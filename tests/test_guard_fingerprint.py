"""The guard's fingerprints: how it finds older posts without reading every post of the user."""

from __future__ import annotations

import pytest
from alembic import command
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, col, delete, select

from migrations import guard_fingerprints
from service import guard
from service.db import Database
from service.guard import GUARANTEED_RUN, fingerprints, normalise
from service.migrate import alembic_config, upgrade
from service.posts.models import Post, PostFingerprint
from tests.support.api import assert_problem, create_account, create_post, distinct_text
from tests.support.rows import insert_post

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäö", min_size=1, max_size=8)
words = st.lists(word, min_size=0, max_size=30)


def form(parts: list[str]) -> str:
    return " ".join(parts)


@given(before_a=words, before_b=words, run=st.lists(word, min_size=GUARANTEED_RUN, max_size=40),
       after_a=words, after_b=words)  # fmt: skip
def test_a_shared_run_of_words_always_shares_a_fingerprint(
    before_a: list[str], before_b: list[str], run: list[str], after_a: list[str], after_b: list[str]
) -> None:
    a = form(before_a + run + after_a)
    b = form(before_b + run + after_b)
    assert set(fingerprints(a)) & set(fingerprints(b))


@given(words)
def test_fingerprints_are_stable_sorted_and_unique(parts: list[str]) -> None:
    found = fingerprints(form(parts))
    assert found == sorted(set(found)) == fingerprints(form(parts))
    assert all(-(2**63) <= f < 2**63 for f in found)  # fits a BIGINT column


def test_empty_short_and_link_only_forms() -> None:
    assert fingerprints("") == []
    assert len(fingerprints("ship it")) == 1
    assert fingerprints("ship it") != fingerprints("ship it now")
    link_only = normalise("https://example.org/a")
    assert len(fingerprints(link_only)) == 1
    assert fingerprints(link_only) == fingerprints(normalise("http://www.example.org/a/"))


def test_a_long_post_keeps_only_a_fraction_of_its_shingles() -> None:
    text = normalise(" ".join(distinct_text(seed) for seed in range(5)))
    assert len(text.split()) > guard.fingerprint.ALL_SHINGLES_UP_TO
    shingles = len(text.split()) - guard.fingerprint.SHINGLE_WORDS + 1
    assert 0 < len(fingerprints(text)) < shingles


def test_a_short_post_keeps_every_shingle() -> None:
    """Short posts have short sentences: a copy may share only four words in a row."""
    text = normalise(distinct_text(1, words=40))
    shingles = len(text.split()) - guard.fingerprint.SHINGLE_WORDS + 1
    assert len(fingerprints(text)) == shingles


# Together at most ALL_SHINGLES_UP_TO (40) words: 16 + 8 + 16.
side = st.lists(word, max_size=16)


@given(before_a=side, before_b=side, run=st.lists(word, min_size=4, max_size=8),
       after_a=side, after_b=side)  # fmt: skip
def test_short_posts_sharing_four_words_in_a_row_share_a_fingerprint(
    before_a: list[str], before_b: list[str], run: list[str], after_a: list[str], after_b: list[str]
) -> None:
    a, b = before_a + run + after_a, before_b + run + after_b
    assert set(fingerprints(form(a))) & set(fingerprints(form(b)))


@pytest.fixture
def only_latest_post_is_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Older posts are then found only through their fingerprints."""
    monkeypatch.setattr(guard, "RECENT_POSTS", 1)


OLD = (
    "Our spring meetup moves to the library on Thursday evening, bring a friend and "
    "your questions about the new release"
)


@pytest.mark.usefixtures("only_latest_post_is_recent")
def test_an_old_post_repeated_elsewhere_is_found_by_its_fingerprints(client: TestClient) -> None:
    mastodon, linkedin = create_account(client, "mastodon"), create_account(client, "linkedin")
    old = create_post(client, mastodon["id"], OLD).json()
    for seed in range(3):  # newer posts push the old one out of the recent window
        assert create_post(client, mastodon["id"], distinct_text(seed)).status_code == 201

    repeated = OLD.replace("Thursday", "Friday") + " #meetup"
    problem = assert_problem(create_post(client, linkedin["id"], repeated), 409, "cross-post")
    assert problem["conflicting_post"]["id"] == old["id"]


@pytest.mark.usefixtures("only_latest_post_is_recent")
def test_fingerprints_follow_an_edited_text(client: TestClient) -> None:
    mastodon, linkedin = create_account(client, "mastodon"), create_account(client, "linkedin")
    old = create_post(client, mastodon["id"], OLD)
    rewritten = client.patch(
        f"/api/v1/posts/{old.json()['id']}",
        json={"text": distinct_text(99, words=20)},
        headers={"If-Match": old.headers["etag"]},
    )
    assert rewritten.status_code == 200, rewritten.text
    for seed in range(3):
        assert create_post(client, mastodon["id"], distinct_text(seed)).status_code == 201

    # The old wording is gone everywhere: it may now go to LinkedIn...
    assert create_post(client, linkedin["id"], OLD).status_code == 201
    # ...while the new wording is still guarded.
    repeat = create_post(client, linkedin["id"], distinct_text(99, words=20) + "!")
    assert_problem(repeat, 409, "cross-post")


def test_the_migration_gives_short_posts_every_shingle(
    database: Database, database_url: str, client: TestClient
) -> None:
    """Posts fingerprinted before 0004_guard kept only winnowed shingles above nine words."""
    mastodon = create_account(client, "mastodon")
    texts = {
        "tiny": "Ship it on Friday",
        "short": " ".join(distinct_text(seed) for seed in range(2)),  # about 30 words
        "long": " ".join(distinct_text(seed) for seed in range(2, 7)),  # about 75 words
    }
    ids = {name: insert_post(database, mastodon["id"], text) for name, text in texts.items()}
    command.downgrade(alembic_config(database_url), "0003")
    short = fingerprints(normalise(texts["short"]))
    with database.session() as session:  # as 0002 left it: a fraction of the shingles
        session.execute(delete(PostFingerprint).where(col(PostFingerprint.post_id) == ids["short"]))
        session.add_all(
            PostFingerprint(user_id=mastodon_owner(session, ids["short"]), fingerprint=f,
                            post_id=ids["short"])
            for f in short[::3]
        )  # fmt: skip
        session.commit()

    upgrade(database_url)

    with database.session() as session:
        for name, text in texts.items():
            stored = session.exec(
                select(PostFingerprint.fingerprint).where(PostFingerprint.post_id == ids[name])
            ).all()
            assert sorted(stored) == fingerprints(normalise(text)), name


def mastodon_owner(session: Session, post_id: str) -> str:
    # Only the column 0003 has: the model carries columns of later migrations.
    return session.exec(select(Post.user_id).where(Post.id == post_id)).one()


def test_the_migrations_fill_walks_every_post_batch_by_batch(
    database: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What 0002 ran on the posts already stored (and 0004_guard on the short ones)."""
    monkeypatch.setattr(guard_fingerprints, "BATCH", 2)
    mastodon = create_account(client, "mastodon")
    texts = [OLD, distinct_text(1), " ".join(distinct_text(seed) for seed in range(2, 7))]
    texts += [distinct_text(seed) for seed in range(10, 13)]
    ids = [insert_post(database, mastodon["id"], text) for text in texts]
    with database.engine.begin() as connection:
        connection.execute(delete(PostFingerprint))
        guard_fingerprints.fingerprint_posts(connection, needs=lambda _text: True, replace=False)

    with database.session() as session:
        for post_id, text in zip(ids, texts, strict=True):
            stored = session.exec(
                select(PostFingerprint.fingerprint).where(PostFingerprint.post_id == post_id)
            ).all()
            assert sorted(stored) == fingerprints(normalise(text))
