"""Tests of the network emulator itself, over real HTTP with httpx."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.emulator import ALL_NETWORKS, NETWORKS, EmulatorError, EmulatorServer

pytest_plugins = ["tests.emulator.fixtures"]

LINKEDIN_HEADERS = {"LinkedIn-Version": "202601", "X-Restli-Protocol-Version": "2.0.0"}
SHORT_TIMEOUT = 0.25


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def jwt_payload(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def linkedin_body(author: str, commentary: str) -> dict[str, Any]:
    return {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def bluesky_record(text: str) -> dict[str, Any]:
    return {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-01-31T12:00:00.000Z"}


@dataclass
class Publisher:
    """One registered account per network and the call that creates a post on it."""

    em: EmulatorServer
    http: httpx.Client
    network: str
    account: dict[str, Any]

    @property
    def base(self) -> str:
        return self.em.url_for(self.network)

    @property
    def token(self) -> str:
        return str(self.account["access_token"])

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def create(self, text: str, timeout: float = 5.0) -> httpx.Response:
        n, base = self.network, self.base
        if n == "x":
            return self.http.post(
                f"{base}/2/tweets", json={"text": text}, headers=self.auth, timeout=timeout
            )
        if n == "linkedin":
            return self.http.post(
                f"{base}/rest/posts",
                json=linkedin_body(self.account["author"], text),
                headers={**self.auth, **LINKEDIN_HEADERS},
                timeout=timeout,
            )
        if n == "facebook":
            return self.http.post(
                f"{base}/v24.0/{self.account['account']}/feed",
                data={"message": text, "access_token": self.token},
                timeout=timeout,
            )
        if n == "mastodon":
            return self.http.post(
                f"{base}/api/v1/statuses", data={"status": text}, headers=self.auth, timeout=timeout
            )
        if n == "bluesky":
            body = {
                "repo": self.account["account"],
                "collection": "app.bsky.feed.post",
                "record": bluesky_record(text),
            }
            return self.http.post(
                f"{base}/xrpc/com.atproto.repo.createRecord",
                json=body,
                headers=self.auth,
                timeout=timeout,
            )
        container = self.http.post(
            f"{base}/v1.0/{self.account['account']}/threads",
            data={"media_type": "TEXT", "text": text, "access_token": self.token},
        )
        assert container.status_code == 200, container.text
        return self.http.post(
            f"{base}/v1.0/{self.account['account']}/threads_publish",
            params={"creation_id": container.json()["id"], "access_token": self.token},
            timeout=timeout,
        )


def register(em: EmulatorServer, network: str, **fields: Any) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {
        "x": {"username": "alice", "user_id": "2244994945", "access_token": "x-token"},
        "linkedin": {"user_id": "abc123", "access_token": "li-token"},
        "facebook": {"page_id": "101234567890123", "name": "Page", "access_token": "fb-token"},
        "mastodon": {"username": "alice", "access_token": "masto-token"},
        "bluesky": {"handle": "alice.bsky.social", "did": "did:plc:alice", "app_password": "pw"},
        "threads": {"username": "alice", "user_id": "17841400000000001", "access_token": "th"},
    }
    return em.register_account(network, **{**defaults[network], **fields})


@pytest.fixture
def pub(network: EmulatorServer, http: httpx.Client, request: pytest.FixtureRequest) -> Publisher:
    name = request.param
    return Publisher(network, http, name, register(network, name))


def ok_status(network: str) -> int:
    return 201 if network in ("x", "linkedin") else 200


def error_shape_ok(network: str, body: Any) -> bool:
    if network == "x":
        return {"title", "detail", "type", "status"} <= set(body)
    if network == "linkedin":
        return "status" in body and "message" in body
    if network in ("facebook", "threads"):
        return {"message", "type", "code", "fbtrace_id"} <= set(body["error"])
    if network == "mastodon":
        return set(body) == {"error"}
    return {"error", "message"} <= set(body)


# --- basics ------------------------------------------------------------------------------------


def test_health_and_urls(network: EmulatorServer, http: httpx.Client) -> None:
    assert network.health()["networks"] == list(ALL_NETWORKS)
    assert network.url_for("mastodon") == f"{network.base_url}/mastodon"
    index = http.get(network.base_url + "/").json()
    assert index["networks"]["bluesky"] == network.url_for("bluesky")
    with pytest.raises(ValueError):
        network.url_for("myspace")


def test_unknown_path_is_recorded(network: EmulatorServer, http: httpx.Client) -> None:
    response = http.get(network.url_for("mastodon") + "/api/v1/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}
    assert network.received("mastodon")[0]["endpoint"] == "unknown"


def test_reset_forgets_everything(network: EmulatorServer) -> None:
    pub = Publisher(network, httpx.Client(), "x", register(network, "x"))
    assert pub.create("before reset").status_code == 201
    network.inject_fault("x", kind="status", status=503)
    network.set_latency(5)
    network.reset()
    assert network.posts() == []
    assert network.received() == []
    assert network.faults() == []
    assert network.accounts() == []
    pub.http.close()


# --- X -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pub", ["x"], indirect=True)
def test_x_happy_path(pub: Publisher) -> None:
    response = pub.create("Hello from Handpost")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["text"] == "Hello from Handpost"
    assert data["id"].isdigit() and data["edit_history_tweet_ids"] == [data["id"]]
    reset_at = int(response.headers["x-rate-limit-reset"])
    assert response.headers["x-rate-limit-remaining"] == "99"
    assert time.time() < reset_at <= time.time() + 15 * 60 + 1

    me = pub.http.get(f"{pub.base}/2/users/me", headers=pub.auth).json()["data"]
    assert me == {"id": "2244994945", "name": "alice", "username": "alice"}
    [post] = pub.em.posts("x")
    assert post["id"] == data["id"]
    assert post["url"] == f"https://x.com/alice/status/{data['id']}"
    timeline = pub.http.get(f"{pub.base}/2/users/2244994945/tweets", headers=pub.auth).json()
    assert [t["id"] for t in timeline["data"]] == [data["id"]]


@pytest.mark.parametrize("pub", ["x"], indirect=True)
def test_x_rejects_bad_token_duplicates_and_long_text(pub: Publisher) -> None:
    response = pub.http.post(
        f"{pub.base}/2/tweets", json={"text": "hi"}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    assert pub.create("same text").status_code == 201
    duplicate = pub.create("same text")
    assert duplicate.status_code == 403
    assert duplicate.json()["detail"] == (
        "You are not allowed to create a Tweet with duplicate content."
    )
    # CJK weighs 2: 140 characters fit in 280, 141 do not.
    assert pub.create("字" * 140).status_code == 201
    assert pub.create("字" * 141).status_code == 403
    assert len(pub.em.posts("x")) == 2


def test_x_refresh_rotation(network: EmulatorServer, http: httpx.Client) -> None:
    account = register(network, "x", refresh_token="x-refresh-1")
    url = network.url_for("x") + "/2/oauth2/token"
    form = {"grant_type": "refresh_token", "refresh_token": "x-refresh-1", "client_id": "cid"}
    refreshed = http.post(url, data=form)
    assert refreshed.status_code == 200
    tokens = refreshed.json()
    assert tokens["expires_in"] == 7200 and tokens["refresh_token"] != "x-refresh-1"
    reused = http.post(url, data=form)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_request"
    me = http.get(
        network.url_for("x") + "/2/users/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert me.json()["data"]["id"] == account["account"]
    no_client = http.post(
        url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert no_client.status_code == 400
    basic = base64.b64encode(b"cid:secret").decode()
    with_basic = http.post(
        url,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert with_basic.status_code == 200


# --- LinkedIn ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pub", ["linkedin"], indirect=True)
def test_linkedin_happy_path_and_duplicate(pub: Publisher) -> None:
    response = pub.create("Hand-written post")
    assert response.status_code == 201
    assert response.content == b""
    urn = response.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:") and urn.removeprefix("urn:li:share:").isdigit()
    [post] = pub.em.posts("linkedin")
    assert post["id"] == urn
    assert post["url"] == f"https://www.linkedin.com/feed/update/{urn}/"
    assert post["details"]["author"] == "urn:li:person:abc123"

    duplicate = pub.create("Hand-written post")
    assert duplicate.status_code == 422
    assert duplicate.json()["code"] == "DUPLICATE_POST"
    assert duplicate.json()["message"] == f"Content is a duplicate of {urn}"
    assert len(pub.em.posts("linkedin")) == 1


@pytest.mark.parametrize("pub", ["linkedin"], indirect=True)
def test_linkedin_headers_auth_and_author(pub: Publisher) -> None:
    url = f"{pub.base}/rest/posts"
    body = linkedin_body("urn:li:person:abc123", "text")
    old = pub.http.post(
        url, json=body, headers={**pub.auth, **LINKEDIN_HEADERS, "LinkedIn-Version": "202504"}
    )
    assert old.status_code == 426
    assert old.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": "Requested version 20250401 is not active",
    }
    missing = pub.http.post(
        url, json=body, headers={**pub.auth, "X-Restli-Protocol-Version": "2.0.0"}
    )
    assert missing.status_code == 400 and missing.json()["code"] == "VERSION_MISSING"
    no_restli = pub.http.post(url, json=body, headers={**pub.auth, "LinkedIn-Version": "202601"})
    assert no_restli.status_code == 400
    bad = pub.http.post(
        url, json=body, headers={"Authorization": "Bearer nope", **LINKEDIN_HEADERS}
    )
    assert bad.status_code == 401 and bad.json()["serviceErrorCode"] == 65600
    other = linkedin_body("urn:li:organization:999", "text")
    assert pub.http.post(url, json=other, headers={**pub.auth, **LINKEDIN_HEADERS}).status_code == (
        403
    )
    pub.em.configure(linkedin_active_versions=["202512"])
    assert pub.create("text").status_code == 426
    assert pub.em.posts() == []


@pytest.mark.parametrize("pub", ["linkedin"], indirect=True)
def test_linkedin_little_text_rendering(pub: Publisher) -> None:
    assert pub.create("Read this (really) #python").status_code == 201
    assert pub.create("Read this \\(really\\) #python https://example.com/a_b").status_code == 201
    truncated, escaped = pub.em.posts("linkedin")
    assert truncated["details"]["rendered_text"] == "Read this "
    assert truncated["details"]["truncated"] is True
    assert (
        escaped["details"]["rendered_text"] == "Read this (really) #python https://example.com/a_b"
    )
    assert escaped["details"]["truncated"] is False


def test_linkedin_refresh_keeps_refresh_token(network: EmulatorServer, http: httpx.Client) -> None:
    register(network, "linkedin", refresh_token="li-refresh", refresh_token_expires_in=1000)
    response = http.post(
        network.url_for("linkedin") + "/oauth/v2/accessToken",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "li-refresh",
            "client_id": "c",
            "client_secret": "s",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["refresh_token"] == "li-refresh"
    assert 990 <= body["refresh_token_expires_in"] <= 1000
    assert body["access_token"] != "li-token"


# --- Facebook ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pub", ["facebook"], indirect=True)
def test_facebook_happy_path(pub: Publisher) -> None:
    page = pub.account["account"]
    response = pub.http.post(
        f"{pub.base}/v24.0/{page}/feed",
        params={"fields": "id,permalink_url"},
        data={"message": "Hello page", "access_token": pub.token},
    )
    assert response.status_code == 200
    body = response.json()
    page_part, post_part = body["id"].split("_")
    assert page_part == page and post_part.isdigit()
    assert body["permalink_url"] == f"https://www.facebook.com/{page}/posts/{post_part}"
    usage = json.loads(response.headers["x-business-use-case-usage"])
    assert usage[page][0]["type"] == "pages"

    as_json = pub.http.post(
        f"{pub.base}/v25.0/{page}/feed", json={"message": "JSON body", "access_token": pub.token}
    )
    assert set(as_json.json()) == {"id"}
    as_header = pub.http.post(
        f"{pub.base}/v25.0/{page}/feed", data={"message": "Header token"}, headers=pub.auth
    )
    assert as_header.status_code == 200

    read = pub.http.get(
        f"{pub.base}/v24.0/{body['id']}",
        params={"fields": "permalink_url", "access_token": pub.token},
    )
    assert read.json() == {"id": body["id"], "permalink_url": body["permalink_url"]}
    assert pub.em.posts("facebook")[0]["url"] == body["permalink_url"]


@pytest.mark.parametrize("pub", ["facebook"], indirect=True)
def test_facebook_errors(pub: Publisher) -> None:
    assert pub.create("Same").status_code == 200
    duplicate = pub.create("Same")
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["code"] == 506
    assert pub.create("Different").status_code == 200
    assert pub.create("Same").status_code == 200  # only consecutive repeats are refused

    bad = pub.http.post(
        f"{pub.base}/v24.0/{pub.account['account']}/feed",
        data={"message": "x", "access_token": "nope"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == 190 and bad.json()["error"]["type"] == "OAuthException"
    other_page = pub.http.post(
        f"{pub.base}/v24.0/999/feed", data={"message": "x", "access_token": pub.token}
    )
    assert other_page.json()["error"]["code"] == 200
    missing = pub.http.get(f"{pub.base}/v24.0/1_2", params={"access_token": pub.token})
    assert missing.json()["error"]["code"] == 100
    assert len(pub.em.posts("facebook")) == 3


# --- Mastodon ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pub", ["mastodon"], indirect=True)
def test_mastodon_happy_path(pub: Publisher) -> None:
    response = pub.create("Hello\n\nhttps://example.com/x & more")
    assert response.status_code == 200
    status = response.json()
    assert status["url"] == f"{pub.base}/@alice/{status['id']}"
    assert status["uri"] == f"{pub.base}/users/alice/statuses/{status['id']}"
    assert status["visibility"] == "public"
    assert status["content"].startswith("<p>Hello</p><p><a href=")
    assert "&amp; more" in status["content"]
    assert datetime.fromisoformat(status["created_at"])
    reset = datetime.fromisoformat(response.headers["x-ratelimit-reset"])
    assert reset.timestamp() > time.time()
    assert response.headers["x-ratelimit-limit"] == "300"

    as_json = pub.http.post(
        f"{pub.base}/api/v1/statuses",
        json={"status": "JSON", "visibility": "unlisted", "language": "en"},
        headers=pub.auth,
    )
    assert as_json.json()["visibility"] == "unlisted"
    fetched = pub.http.get(f"{pub.base}/api/v1/statuses/{status['id']}")
    assert fetched.json()["id"] == status["id"]
    instance = pub.http.get(f"{pub.base}/api/v2/instance").json()
    assert instance["configuration"]["statuses"]["max_characters"] == 500
    assert instance["configuration"]["statuses"]["characters_reserved_per_url"] == 23
    assert pub.em.posts("mastodon")[0]["url"] == status["url"]


@pytest.mark.parametrize("pub", ["mastodon"], indirect=True)
def test_mastodon_idempotency(pub: Publisher) -> None:
    url = f"{pub.base}/api/v1/statuses"
    headers = {**pub.auth, "Idempotency-Key": "attempt-1"}
    first = pub.http.post(url, data={"status": "Once"}, headers=headers)
    again = pub.http.post(url, data={"status": "Once, edited"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    [post] = pub.em.posts("mastodon")
    assert post["idempotency_key"] == "attempt-1"

    other = register(pub.em, "mastodon", username="bob", access_token="bob-token")
    bobs = pub.http.post(
        url,
        data={"status": "Once"},
        headers={
            "Authorization": f"Bearer {other['access_token']}",
            "Idempotency-Key": "attempt-1",
        },
    )
    assert bobs.json()["id"] != first.json()["id"]
    pub.em.advance_clock(3601)
    later = pub.http.post(url, data={"status": "Once more"}, headers=headers)
    assert later.json()["id"] != first.json()["id"]
    assert len(pub.em.posts("mastodon")) == 3


@pytest.mark.parametrize("pub", ["mastodon"], indirect=True)
def test_mastodon_validation_and_auth(pub: Publisher) -> None:
    blank = pub.create("   ")
    assert blank.status_code == 422
    assert blank.json() == {"error": "Validation failed: Text can't be blank"}
    assert pub.create("👍🏽" * 500).status_code == 200  # graphemes, not code points
    too_long = pub.create("a" * 501)
    assert too_long.status_code == 422
    assert "character limit of 500" in too_long.json()["error"]
    url = "https://example.com/" + "p" * 200
    assert pub.create("b" * 476 + " " + url).status_code == 200  # a URL counts 23
    bad = pub.http.post(
        f"{pub.base}/api/v1/statuses", data={"status": "x"}, headers={"Authorization": "Bearer no"}
    )
    assert bad.status_code == 401
    assert bad.json() == {"error": "The access token is invalid"}
    pub.em.revoke_token("mastodon", pub.token)
    assert pub.create("after revoke").status_code == 401
    assert len(pub.em.posts("mastodon")) == 2


# --- Bluesky -----------------------------------------------------------------------------------


def bluesky_login(em: EmulatorServer, http: httpx.Client) -> dict[str, Any]:
    response = http.post(
        em.url_for("bluesky") + "/xrpc/com.atproto.server.createSession",
        json={"identifier": "alice.bsky.social", "password": "pw"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_bluesky_session_and_post(network: EmulatorServer, http: httpx.Client) -> None:
    register(network, "bluesky")
    session = bluesky_login(network, http)
    assert session["did"] == "did:plc:alice" and session["handle"] == "alice.bsky.social"
    access = jwt_payload(session["accessJwt"])
    assert access["sub"] == "did:plc:alice"
    assert 7100 < access["exp"] - time.time() < 7300
    assert jwt_payload(session["refreshJwt"])["exp"] - time.time() > 80 * 86400
    auth = {"Authorization": f"Bearer {session['accessJwt']}"}
    base = network.url_for("bluesky")
    created = []
    for i in range(3):
        response = http.post(
            base + "/xrpc/com.atproto.repo.createRecord",
            json={
                "repo": "did:plc:alice",
                "collection": "app.bsky.feed.post",
                "record": bluesky_record(f"post {i}"),
            },
            headers=auth,
        )
        assert response.status_code == 200
        created.append(response.json())
    first = created[0]
    assert first["uri"].startswith("at://did:plc:alice/app.bsky.feed.post/")
    assert first["cid"].startswith("bafyrei")
    assert set(first["commit"]) == {"cid", "rev"} and first["validationStatus"] == "valid"
    assert int(response.headers["ratelimit-remaining"]) == 5000 - 9
    assert response.headers["ratelimit-policy"] == "5000;w=3600"
    rkey = first["uri"].rsplit("/", 1)[1]
    assert network.posts("bluesky")[0]["url"] == (
        f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"
    )
    record = http.get(
        base + "/xrpc/com.atproto.repo.getRecord",
        params={"repo": "alice.bsky.social", "collection": "app.bsky.feed.post", "rkey": rkey},
    ).json()
    assert record["value"]["text"] == "post 0" and record["cid"] == first["cid"]
    assert network.counts()["bluesky"] == {"create": 3, "create_session": 1, "get": 1}

    missing = http.get(
        base + "/xrpc/com.atproto.repo.getRecord",
        params={"repo": "did:plc:alice", "collection": "app.bsky.feed.post", "rkey": "3zzz"},
    )
    assert missing.status_code == 400 and missing.json()["error"] == "RecordNotFound"
    wrong = http.post(
        base + "/xrpc/com.atproto.server.createSession",
        json={"identifier": "alice.bsky.social", "password": "wrong"},
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "AuthenticationRequired"
    assert wrong.headers["ratelimit-policy"] == "30;w=300"
    assert wrong.headers["ratelimit-remaining"] == "28"


@pytest.mark.parametrize("pub", ["bluesky"], indirect=True)
def test_bluesky_client_rkey_and_validation(pub: Publisher) -> None:
    url = f"{pub.base}/xrpc/com.atproto.repo.createRecord"
    body = {
        "repo": "did:plc:alice",
        "collection": "app.bsky.feed.post",
        "rkey": "3lbgzjyhjxc2a",
        "record": bluesky_record("with my rkey"),
    }
    first = pub.http.post(url, json=body, headers=pub.auth)
    assert first.json()["uri"] == "at://did:plc:alice/app.bsky.feed.post/3lbgzjyhjxc2a"
    # As the reference PDS answers a record key that is taken (tests/realservers).
    again = pub.http.post(url, json=body, headers=pub.auth)
    assert again.status_code == 500 and again.json() == {
        "error": "InternalServerError",
        "message": "Internal Server Error",
    }
    pub.em.configure(bluesky_existing_rkey_status=400)
    older = pub.http.post(url, json=body, headers=pub.auth)
    assert older.status_code == 400 and "already exists" in older.json()["message"]
    assert len(pub.em.posts("bluesky")) == 1

    too_many = pub.create("a" * 301)
    assert too_many.status_code == 400 and too_many.json()["error"] == "InvalidRequest"
    assert "300 graphemes" in too_many.json()["message"]
    assert pub.create("👍🏽" * 300).status_code == 200  # 300 graphemes, 2400 bytes
    too_big = pub.create("👨‍👩‍👧‍👦" * 200)  # 200 graphemes, 5000 bytes
    assert too_big.status_code == 400 and "3000" in too_big.json()["message"]
    bad = pub.http.post(url, json=body, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidToken"
    assert pub.http.post(url, json=body).status_code == 401
    assert len(pub.em.posts("bluesky")) == 2


@pytest.mark.parametrize("pub", ["bluesky"], indirect=True)
def test_bluesky_facets_and_langs_are_checked_as_the_pds_checks_them(pub: Publisher) -> None:
    url = f"{pub.base}/xrpc/com.atproto.repo.createRecord"

    def create(**extra: object) -> httpx.Response:
        record = {**bluesky_record("hello there"), **extra}
        body = {"repo": "did:plc:alice", "collection": "app.bsky.feed.post", "record": record}
        return pub.http.post(url, json=body, headers=pub.auth)

    def facet(feature: dict[str, object], start: int = 0, end: int = 5) -> dict[str, object]:
        return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}

    link = "app.bsky.richtext.facet#link"
    refused = create(facets=[facet({"$type": link, "uri": "https://example.com/a\ufeff"})])
    assert refused.status_code == 400 and "Invalid uri" in refused.json()["message"]
    # U+200B is not JavaScript whitespace: the PDS takes it inside a URI.
    assert create(facets=[facet({"$type": link, "uri": "https://x.com/a\u200b"})]).is_success
    mention = "app.bsky.richtext.facet#mention"
    assert "Invalid DID" in create(facets=[facet({"$type": mention, "did": "alice.test"})]).text
    # Offsets are never checked: past the end and reversed are accepted.
    assert create(facets=[facet({"$type": link, "uri": "https://x.com"}, 90, 3)]).is_success
    assert (
        "maximum 64"
        in create(facets=[facet({"$type": "app.bsky.richtext.facet#tag", "tag": "x" * 65})]).text
    )
    assert create(langs=["en", "fi"]).is_success
    assert "Invalid language" in create(langs=["xx-invalid-!"]).text
    assert "array too big" in create(langs=["en", "fi", "sv", "de"]).text


def test_bluesky_refresh_rotation_and_expiry(network: EmulatorServer, http: httpx.Client) -> None:
    register(network, "bluesky")
    session = bluesky_login(network, http)
    url = network.url_for("bluesky") + "/xrpc/com.atproto.server.refreshSession"
    old_refresh = {"Authorization": f"Bearer {session['refreshJwt']}"}
    refreshed = http.post(url, headers=old_refresh)
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refreshJwt"] != session["refreshJwt"] and new["accessJwt"] != session["accessJwt"]
    reused = http.post(url, headers=old_refresh)
    assert reused.status_code == 400
    assert reused.json() == {"error": "ExpiredToken", "message": "Token has been revoked"}
    assert (
        http.post(url, headers={"Authorization": f"Bearer {new['refreshJwt']}"}).status_code == 200
    )
    with_access = http.post(url, headers={"Authorization": f"Bearer {new['accessJwt']}"})
    assert with_access.json()["error"] == "InvalidToken"

    pub = Publisher(network, http, "bluesky", {"account": "did:plc:alice", **new})
    pub.account["access_token"] = new["accessJwt"]
    network.advance_clock(2 * 3600 + 5)
    expired = pub.create("too late")
    assert expired.status_code == 400
    assert expired.json() == {"error": "ExpiredToken", "message": "Token has expired"}
    assert network.counts()["bluesky"]["create_session"] == 1


# --- Threads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pub", ["threads"], indirect=True)
def test_threads_two_step_publish(pub: Publisher) -> None:
    user = pub.account["account"]
    container = pub.http.post(
        f"{pub.base}/v1.0/{user}/threads",
        params={"media_type": "TEXT", "text": "Hello threads", "access_token": pub.token},
    ).json()["id"]
    status_url = f"{pub.base}/v1.0/{container}"
    params = {"fields": "status", "access_token": pub.token}
    assert pub.http.get(status_url, params=params).json() == {"status": "FINISHED", "id": container}
    published = pub.http.post(
        f"{pub.base}/v1.0/{user}/threads_publish",
        params={"creation_id": container, "access_token": pub.token},
    )
    assert published.status_code == 200
    media = published.json()["id"]
    assert pub.http.get(status_url, params=params).json()["status"] == "PUBLISHED"
    permalink = pub.http.get(
        f"{pub.base}/v1.0/{media}", params={"fields": "permalink", "access_token": pub.token}
    ).json()["permalink"]
    assert permalink.startswith("https://www.threads.net/@alice/post/")
    [post] = pub.em.posts("threads")
    assert post["id"] == media and post["url"] == permalink
    assert post["details"]["container_id"] == container

    twice = pub.http.post(
        f"{pub.base}/v1.0/me/threads_publish",
        params={"creation_id": container, "access_token": pub.token},
    )
    assert twice.status_code == 400
    assert twice.json()["error"]["code"] == 24
    assert twice.json()["error"]["error_subcode"] == 4279009
    assert len(pub.em.posts("threads")) == 1
    no_status = pub.http.get(f"{pub.base}/v1.0/{media}", params=params)
    assert no_status.json()["error"]["message"] == "Tried accessing nonexisting field (status)"
    listed = pub.http.get(
        f"{pub.base}/v1.0/me/threads", params={"fields": "id,text", "access_token": pub.token}
    )
    assert listed.json()["data"] == [{"id": media, "text": "Hello threads"}]


@pytest.mark.parametrize("pub", ["threads"], indirect=True)
def test_threads_limits_auth_refresh_processing(pub: Publisher) -> None:
    user = pub.account["account"]
    url = f"{pub.base}/v1.0/{user}/threads"
    links = " ".join(f"https://example.com/{i}" for i in range(6))
    too_many = pub.http.post(
        url, data={"media_type": "TEXT", "text": links, "access_token": pub.token}
    )
    assert too_many.status_code == 400
    assert "THREADS_API__LINK_LIMIT_EXCEEDED" in too_many.json()["error"]["message"]
    five = " ".join(f"https://example.com/{i}" for i in range(5))
    assert (
        pub.http.post(
            url, data={"media_type": "TEXT", "text": five, "access_token": pub.token}
        ).status_code
        == 200
    )
    long_text = pub.http.post(
        url, data={"media_type": "TEXT", "text": "a" * 501, "access_token": pub.token}
    )
    assert long_text.status_code == 400 and long_text.json()["error"]["code"] == 100
    bad = pub.http.post(url, data={"media_type": "TEXT", "text": "x", "access_token": "nope"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == 190 and bad.json()["error"]["type"] == "OAuthException"

    refreshed = pub.http.get(
        f"{pub.base}/refresh_access_token",
        params={"grant_type": "th_refresh_token", "access_token": pub.token},
    ).json()
    assert refreshed["token_type"] == "bearer" and refreshed["expires_in"] == 60 * 86400
    pub.account["access_token"] = refreshed["access_token"]

    pub.em.configure(threads_processing_s=60)
    container = pub.http.post(
        url, data={"media_type": "TEXT", "text": "slow", "access_token": pub.token}
    ).json()["id"]
    status = pub.http.get(
        f"{pub.base}/v1.0/{container}", params={"fields": "status", "access_token": pub.token}
    )
    assert status.json()["status"] == "IN_PROGRESS"
    early = pub.http.post(
        f"{pub.base}/v1.0/{user}/threads_publish",
        params={"creation_id": container, "access_token": pub.token},
    )
    assert early.json()["error"]["error_subcode"] == 4279009
    pub.em.advance_clock(61)
    assert pub.create("now it is ready").status_code == 400  # new container is IN_PROGRESS too
    later = pub.http.post(
        f"{pub.base}/v1.0/{user}/threads_publish",
        params={"creation_id": container, "access_token": pub.token},
    )
    assert later.status_code == 200
    pub.em.advance_clock(24 * 3600)
    expired = pub.http.get(
        f"{pub.base}/v1.0/{int(container)}", params={"fields": "status", "access_token": pub.token}
    )
    assert expired.json()["status"] == "PUBLISHED"
    assert len(pub.em.posts("threads")) == 1


# --- faults, for every network -----------------------------------------------------------------


@pytest.mark.parametrize("pub", NETWORKS, indirect=True)
def test_fault_status_before_create(pub: Publisher) -> None:
    pub.em.inject_fault(pub.network, "create", "status", status=503)
    response = pub.create("first try")
    assert response.status_code == 503
    assert error_shape_ok(pub.network, response.json())
    assert pub.em.posts() == []
    assert pub.create("second try").status_code == ok_status(pub.network)
    assert len(pub.em.posts()) == 1
    assert pub.em.received(pub.network, "create")[0]["fault"]["kind"] == "status"


def _reset_seconds(network: str, response: httpx.Response) -> float | None:
    now = time.time()
    if network == "x":
        return int(response.headers["x-rate-limit-reset"]) - now
    if network == "mastodon":
        return datetime.fromisoformat(response.headers["x-ratelimit-reset"]).timestamp() - now
    if network == "bluesky":
        return int(response.headers["ratelimit-reset"]) - now
    if network == "facebook":
        usage = json.loads(response.headers["x-business-use-case-usage"])
        [entry] = next(iter(usage.values()))
        return float(entry["estimated_time_to_regain_access"] * 60)
    return None


@pytest.mark.parametrize("pub", NETWORKS, indirect=True)
def test_fault_429_sets_rate_limit_headers(pub: Publisher) -> None:
    pub.em.inject_fault(pub.network, "create", "status", status=429, retry_after_s=42)
    response = pub.create("throttled")
    assert response.status_code == 429
    assert error_shape_ok(pub.network, response.json())
    wait = _reset_seconds(pub.network, response)
    if pub.network == "facebook":
        assert wait == 60 and response.json()["error"]["code"] == 32  # minutes, rounded up
    elif pub.network == "threads":
        assert response.json()["error"]["code"] == 4
    elif pub.network == "linkedin":
        assert response.json()["code"] == "TOO_MANY_REQUESTS"
    else:
        assert wait is not None and 40 <= wait <= 43
    assert pub.em.posts() == []


@pytest.mark.parametrize("pub", NETWORKS, indirect=True)
def test_fault_status_after_create(pub: Publisher) -> None:
    pub.em.inject_fault(pub.network, "create", "status_after_create", status=502)
    response = pub.create("ambiguous")
    assert response.status_code == 502
    [post] = pub.em.posts()
    assert post["text"] == "ambiguous"


@pytest.mark.parametrize("pub", NETWORKS, indirect=True)
def test_fault_timeout_before_create(pub: Publisher) -> None:
    pub.em.inject_fault(pub.network, "create", "timeout_before_create", delay_s=3)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        pub.create("slow", timeout=SHORT_TIMEOUT)
    assert time.monotonic() - started < 2
    assert pub.em.posts() == []
    [entry] = pub.em.received(pub.network, "create")
    assert entry["fault"]["kind"] == "timeout_before_create"


@pytest.mark.parametrize("pub", NETWORKS, indirect=True)
def test_fault_timeout_after_create(pub: Publisher) -> None:
    pub.em.inject_fault(pub.network, "create", "timeout_after_create", delay_s=3)
    with pytest.raises(httpx.ReadTimeout):
        pub.create("slow but done", timeout=SHORT_TIMEOUT)
    [post] = pub.em.posts()
    assert post["text"] == "slow but done"


def test_timeout_before_create_answers_504_to_a_patient_client(network: EmulatorServer) -> None:
    with httpx.Client() as http:
        pub = Publisher(network, http, "mastodon", register(network, "mastodon"))
        network.inject_fault("mastodon", "create", "timeout_before_create", delay_s=0.2)
        response = pub.create("patient")
        assert response.status_code == 504
        assert network.posts() == []


@pytest.mark.parametrize("pub", NETWORKS, indirect=True)
def test_fault_reset_drops_the_connection(pub: Publisher) -> None:
    pub.em.inject_fault(pub.network, "create", "reset")
    with pytest.raises(httpx.ReadError):
        pub.create("never")
    assert pub.em.posts() == []
    assert pub.create("after the reset").status_code == ok_status(pub.network)


@pytest.mark.parametrize("pub", ["mastodon"], indirect=True)
def test_fault_reset_modes_and_after_create(pub: Publisher) -> None:
    pub.em.inject_fault("mastodon", "create", "reset", mode="close")
    with pytest.raises(httpx.RemoteProtocolError):
        pub.create("never")
    pub.em.inject_fault("mastodon", "create", "reset_after_create")
    with pytest.raises(httpx.TransportError):
        pub.create("created, then dropped")
    assert [p["text"] for p in pub.em.posts()] == ["created, then dropped"]
    statuses = [e["response_status"] for e in pub.em.received("mastodon")]
    assert statuses == [None, None]


EXPIRED: dict[str, tuple[int, Any]] = {
    "x": (401, {"title": "Unauthorized", "type": "about:blank", "status": 401}),
    "linkedin": (401, {"status": 401, "code": "EXPIRED_ACCESS_TOKEN"}),
    "facebook": (400, {"code": 190, "error_subcode": 463}),
    "mastodon": (401, {"error": "The access token is invalid"}),
    "bluesky": (400, {"error": "ExpiredToken"}),
    "threads": (400, {"code": 190, "error_subcode": 463}),
}


@pytest.mark.parametrize("pub", NETWORKS, indirect=True)
def test_fault_expired_token(pub: Publisher) -> None:
    pub.em.inject_fault(pub.network, "create", "expired_token")
    response = pub.create("expired")
    status, expected = EXPIRED[pub.network]
    body = response.json()
    body = body.get("error", body) if pub.network in ("facebook", "threads") else body
    assert response.status_code == status
    assert expected.items() <= body.items()
    assert pub.em.posts() == []
    assert pub.create("token fine again").status_code == ok_status(pub.network)


@pytest.mark.parametrize("pub", ["x", "linkedin", "facebook"], indirect=True)
def test_fault_duplicate(pub: Publisher) -> None:
    assert pub.create("original").status_code == ok_status(pub.network)
    pub.em.inject_fault(pub.network, "create", "duplicate")
    response = pub.create("original")
    assert response.status_code == {"x": 403, "linkedin": 422, "facebook": 400}[pub.network]
    if pub.network == "linkedin":
        assert response.json()["message"] == (
            f"Content is a duplicate of {pub.em.posts()[0]['id']}"
        )
    if pub.network == "facebook":
        assert response.json()["error"]["code"] == 506
    assert len(pub.em.posts()) == 1


def test_fault_validation(network: EmulatorServer) -> None:
    for spec in (
        {"network": "mastodon", "kind": "duplicate"},
        {"network": "x", "kind": "status"},
        {"network": "x", "kind": "melt"},
        {"network": "x", "endpoint": "nope", "kind": "reset"},
        {"network": "myspace", "kind": "reset"},
    ):
        with pytest.raises(EmulatorError):
            network.control("POST", "/faults", json=spec)
    assert network.faults() == []


@pytest.mark.parametrize("pub", ["x"], indirect=True)
def test_faults_consumed_in_order_with_times_and_wildcard(pub: Publisher) -> None:
    pub.em.inject_fault("x", "create", "status", status=503, times=2)
    pub.em.inject_fault("x", "create", "status", status=429, retry_after_s=1)
    assert [pub.create(f"try {i}").status_code for i in range(4)] == [503, 503, 429, 201]
    pub.em.inject_fault("x", "*", "expired_token")
    assert pub.http.get(f"{pub.base}/2/users/me", headers=pub.auth).status_code == 401
    assert pub.http.get(f"{pub.base}/2/users/me", headers=pub.auth).status_code == 200
    assert pub.em.faults() == []


def test_fault_on_token_refresh_after_rotation(network: EmulatorServer, http: httpx.Client) -> None:
    register(network, "x", refresh_token="r1")
    network.inject_fault("x", "token", "status_after_create", status=500)
    url = network.url_for("x") + "/2/oauth2/token"
    form = {"grant_type": "refresh_token", "refresh_token": "r1", "client_id": "c"}
    assert http.post(url, data=form).status_code == 500
    assert http.post(url, data=form).status_code == 400  # the rotation happened: r1 is spent


# --- latency, logs, control --------------------------------------------------------------------


def test_latency_applies_without_blocking(network: EmulatorServer) -> None:
    register(network, "mastodon")
    url = network.url_for("mastodon") + "/api/v2/instance"
    network.set_latency(300)

    def one_call() -> int:
        return httpx.get(url, timeout=10).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: one_call(), range(10)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 10
    # Each call waits 300 ms; serialised, ten would take at least 3 s.
    assert 0.3 <= elapsed < 2.5

    network.set_latency(0)
    network.set_latency(200, network="x")
    started = time.monotonic()
    httpx.get(network.url_for("x") + "/2/users/me")
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("pub", ["mastodon"], indirect=True)
def test_received_log(pub: Publisher) -> None:
    media_ids = [
        pub.http.post(
            f"{pub.base}/api/v2/media",
            files={"file": (f"{n}.png", b"\x89PNG" + bytes([n]), "image/png")},
            headers=pub.auth,
        ).json()["id"]
        for n in range(2)
    ]
    pub.em.clear_received()
    pub.http.post(
        f"{pub.base}/api/v1/statuses?x=1",
        data={"status": "logged", "media_ids[]": media_ids},
        headers={**pub.auth, "Idempotency-Key": "k1"},
    )
    [entry] = pub.em.received("mastodon", "create")
    assert entry["method"] == "POST" and entry["path"] == "/api/v1/statuses"
    assert entry["headers"]["authorization"] == "Bearer masto-token"
    assert entry["headers"]["idempotency-key"] == "k1"
    assert entry["query"] == {"x": "1"}
    assert entry["body"] == {"status": "logged", "media_ids": media_ids}
    assert entry["response_status"] == 200 and entry["account"] == pub.account["account"]
    assert entry["time"] > 0 and entry["at"].endswith("Z")
    assert pub.em.counts() == {"mastodon": {"create": 1}}
    assert pub.em.received(since=entry["seq"]) == []
    assert pub.em.received(since=entry["seq"] - 1) == [entry]


def test_account_registration_defaults(network: EmulatorServer) -> None:
    bsky = network.register_account("bluesky")
    assert bsky["account"].startswith("did:plc:") and bsky["app_password"]
    assert jwt_payload(bsky["access_token"])["sub"] == bsky["account"]
    assert bsky["refresh_token"]
    x = network.register_account("x", username="bob", refresh_token=True, token_expires_in=10)
    assert x["access_token"] and x["refresh_token"] and x["token_expires_at"]
    assert x["base_url"] == network.url_for("x")
    li = network.register_account("linkedin", organization_id="42")
    assert li["author"] == "urn:li:organization:42"
    network.advance_clock(11)
    me = httpx.get(
        network.url_for("x") + "/2/users/me",
        headers={"Authorization": f"Bearer {x['access_token']}"},
    )
    assert me.status_code == 401
    with pytest.raises(EmulatorError):
        network.configure(no_such_option=True)


def test_subprocess_mode_survives_kill_and_restart() -> None:
    server = EmulatorServer(in_process=False, latency_ms=1)
    with server:
        assert server.pid is not None
        pub = Publisher(server, httpx.Client(), "x", register(server, "x"))
        assert pub.create("from a child process").status_code == 201
        assert len(server.posts("x")) == 1
        port = server.port
        server.kill()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
        server.start()
        assert server.port == port and server.posts() == []
        pub.http.close()
    assert not server.running


def test_enforced_rate_limit_on_create_session(network: EmulatorServer, http: httpx.Client) -> None:
    register(network, "bluesky")
    network.configure(enforce_rate_limits=True)
    for _ in range(30):
        bluesky_login(network, http)
    response = http.post(
        network.url_for("bluesky") + "/xrpc/com.atproto.server.createSession",
        json={"identifier": "alice.bsky.social", "password": "pw"},
    )
    assert response.status_code == 429
    assert response.json()["error"] == "RateLimitExceeded"
    assert response.headers["ratelimit-policy"] == "30;w=300"
    assert response.headers["ratelimit-remaining"] == "0"
    assert network.counts()["bluesky"]["create_session"] == 31
