"""Input an attacker (or a careless script) sends: every class gets a clear 4xx problem and
changes nothing, on SQLite and on PostgreSQL alike. Never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory
from tests.support.api import assert_problem, create_account, create_post, in_seconds


@pytest.fixture
def account(client: TestClient) -> dict[str, Any]:
    return create_account(client, "mastodon", base_url="https://example.social")


def post_count(client: TestClient) -> int:
    return len(client.get("/api/v1/posts", params={"limit": 200}).json()["items"])


def assert_refused(response: Any, status: int = 422, slug: str = "validation-error") -> None:
    body = assert_problem(response, status, slug)
    assert body["request_id"] == response.headers["x-request-id"]
    assert len(response.content) < 20_000, "a refusal must stay small"


# Times whose offset would carry them past the calendar, or far outside the service's range.
OVERFLOWING_TIMES = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59+00:00",
    "1969-12-31T23:59:59+00:00",
    "2101-01-01T00:00:00Z",
]


@pytest.mark.parametrize("moment", OVERFLOWING_TIMES)
def test_times_at_the_edges_of_the_calendar_are_refused_everywhere(
    client: TestClient, account: dict[str, Any], moment: str
) -> None:
    assert_refused(create_post(client, account["id"], "Edge of time", scheduled_at=moment))
    local = moment[:19]
    assert_refused(
        create_post(client, account["id"], "Local edge", local_time=local, time_zone="Etc/GMT+12")
    )
    draft = create_post(client, account["id"], "A draft to move").json()
    etag = client.get(f"/api/v1/posts/{draft['id']}").headers["etag"]
    assert_refused(
        client.patch(
            f"/api/v1/posts/{draft['id']}",
            json={"scheduled_at": moment},
            headers={"If-Match": etag},
        )
    )
    assert_refused(
        client.post(f"/api/v1/posts/{draft['id']}/schedule", json={"scheduled_at": moment})
    )
    for listing in ("/api/v1/posts", "/api/v1/publish-log"):
        for bound in ("from", "to"):
            assert_refused(client.get(listing, params={bound: moment}))
    assert client.get(f"/api/v1/posts/{draft['id']}").json()["state"] == "draft"
    assert post_count(client) == 1


def test_a_schedule_more_than_ten_years_ahead_is_refused(
    client: TestClient, account: dict[str, Any]
) -> None:
    far = (datetime.now(UTC) + timedelta(days=3660)).isoformat()
    body = assert_problem(
        create_post(client, account["id"], "Far", scheduled_at=far), 422, "validation-error"
    )
    assert body["errors"][0]["code"] == "time-too-far"
    near = (datetime.now(UTC) + timedelta(days=3640)).isoformat()
    assert (
        create_post(client, account["id"], "Nine and a half years", scheduled_at=near).status_code
        == 201
    )


def test_a_past_local_time_names_local_time(client: TestClient, account: dict[str, Any]) -> None:
    response = create_post(
        client,
        account["id"],
        "Yesterday",
        local_time="2020-01-01T07:30:00",
        time_zone="Europe/Helsinki",
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "local_time"


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ufffe"])
def test_control_characters_are_refused_in_every_text_field(
    client: TestClient, account: dict[str, Any], character: str
) -> None:
    bad = f"Hello{character}world"
    assert_refused(create_post(client, account["id"], bad))
    assert_refused(create_post(client, account["id"], "Fine text", title=bad))
    assert_refused(
        client.post(
            "/api/v1/accounts",
            json={"network": "x", "handle": bad, "purpose": "p", "audience": "a"},
        )
    )
    assert_refused(client.post("/api/v1/strategy/goals", json={"name": bad}))
    assert_refused(client.post("/api/v1/tokens", json={"name": bad}))
    assert post_count(client) == 0
    assert len(client.get("/api/v1/accounts").json()) == 1


def test_an_unpaired_surrogate_is_refused_not_stored(
    client: TestClient, account: dict[str, Any]
) -> None:
    raw = '{"account_id": "' + account["id"] + '", "text": "broken \\ud800 pair"}'
    response = client.post(
        "/api/v1/posts", content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert_refused(response)
    assert post_count(client) == 0


def test_line_breaks_and_tabs_stay_and_crlf_becomes_lf(
    client: TestClient, account: dict[str, Any]
) -> None:
    response = create_post(client, account["id"], "First line\r\nsecond\tline\rthird")
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "First line\nsecond\tline\nthird"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/posts", {"text": "Now!", "publish_now": "yes"}),
        ("/api/v1/posts", {"text": "Now!", "publish_now": 1}),
        ("/api/v1/tokens", {"name": "script", "expires_in_days": "5"}),
        ("/api/v1/tokens", {"name": "script", "expires_in_days": 5.0}),
    ],
)
def test_booleans_and_integers_are_strict(
    client: TestClient, account: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    if path == "/api/v1/posts":
        body = {**body, "account_id": account["id"]}
    assert_refused(client.post(path, json=body))
    assert post_count(client) == 0
    assert client.get("/api/v1/tokens").json() == []


def test_strategy_flags_are_strict(client: TestClient) -> None:
    assert_refused(client.patch("/api/v1/strategy", json={"require_goal": 0}))
    assert_refused(client.patch("/api/v1/strategy", json={"review_interval_months": "6"}))
    assert client.patch("/api/v1/strategy", json={"require_goal": False}).status_code == 200


def test_thousands_of_keys_get_a_small_refusal(client: TestClient) -> None:
    many = {f"key{n}": n for n in range(60_000)}
    for path in ("/api/v1/posts", "/api/v1/auth/login"):
        response = client.post(path, json=many)
        assert_refused(response, 413, "body-too-complex")


def test_deep_nesting_is_refused(client: TestClient) -> None:
    deep = "[" * 5000 + "]" * 5000
    response = client.post(
        "/api/v1/posts", content=deep.encode(), headers={"content-type": "application/json"}
    )
    assert_refused(response, 413, "body-too-complex")


def test_many_field_errors_are_summarised_not_listed_in_full(client: TestClient) -> None:
    goals = [{"name": ""} for _ in range(500)]
    response = client.post("/api/v1/strategy/goals", json=goals)
    body = assert_problem(response, 422, "validation-error")
    assert len(body["errors"]) <= 20


def test_control_characters_in_the_path_or_query_are_refused(
    client: TestClient, account: dict[str, Any]
) -> None:
    assert_refused(client.get("/api/v1/posts/abc%00def"), 400, "malformed-request")
    assert_refused(
        client.get("/api/v1/posts", params={"account_id": "a\x00b"}), 400, "malformed-request"
    )
    assert_refused(client.get("/api/v1/accounts/%0A"), 400, "malformed-request")


def test_too_many_headers_are_refused(client: TestClient) -> None:
    headers = {f"x-filler-{n}": "1" for n in range(100)}
    assert_refused(client.get("/api/v1/me", headers=headers), 431, "headers-too-large")


def test_a_body_over_the_limit_is_refused(client: TestClient, account: dict[str, Any]) -> None:
    huge = json.dumps({"account_id": account["id"], "text": "x" * 2_000_000})
    response = client.post(
        "/api/v1/posts", content=huge, headers={"content-type": "application/json"}
    )
    assert_refused(response, 413, "body-too-large")
    assert post_count(client) == 0


def test_an_unhandled_error_is_a_problem_with_the_request_id(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.posts import service as posts

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(posts, "create", broken)
    client = make_client(dispatch=False)
    account = create_account(client, "mastodon", base_url="https://example.social")
    response = create_post(client, account["id"], "Trigger the bug", scheduled_at=in_seconds(60))
    body = assert_problem(response, 500, "internal-error")
    assert body["request_id"] == response.headers["x-request-id"]
    assert "a bug" not in response.text  # no internals leak to the client
    assert response.headers["content-security-policy"]


def test_a_busy_process_sheds_load_and_keeps_a_lane_for_waiting_requests(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One request computing at a time: another gets a quick 503 with Retry-After, while a
    request of the waiting lane (one that mostly waits on another server) still gets in."""
    import threading
    import time

    from service.posts import repository as posts_repository

    started = threading.Event()
    original = posts_repository.list_page

    def slow_list(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(1.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(posts_repository, "list_page", slow_list)
    client = make_client(dispatch=False, max_concurrent_requests=1, request_queue_seconds=0)
    slow: list[int] = []
    thread = threading.Thread(target=lambda: slow.append(client.get("/api/v1/posts").status_code))
    thread.start()
    assert started.wait(5)
    shed = client.get("/api/v1/strategy")
    assert_problem(shed, 503, "overloaded")
    assert shed.headers["retry-after"] == "1"
    assert client.get("/api/v1/accounts").status_code == 200  # the waiting lane
    thread.join()
    assert slow == [200]
