from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_problem, create_account, create_post, in_seconds

TEXT = (
    "Spent the weekend fixing the bike with my daughter. She now knows more about gears than I do."
)


@pytest.fixture
def account(client: TestClient) -> dict:
    return create_account(client, "facebook", "123456")


def test_a_post_without_a_time_is_a_draft(client: TestClient, account: dict) -> None:
    response = create_post(client, account["id"], TEXT, goal="relationships")
    assert response.status_code == 201
    post = response.json()
    assert post["state"] == "draft"
    assert post["scheduled_at"] is None
    assert post["visibility"] == "public"
    assert post["text_length"] == len(TEXT)
    assert response.headers["location"] == f"/api/v1/posts/{post['id']}"
    assert response.headers["etag"] == '"1"'


def test_scheduled_with_offset_is_stored_in_utc(client: TestClient, account: dict) -> None:
    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    local = at.astimezone().isoformat()
    post = create_post(client, account["id"], TEXT, scheduled_at=local).json()
    assert post["state"] == "scheduled"
    assert datetime.fromisoformat(post["scheduled_at"]) == at
    assert post["scheduled_at"].endswith("Z") or post["scheduled_at"].endswith("+00:00")


def test_local_time_in_a_zone_returns_utc_and_local(client: TestClient, account: dict) -> None:
    year = datetime.now(UTC).year + 1
    post = create_post(
        client,
        account["id"],
        TEXT,
        local_time=f"{year}-01-15T07:30:00",
        time_zone="Europe/Helsinki",
    ).json()
    assert datetime.fromisoformat(post["scheduled_at"]) == datetime(year, 1, 15, 5, 30, tzinfo=UTC)
    assert post["scheduled_local"].startswith(f"{year}-01-15T07:30:00+02:00")
    assert post["time_zone"] == "Europe/Helsinki"


@pytest.mark.parametrize(
    ("local_time", "code"),
    [("03:30", "nonexistent-local-time"), ("03:30@autumn", "ambiguous-local-time")],
)
def test_missing_and_repeated_local_times_are_refused(
    client: TestClient, account: dict, local_time: str, code: str
) -> None:
    year = datetime.now(UTC).year + 1
    # EU clocks go forward on the last Sunday of March and back on the last Sunday of October.
    march = max(d for d in range(25, 32) if datetime(year, 3, d).weekday() == 6)
    october = max(d for d in range(25, 32) if datetime(year, 10, d).weekday() == 6)
    day = f"{year}-10-{october}" if "autumn" in local_time else f"{year}-03-{march:02d}"
    response = create_post(
        client, account["id"], TEXT, local_time=f"{day}T03:30:00", time_zone="Europe/Helsinki"
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["code"] == code
    assert client.get("/api/v1/posts").json()["items"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"scheduled_at": "2030-01-01T10:00:00"}, "missing-offset"),
        ({"scheduled_at": "2001-01-01T10:00:00Z"}, "time-in-past"),
        ({"local_time": "2030-01-01T10:00:00"}, "time-zone-required"),
        ({"local_time": "2030-01-01T10:00:00", "time_zone": "Mars/Olympus"}, "unknown-time-zone"),
        ({"publish_now": True, "scheduled_at": "2030-01-01T10:00:00Z"}, "conflicting-schedule"),
    ],
)
def test_bad_times_are_refused_with_a_reason(
    client: TestClient, account: dict, body: dict, code: str
) -> None:
    problem = assert_problem(
        create_post(client, account["id"], TEXT, **body), 422, "validation-error"
    )
    assert problem["errors"][0]["code"] == code


def test_a_past_local_time_is_reported_as_the_field_that_was_sent(
    client: TestClient, account: dict
) -> None:
    body = {"local_time": "2001-01-01T07:30:00", "time_zone": "Europe/Helsinki"}
    problem = assert_problem(
        create_post(client, account["id"], TEXT, **body), 422, "validation-error"
    )
    assert problem["errors"][0]["field"] == "local_time"
    assert problem["detail"].startswith(
        "local_time 2001-01-01T07:30:00 in Europe/Helsinki is in the past"
    )


def test_too_long_for_the_network_is_refused_at_write_time(client: TestClient) -> None:
    x = create_account(client, "x")
    problem = assert_problem(create_post(client, x["id"], "a" * 281), 422, "validation-error")
    assert problem["errors"][0]["field"] == "text"
    assert "280" in problem["detail"]
    url = "https://example.com/" + "long/" * 40
    assert create_post(client, x["id"], "b" * 250 + " " + url).status_code == 201


def test_visibility_must_fit_the_network(client: TestClient) -> None:
    mastodon = create_account(client, "mastodon")
    bluesky = create_account(client, "bluesky")
    assert (
        create_post(client, mastodon["id"], TEXT, visibility="unlisted").json()["visibility"]
        == "unlisted"
    )
    problem = assert_problem(
        create_post(client, bluesky["id"], TEXT + " (bsky)", visibility="unlisted"),
        422,
        "validation-error",
    )
    assert problem["errors"][0]["field"] == "visibility"


