from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import assert_problem, create_account, create_post


def test_account_is_created_listed_and_read_back(client: TestClient) -> None:
    account = create_account(client, "mastodon", "ada@fosstodon.org")
    assert account["mode"] == "sandbox"
    assert account["status"] == "active"
    assert client.get("/api/v1/accounts").json()[0]["id"] == account["id"]
    read = client.get(f"/api/v1/accounts/{account['id']}")
    assert read.json()["purpose"] == "society"
    assert read.headers["etag"] == '"1"'


def test_unknown_network_and_blank_purpose_are_problems(client: TestClient) -> None:
    body = {"network": "myspace", "handle": "me", "purpose": " ", "audience": "x"}
    problem = assert_problem(client.post("/api/v1/accounts", json=body), 422, "validation-error")
    fields = {e["field"] for e in problem["errors"]}
    assert {"network", "purpose"} <= fields
    assert client.get("/api/v1/accounts").json() == []


def test_the_same_handle_twice_on_one_network_is_refused(client: TestClient) -> None:
    create_account(client, "x", "ada")
    body = {"network": "x", "handle": "ADA", "purpose": "p", "audience": "a"}
    assert_problem(client.post("/api/v1/accounts", json=body), 409, "account-exists")


def test_purpose_is_edited_with_if_match(client: TestClient) -> None:
    account = create_account(client, "linkedin")
    url = f"/api/v1/accounts/{account['id']}"
    changed = client.patch(url, json={"purpose": "colleagues"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.json()["purpose"] == "colleagues"
    stale = client.patch(url, json={"purpose": "other"}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "stale-version")
    assert client.get(url).json()["purpose"] == "colleagues"


def test_account_with_posts_cannot_be_deleted(client: TestClient) -> None:
    account = create_account(client, "bluesky")
    empty = create_account(client, "threads")
    create_post(client, account["id"], "A draft about our garden")
    assert_problem(client.delete(f"/api/v1/accounts/{account['id']}"), 409, "account-has-posts")
    assert client.delete(f"/api/v1/accounts/{empty['id']}").status_code == 204
    assert_problem(client.get(f"/api/v1/accounts/{empty['id']}"), 404, "not-found")


def test_networks_endpoint_describes_each_network(client: TestClient) -> None:
    networks = {n["network"]: n for n in client.get("/api/v1/networks").json()}
    assert set(networks) == {
        "x",
        "linkedin",
        "facebook",
        "youtube",
        "mastodon",
        "bluesky",
        "threads",
        "wordpress",
        "ghost",
        "other",
    }
    assert [n for n, info in networks.items() if not info["has_api"]] == ["other"]
    assert networks["bluesky"]["text_limit"] == 300
    assert networks["wordpress"]["needs_site_url"] is networks["ghost"]["has_blog_fields"] is True
    assert networks["x"]["has_blog_fields"] is False
    assert networks["youtube"]["requires_title"] is True
    assert "unlisted" in networks["mastodon"]["visibilities"]
    assert networks["linkedin"]["expects_call_to_action"] is True
