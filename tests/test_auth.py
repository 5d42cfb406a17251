"""Authentication, isolation between users, and the hardening around them."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AppFactory, TokenFactory
from tests.support.api import assert_problem, create_account, create_post, in_seconds, wait_for

PASSWORD = "tester-password-123"  # what the user_token fixture gives user "tester"


@pytest.fixture
def anonymous(make_client: AppFactory, user_token: TokenFactory) -> TestClient:
    user_token("tester")  # the user exists; this client has no token
    return make_client(dispatch=False, as_user=None)


def test_exactly_the_operations_the_document_secures_require_a_token(
    anonymous: TestClient,
) -> None:
    spec = anonymous.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    public = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            url = path.replace("{", "").replace("}", "")
            response = anonymous.request(method.upper(), url, json={})
            if operation.get("security") == [{"bearer": []}]:
                if method == "head":  # an answer to HEAD has no body (tus: the upload's offset)
                    assert response.status_code == 401
                else:
                    assert_problem(response, 401, "unauthenticated")
                assert response.headers["www-authenticate"].startswith("Bearer")
            else:
                public.append(path)
                assert response.status_code != 401, path
    # The calendar feed is read by calendar applications, which send no token: the secret in
    # its address is the key (tests/test_calendar_feed.py).
    assert sorted(set(public)) == [
        "/api/v1/auth/login",
        "/api/v1/feeds/calendar/{secret}.ics",
        "/healthz",
        "/readyz",
    ]


def test_login_logout_and_me(anonymous: TestClient) -> None:
    wrong = anonymous.post("/api/v1/auth/login", json={"username": "tester", "password": "nope"})
    assert_problem(wrong, 401, "invalid-credentials")
    unknown = anonymous.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert_problem(unknown, 401, "invalid-credentials")
    assert wrong.json()["detail"] == unknown.json()["detail"]  # no hint which one was wrong

    ok = anonymous.post("/api/v1/auth/login", json={"username": "TESTER", "password": PASSWORD})
    assert ok.status_code == 200
    token = ok.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/v1/me", headers=headers).json()["username"] == "tester"
    assert anonymous.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert_problem(anonymous.get("/api/v1/me", headers=headers), 401, "unauthenticated")


def test_repeated_failures_slow_the_login_down(make_client: AppFactory, user_token) -> None:
    user_token("tester")
    client = make_client(dispatch=False, as_user=None, login_max_failures=3, login_delay_seconds=30)
    for _ in range(3):
        bad = client.post("/api/v1/auth/login", json={"username": "tester", "password": "x"})
        assert bad.status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "tester", "password": PASSWORD})
    assert_problem(locked, 429, "login-throttled")
    assert 1 <= int(locked.headers["retry-after"]) <= 30


def test_the_login_delay_grows_but_never_past_its_cap(make_client: AppFactory, user_token) -> None:
    """Anyone can make the owner wait, but never longer than the stated maximum."""
    user_token("tester")
    client = make_client(
        dispatch=False,
        as_user=None,
        login_max_failures=1,
        login_delay_seconds=1,
        login_max_delay_seconds=2,
    )
    wrong = {"username": "tester", "password": "wrong"}
    waits = []
    for _ in range(3):
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
        refused = client.post("/api/v1/auth/login", json=wrong)  # at once: refused unchecked
        assert_problem(refused, 429, "login-throttled")
        waits.append(int(refused.headers["retry-after"]))
        time.sleep(waits[-1])
    assert waits == [1, 2, 2]  # doubling, then held at the cap
    ok = client.post("/api/v1/auth/login", json={"username": "tester", "password": PASSWORD})
    assert ok.status_code == 200, ok.text


def test_a_successful_login_does_not_count_against_the_address(
    make_client: AppFactory, user_token
) -> None:
    """An office behind one address logs in all day: only failures may slow it down."""
    user_token("tester")
    client = make_client(dispatch=False, as_user=None, login_max_failures=2)
    for _ in range(6):
        ok = client.post("/api/v1/auth/login", json={"username": "tester", "password": PASSWORD})
        assert ok.status_code == 200, ok.text


def test_personal_tokens_are_shown_once_and_revocable(client: TestClient) -> None:
    created = client.post("/api/v1/tokens", json={"name": "backup script"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("hp_") and len(token) > 40
    listed = client.get("/api/v1/tokens").json()
    assert [t["name"] for t in listed] == ["backup script"]
    assert "token" not in listed[0]
    assert listed[0]["last_used_at"] is None

    script = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts", headers=script).status_code == 200
    assert client.get("/api/v1/tokens").json()[0]["last_used_at"] is not None

    assert client.delete(f"/api/v1/tokens/{listed[0]['id']}").status_code == 204
    assert_problem(client.get("/api/v1/accounts", headers=script), 401, "unauthenticated")
    assert client.get("/api/v1/tokens").json() == []


def test_one_user_never_sees_or_touches_anothers_things(make_client: AppFactory) -> None:
    ada = make_client(as_user="ada")
    bob = make_client(dispatch=False, as_user="bob")
    mastodon = create_account(ada, "mastodon")
    linkedin = create_account(ada, "linkedin")
    post = create_post(ada, mastodon["id"], "Ada's own words for the fediverse", publish_now=True)
    post_id = post.json()["id"]
    draft = create_post(ada, linkedin["id"], "Ada's draft for colleagues").json()
    wait_for(lambda: ada.get(f"/api/v1/posts/{post_id}").json()["state"] == "published")
    goal = ada.post("/api/v1/strategy/goals", json={"name": "Build relationships"}).json()
    token = ada.post("/api/v1/tokens", json={"name": "ada's script"}).json()

    for method, url, body in [
        ("GET", f"/api/v1/accounts/{mastodon['id']}", None),
        ("PATCH", f"/api/v1/accounts/{mastodon['id']}", {"purpose": "mine now"}),
        ("DELETE", f"/api/v1/accounts/{linkedin['id']}", None),
        ("GET", f"/api/v1/posts/{post_id}", None),
        ("PATCH", f"/api/v1/posts/{draft['id']}", {"text": "hijacked"}),
        ("POST", f"/api/v1/posts/{draft['id']}/schedule", {"scheduled_at": in_seconds(60)}),
        ("POST", f"/api/v1/posts/{draft['id']}/unschedule", None),
        ("POST", f"/api/v1/posts/{draft['id']}/cancel", None),
        ("POST", f"/api/v1/posts/{post_id}/copy", {"account_id": linkedin["id"]}),
        ("GET", f"/api/v1/posts/{post_id}/attempts", None),
        ("POST", "/api/v1/posts", {"account_id": mastodon["id"], "text": "Bob writes as Ada"}),
        ("POST", "/api/v1/posts/preview", {"account_id": mastodon["id"], "text": "Peek"}),
        ("POST", f"/api/v1/posts/{post_id}/resolve", {"outcome": "requeue"}),
        ("PATCH", f"/api/v1/strategy/goals/{goal['id']}", {"name": "Bob's now"}),
        ("DELETE", f"/api/v1/strategy/goals/{goal['id']}", None),
        ("DELETE", f"/api/v1/tokens/{token['id']}", None),
    ]:
        headers = {"If-Match": '"1"'} if method == "PATCH" else {}
        response = bob.request(method, url, json=body, headers=headers)
        assert_problem(response, 404, "not-found")

    assert bob.get("/api/v1/accounts").json() == []
    assert bob.get("/api/v1/posts").json()["items"] == []
    assert bob.get("/api/v1/publish-log").json()["items"] == []
    assert (
        bob.get("/api/v1/publish-log", params={"account_id": mastodon["id"]}).json()["items"] == []
    )
    # Nothing changed for Ada.
    assert ada.get(f"/api/v1/posts/{draft['id']}").json()["text"] == "Ada's draft for colleagues"
    assert len(ada.get("/api/v1/accounts").json()) == 2
    assert [g["name"] for g in ada.get("/api/v1/strategy/goals").json()] == ["Build relationships"]
    assert bob.get("/api/v1/strategy").json()["goals"] == []
    assert [t["name"] for t in ada.get("/api/v1/tokens").json()] == ["ada's script"]


def test_the_guard_compares_only_a_users_own_posts(make_client: AppFactory) -> None:
    ada = make_client(dispatch=False, as_user="ada")
    bob = make_client(dispatch=False, as_user="bob")
    text = "Our neighbourhood cleanup is on Saturday at ten, bring gloves"
    create_post(ada, create_account(ada, "facebook", "1")["id"], text)
    assert create_post(bob, create_account(bob, "x")["id"], text).status_code == 201


def test_security_headers_and_no_caching_of_api_responses(client: TestClient) -> None:
    response = client.get("/api/v1/accounts")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_cors_allows_only_configured_origins(make_client: AppFactory) -> None:
    client = make_client(dispatch=False, cors_origins=["https://handpost.example"])
    allowed = client.options(
        "/api/v1/accounts",
        headers={"Origin": "https://handpost.example", "Access-Control-Request-Method": "GET"},
    )
    assert allowed.headers["access-control-allow-origin"] == "https://handpost.example"
    other = client.get("/api/v1/accounts", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    account = create_account(client, "facebook", "7")
    huge = {"account_id": account["id"], "text": "a" * 2_000_000}
    assert_problem(client.post("/api/v1/posts", json=huge), 413, "body-too-large")

    def chunks():
        for _ in range(300):
            yield b"x" * 8192

    streamed = client.post(
        "/api/v1/posts", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413, "body-too-large")
    assert client.get("/api/v1/posts").json()["items"] == []


def test_no_secret_appears_in_any_response_or_log_line(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(as_user=None)
    responses = []  # every response that must not carry any secret
    password = "planted-password-Zq81"
    from tests.support.server import create_user_with_cli

    create_user_with_cli(str(client.app.state.settings.database_url), "eve", password)
    login = client.post("/api/v1/auth/login", json={"username": "eve", "password": password})
    session_token = login.json()["access_token"]
    client.headers["Authorization"] = f"Bearer {session_token}"
    created = client.post("/api/v1/tokens", json={"name": "planted"})
    personal = created.json()["token"]
    client.headers["Authorization"] = f"Bearer {personal}"
    account = create_account(client, "mastodon")
    responses.append(client.get("/api/v1/accounts"))
    post = create_post(client, account["id"], "Secrets stay secret", publish_now=True).json()
    wait_for(lambda: client.get(f"/api/v1/posts/{post['id']}").json()["state"] == "published")
    responses += [
        client.get("/api/v1/publish-log"),
        client.get("/api/v1/tokens"),
        client.get("/api/v1/me"),
        client.post("/api/v1/auth/login", json={"username": "eve", "password": password + "x"}),
    ]
    for secret in (password, session_token, personal):
        for response in responses:
            assert secret not in response.text
        for record in caplog.records:
            assert secret not in record.getMessage()
    # Each token is shown exactly once: in the response that issued it.
    assert session_token in login.text and personal not in login.text
    assert personal in created.text and session_token not in created.text
    assert password not in login.text + created.text
