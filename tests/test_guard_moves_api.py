"""The cross-poster's usual moves, as a user meets them: refused through the API, named, and
found however old the earlier post is; the dispatcher's batch check agrees with the API's."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service import guard
from service.config import Settings
from service.db import Database
from service.posts.models import Post, PostState
from service.posts.service import PostPolicy, find_cross_post, find_cross_posts
from service.publishing.dispatcher import SENT_STATES
from tests.conftest import AppFactory
from tests.support.api import assert_problem, create_account, create_post, distinct_text
from tests.support.rows import insert_post

ARTICLE = (
    "Last spring we moved every CI build we have onto one large machine in our office. It "
    "sounds like a step backwards, and for a week it felt like one. The numbers changed our "
    "minds: builds that took eleven minutes now take three, and the monthly bill went from "
    "1,900 euros to the price of electricity. It is not free. Someone has to patch the "
    "machine, and when it broke in August we had no builds for a morning."
)
POST = (
    "Kokeilimme kuukauden ajan kokouksetonta keskiviikkoa. Yllätys oli, kuinka paljon enemmän "
    "saimme aikaan. Jatkamme kokeilua syksyyn asti."
)
SHORT = "Sunrise over Lake Näsijärvi this morning, worth getting up at five for."

MOVES = [
    pytest.param(
        ARTICLE,
        ARTICLE[:117] + "… https://ex.com/one-machine",
        "shortened",
        "a shortened copy",
        id="truncate-and-link",
    ),
    pytest.param(
        POST,
        "Kokeilimme kuukauden ajan kokouksetonta keskiviikkoa. Jatkamme kokeilua syksyyn asti.",
        "shortened",
        "a shortened copy",
        id="sentence-dropped",
    ),
    pytest.param(
        POST,
        "Jatkamme kokeilua syksyyn asti. Kokeilimme kuukauden ajan kokouksetonta keskiviikkoa. "
        "Yllätys oli, kuinka paljon enemmän saimme aikaan.",
        "reordered",
        "the same sentences in another order",
        id="reordered",
    ),
    pytest.param(
        SHORT,
        SHORT + " Follow me for more! 📸",
        "line-added",
        "the same text with a line added",
        id="line-added",
    ),
]


@pytest.fixture
def accounts(client: TestClient) -> dict[str, dict[str, Any]]:
    return {n: create_account(client, n) for n in ("mastodon", "linkedin", "x")}


def preview(client: TestClient, account_id: str, text: str) -> dict[str, Any]:
    response = client.post("/api/v1/posts/preview", json={"account_id": account_id, "text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("earlier", "new", "kind", "how"), MOVES)
def test_each_move_is_refused_with_a_message_that_names_it(
    client: TestClient, accounts: dict[str, dict[str, Any]], earlier: str, new: str, kind: str,
    how: str,
) -> None:  # fmt: skip
    first = create_post(client, accounts["mastodon"]["id"], earlier).json()
    problem = assert_problem(create_post(client, accounts["x"]["id"], new), 409, "cross-post")
    assert problem["conflicting_post"]["id"] == first["id"]
    assert (problem["kind"], problem["how"]) == (kind, how)
    assert problem["detail"].startswith(
        f"This text repeats post {first['id']} on Mastodon as {how}: "
        f"{problem['similarity']:.0%} of it is that post's words"
    )
    assert problem["measure"] in ("copied-share", "line-added-share")
    assert problem["similarity"] >= problem["threshold"]
    # The composer's dry run says the same, before anything is saved.
    cross = preview(client, accounts["x"]["id"], new)["cross_post"]
    members = ("kind", "how", "measure", "similarity", "threshold", "detail")
    assert {k: cross[k] for k in members} == {k: problem[k] for k in members}
    assert len(client.get("/api/v1/posts").json()["items"]) == 1


@pytest.mark.parametrize(
    ("earlier", "new"),
    [
        pytest.param(
            ARTICLE,
            "I wrote up why we put all our CI builds on a single box in the office, and what "
            "it cost us. Spoiler: less than the cloud bill. https://ex.com/one-machine",
            id="teaser-in-own-words",
        ),
        pytest.param(
            SHORT,
            f'"{SHORT}" Getting up at five made me think about why I still photograph at all. '
            "The light lasted eleven minutes; I took forty pictures and kept two, and neither "
            "shows the cold pier while the mist burned off. The camera is an excuse to be "
            "there, not a way to take it home.",
            id="article-quoting-the-post",
        ),
        pytest.param(
            POST,
            "We tried a meeting-free Wednesday for a month. Surprise: we got much more done. "
            "We will keep going until the autumn.",
            id="translation",
        ),
    ],
)
def test_a_text_of_ones_own_around_or_beside_an_earlier_post_passes(
    client: TestClient, accounts: dict[str, dict[str, Any]], earlier: str, new: str
) -> None:
    create_post(client, accounts["mastodon"]["id"], earlier)
    response = create_post(client, accounts["linkedin"]["id"], new)
    assert response.status_code == 201, response.text


def test_a_short_cut_of_an_old_long_post_is_found_through_its_fingerprints(
    client: TestClient, accounts: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard, "RECENT_POSTS", 1)  # older posts are reached by fingerprint only
    old = create_post(client, accounts["mastodon"]["id"], ARTICLE).json()
    for seed in range(3):
        assert (
            create_post(client, accounts["mastodon"]["id"], distinct_text(seed)).status_code == 201
        )
    problem = assert_problem(
        create_post(client, accounts["x"]["id"], ARTICLE[:100] + "… Read more: https://ex.com/a"),
        409,
        "cross-post",
    )
    assert (problem["conflicting_post"]["id"], problem["kind"]) == (old["id"], "shortened")


def test_a_copy_draft_cut_short_still_needs_tailoring(
    client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    source = create_post(client, accounts["mastodon"]["id"], ARTICLE).json()
    draft = client.post(
        f"/api/v1/posts/{source['id']}/copy", json={"account_id": accounts["x"]["id"]}
    )
    url = f"/api/v1/posts/{draft.json()['id']}"
    cut = client.patch(
        url, json={"text": ARTICLE[:200]}, headers={"If-Match": draft.headers["etag"]}
    )
    assert cut.status_code == 200, cut.text
    assert cut.json()["needs_tailoring"] is True


def test_the_reuse_limits_are_settings(make_client: AppFactory) -> None:
    lenient = make_client(dispatch=False, guard_line_added_share=1.0, guard_copied_share=1.0)
    mastodon, linkedin = create_account(lenient, "mastodon"), create_account(lenient, "linkedin")
    create_post(lenient, mastodon["id"], SHORT)
    assert create_post(lenient, linkedin["id"], SHORT + " Follow me for more!").status_code == 201

    strict = make_client(
        dispatch=False, as_user="strict", guard_min_copied_chars=10, guard_copied_share=0.5
    )
    # Another user: the first one's posts are no business of this client's.
    mastodon = create_account(strict, "mastodon", "strict-mastodon")
    linkedin = create_account(strict, "linkedin", "strict-linkedin")
    create_post(strict, mastodon["id"], POST)
    problem = assert_problem(
        create_post(strict, linkedin["id"], "Jatkamme kokeilua syksyyn asti. Tervetuloa mukaan!"),
        409,
        "cross-post",
    )
    assert problem["threshold"] == 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("guard_copied_share", 0),
        ("guard_copied_share", 1.01),
        ("guard_line_added_share", -0.5),
        ("guard_whole_share", "nan"),
        ("guard_line_added_chars", -1),
        ("guard_min_copied_chars", "many"),
    ],
)
def test_settings_outside_their_range_are_refused_at_start(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(database_url="sqlite://", **{name: value})  # type: ignore[arg-type]


def test_the_dispatchers_batch_check_agrees_with_one_check_per_post(
    database: Database, client: TestClient, accounts: dict[str, dict[str, Any]]
) -> None:
    """At publish time a claimed batch is checked in one query per user; each post must get
    the answer its own check would give, whatever the other posts in the batch."""
    mastodon, linkedin, x = (accounts[n]["id"] for n in ("mastodon", "linkedin", "x"))
    for text in (ARTICLE, POST, SHORT, distinct_text(7, words=30)):
        insert_post(database, mastodon, text, state=PostState.PUBLISHED)
    batch = [
        insert_post(database, account, text, state=PostState.SCHEDULED)
        for account, text in [
            (linkedin, ARTICLE[:117] + "… https://ex.com/one-machine"),
            (x, SHORT + " Like and share!"),
            (linkedin, "Jatkamme kokeilua syksyyn asti. Kokeilimme kuukauden ajan "
                       "kokouksetonta keskiviikkoa. Yllätys oli, kuinka paljon enemmän saimme "
                       "aikaan."),
            (x, distinct_text(8, words=30)),
            (linkedin, SHORT.upper()),
            (x, "An own text about sunrises, saunas and the habit of waking at five."),
        ]
    ]  # fmt: skip
    policy = PostPolicy()
    with database.session(read_only=True) as session:
        posts = [session.get(Post, post_id) for post_id in batch]
        assert all(posts)
        together = find_cross_posts(session, posts, policy, only_states=SENT_STATES)  # type: ignore[arg-type]
        alone = {
            post.id: found
            for post in posts
            if post is not None
            and (found := find_cross_post(session, post, policy, exclude_source=False,
                                          only_states=SENT_STATES)) is not None
        }  # fmt: skip
    assert together == alone
    assert {found.kind for found in alone.values()} == {
        "shortened",
        "line-added",
        "reordered",
        "same",
    }


def test_the_loosest_threshold_still_queries_both_databases(make_client: AppFactory) -> None:
    """A tiny threshold opens the length window past any stored length: never a 500."""
    loose = make_client(dispatch=False, guard_threshold=1e-12)
    mastodon, linkedin = create_account(loose, "mastodon"), create_account(loose, "linkedin")
    assert create_post(loose, mastodon["id"], SHORT).status_code == 201
    assert_problem(create_post(loose, linkedin["id"], "Anything else at all"), 409, "cross-post")