def test_youtube_needs_a_title(client: TestClient) -> None:
    youtube = create_account(client, "youtube")
    assert_problem(
        create_post(client, youtube["id"], "My talk on scheduling"), 422, "validation-error"
    )
    created = create_post(
        client, youtube["id"], "My talk on scheduling", title="Scheduling, not spam"
    )
    assert created.status_code == 201


def test_unknown_account_and_unknown_fields_are_problems(client: TestClient, account: dict) -> None:
    assert_problem(create_post(client, "nope", TEXT), 404, "not-found")
    assert_problem(create_post(client, account["id"], TEXT, colour="red"), 422, "validation-error")
    malformed = client.post(
        "/api/v1/posts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 400, "malformed-json")


def test_edit_needs_the_current_etag(client: TestClient, account: dict) -> None:
    created = create_post(client, account["id"], TEXT)
    url = f"/api/v1/posts/{created.json()['id']}"
    assert_problem(client.patch(url, json={"goal": "relationships"}), 428, "precondition-required")
    first = client.patch(
        url, json={"goal": "relationships"}, headers={"If-Match": created.headers["etag"]}
    )
    assert first.status_code == 200
    assert first.headers["etag"] == '"2"'
    second_tab = client.patch(
        url, json={"text": TEXT + "!"}, headers={"If-Match": created.headers["etag"]}
    )
    assert_problem(second_tab, 412, "stale-version")
    assert client.get(url).json()["text"] == TEXT


def test_edit_reschedule_unschedule_and_cancel(client: TestClient, account: dict) -> None:
    post = create_post(client, account["id"], TEXT, scheduled_at=in_seconds(3600)).json()
    url = f"/api/v1/posts/{post['id']}"
    later = in_seconds(7200)
    moved = client.post(f"{url}/schedule", json={"scheduled_at": later}).json()
    assert moved["state"] == "scheduled"
    assert datetime.fromisoformat(moved["scheduled_at"]) == datetime.fromisoformat(later)
    assert client.post(f"{url}/unschedule").json()["state"] == "draft"
    assert client.post(f"{url}/cancel").json()["state"] == "cancelled"
    etag = client.get(url).headers["etag"]
    assert_problem(
        client.patch(url, json={"text": "new"}, headers={"If-Match": etag}), 409, "not-editable"
    )
    assert_problem(client.post(f"{url}/schedule", json={"publish_now": True}), 409, "not-editable")


def test_scheduling_a_draft_without_a_time_is_refused(client: TestClient, account: dict) -> None:
    post = create_post(client, account["id"], TEXT).json()
    problem = assert_problem(
        client.post(f"/api/v1/posts/{post['id']}/schedule", json={}), 422, "validation-error"
    )
    assert problem["errors"][0]["code"] == "time-required"
    assert client.get(f"/api/v1/posts/{post['id']}").json()["state"] == "draft"


def test_warnings_name_missing_goal_and_call_to_action(client: TestClient) -> None:
    linkedin = create_account(client, "linkedin")
    bare = create_post(client, linkedin["id"], "Our quarterly numbers are out.").json()
    assert {w["code"] for w in bare["warnings"]} == {"no-goal", "no-call-to-action"}
    full = create_post(
        client,
        linkedin["id"],
        "What I learnt shipping weekly for a year.",
        goal="personal brand",
        call_to_action="Tell me what you would add",
    ).json()
    assert full["warnings"] == []


def test_list_filters_and_cursor_pagination(client: TestClient) -> None:
    facebook = create_account(client, "facebook", "1")
    mastodon = create_account(client, "mastodon")
    ids = []
    for i in range(7):
        ids.append(
            create_post(
                client,
                facebook["id"],
                f"Family news number {i}: the cat learnt a trick {'x' * i * 9}",
                scheduled_at=in_seconds(3600 * (i + 1)),
            ).json()["id"]
        )
    create_post(client, mastodon["id"], "A fediverse-only thought about open protocols")

    seen: list[str] = []
    cursor = None
    while True:
        params = {"account_id": facebook["id"], "limit": 3, "order": "scheduled_at"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/posts", params=params).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids  # soonest first, every post once

    drafts = client.get("/api/v1/posts", params={"state": "draft"}).json()["items"]
    assert [p["account_id"] for p in drafts] == [mastodon["id"]]
    window = client.get(
        "/api/v1/posts",
        params={"from": in_seconds(3600 * 2 - 60), "to": in_seconds(3600 * 4 - 60)},
    ).json()["items"]
    assert {p["id"] for p in window} == set(ids[1:3])
    assert_problem(client.get("/api/v1/posts", params={"cursor": "garbage"}), 422, "invalid-cursor")
    assert_problem(client.get("/api/v1/posts", params={"state": "flying"}), 422, "validation-error")
