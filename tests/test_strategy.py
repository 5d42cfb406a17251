"""The strategy the essays ask for: goals, a handful of networks, value checks, reviews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from service.db import Database
from service.strategy.models import Strategy
from service.users.models import User
from tests.conftest import AppFactory
from tests.support.api import (
    assert_problem,
    create_account,
    create_post,
    in_seconds,
    post_state,
    wait_for,
)


def add_goals(client: TestClient, *names: str) -> None:
    for name in names:
        assert client.post("/api/v1/strategy/goals", json={"name": name}).status_code == 201


def test_a_new_strategy_asks_for_goals_and_a_review_in_six_months(client: TestClient) -> None:
    strategy = client.get("/api/v1/strategy").json()
    assert strategy["review_interval_months"] == 6
    assert strategy["review_due"] is False
    assert strategy["goals"] == [] and strategy["networks"] == []
    assert any("goals" in advice for advice in strategy["advice"])
    next_review = datetime.fromisoformat(strategy["next_review_at"])
    assert timedelta(days=180) < next_review - datetime.now(UTC) < timedelta(days=185)


def test_goals_are_named_once(client: TestClient) -> None:
    add_goals(client, "Build relationships", "Advance our cause")
    assert_problem(
        client.post("/api/v1/strategy/goals", json={"name": "build RELATIONSHIPS"}),
        409,
        "goal-exists",
    )
    goals = client.get("/api/v1/strategy/goals").json()
    assert [g["name"] for g in goals] == ["Build relationships", "Advance our cause"]
    renamed = client.patch(f"/api/v1/strategy/goals/{goals[1]['id']}", json={"name": "Our cause"})
    assert renamed.json()["name"] == "Our cause"
    assert client.delete(f"/api/v1/strategy/goals/{goals[1]['id']}").status_code == 204
    assert_problem(client.delete(f"/api/v1/strategy/goals/{goals[1]['id']}"), 404, "not-found")


def test_the_strategy_lists_networks_with_their_sphere(client: TestClient) -> None:
    create_account(client, "facebook", "1", sphere="family_and_friends")
    create_account(client, "linkedin")
    strategy = client.get("/api/v1/strategy").json()
    spheres = {n["network"]: n["sphere"] for n in strategy["networks"]}
    assert spheres == {"facebook": "family_and_friends", "linkedin": None}
    assert any("linkedin" in advice for advice in strategy["advice"])


def test_a_review_is_due_after_the_interval(client: TestClient, database: Database) -> None:
    client.patch("/api/v1/strategy", json={"review_interval_months": 1})
    reviewed = client.post("/api/v1/strategy/review", json={"notes": "Dropped Threads"}).json()
    assert reviewed["review_due"] is False and reviewed["review_notes"] == "Dropped Threads"
    with database.session() as session:
        user = session.exec(select(User).where(User.username == "tester")).one()
        strategy = session.get(Strategy, user.id)
        strategy.last_reviewed_at = datetime.now(UTC) - timedelta(days=40)
        session.add(strategy)
        session.commit()
    assert client.get("/api/v1/strategy").json()["review_due"] is True


def test_only_a_handful_of_accounts_may_be_active(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, max_active_accounts=3)
    first = create_account(client, "x")
    create_account(client, "linkedin")
    create_account(client, "facebook", "9")
    refused = client.post(
        "/api/v1/accounts",
        json={"network": "bluesky", "handle": "me", "purpose": "p", "audience": "a"},
    )
    problem = assert_problem(refused, 409, "too-many-accounts")
    assert problem["limit"] == 3 and "handful" in problem["detail"]

    post = create_post(client, first["id"], "Scheduled on X", scheduled_at=in_seconds(3600)).json()
    busy = client.patch(f"/api/v1/accounts/{first['id']}", json={"active": False})
    assert_problem(busy, 409, "account-has-scheduled-posts")
    client.post(f"/api/v1/posts/{post['id']}/cancel")
    assert (
        client.patch(f"/api/v1/accounts/{first['id']}", json={"active": False}).json()["active"]
        is False
    )
    assert_problem(create_post(client, first["id"], "More for X"), 409, "account-inactive")
    create_account(client, "bluesky")  # a slot is free again
    assert_problem(
        client.patch(f"/api/v1/accounts/{first['id']}", json={"active": True}),
        409,
        "too-many-accounts",
    )


def test_once_goals_exist_a_post_must_name_one_to_be_scheduled(client: TestClient) -> None:
    account = create_account(client, "mastodon")
    add_goals(client, "Build relationships")
    unknown = create_post(client, account["id"], "Hello neighbours", goal="Fame")
    assert assert_problem(unknown, 422, "validation-error")["errors"][0]["code"] == "unknown-goal"
    missing = create_post(client, account["id"], "Hello neighbours", scheduled_at=in_seconds(60))
    assert missing.json()["errors"][0]["code"] == "goal-required"
    ok = create_post(
        client,
        account["id"],
        "Hello neighbours",
        goal="build relationships",
        scheduled_at=in_seconds(60),
    )
    assert ok.json()["goal"] == "Build relationships"  # the user's own spelling

    client.patch("/api/v1/strategy", json={"require_goal": False})
    relaxed = create_post(
        client,
        account["id"],
        "Hello again, neighbours of the fediverse",
        scheduled_at=in_seconds(60),
    )
    assert relaxed.status_code == 201
    assert "no-goal" in {w["code"] for w in relaxed.json()["warnings"]}


def test_value_warnings_are_structured(client: TestClient) -> None:
    family = create_account(client, "mastodon", sphere="family_and_friends")
    x = create_account(client, "x", sphere="family_and_friends")
    linkedin = create_account(client, "linkedin", sphere="professionals")

    public = create_post(
        client, family["id"], "Photos from grandma's birthday are up!", visibility="public"
    )
    warning = {w["code"]: w["message"] for w in public.json()["warnings"]}
    assert "'private'" in warning["visibility-wider-than-audience"]
    private = create_post(
        client, family["id"], "Photos from grandma's 90th are up!!", visibility="private"
    )
    assert "visibility-wider-than-audience" not in {w["code"] for w in private.json()["warnings"]}
    on_x = create_post(client, x["id"], "Kids' school play tonight, so proud of them")
    assert (
        "visible beyond them"
        in {w["code"]: w["message"] for w in on_x.json()["warnings"]}[
            "visibility-wider-than-audience"
        ]
    )

    bare = create_post(client, linkedin["id"], "https://example.com/report-2026")
    codes = {w["code"] for w in bare.json()["warnings"]}
    assert {"bare-link", "no-call-to-action", "no-goal"} <= codes


def test_a_share_needs_the_users_own_comment(make_client: AppFactory) -> None:
    client = make_client()
    account = create_account(client, "bluesky", "ada.bsky.social")
    shared = "https://bsky.app/profile/someone/post/3k4duaz5vfs2b"
    bare = create_post(client, account["id"], "👍 #mustread", shares_url=shared)
    problem = assert_problem(bare, 422, "validation-error")
    assert problem["errors"][0]["code"] == "bare-share"
    assert "own comment" in problem["detail"]
    both = create_post(
        client,
        account["id"],
        "Worth reading for anyone who schedules posts",
        shares_url=shared,
        link="https://example.com",
    )
    assert assert_problem(both, 422, "validation-error")["errors"][0]["code"] == "one-link"

    post = create_post(
        client,
        account["id"],
        "This thread explains scheduling better than I could",
        shares_url=shared,
        publish_now=True,
    ).json()
    wait_for(lambda: post_state(client, post["id"]) == "published")
    [attempt] = client.get(f"/api/v1/posts/{post['id']}/attempts").json()["items"]
    assert shared in attempt["request"]["json"]["record"]["text"]
