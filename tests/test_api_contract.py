"""The contract a developer reads: /docs served by the service itself, operation ids a
generated client can use, and the code doing what openapi.yaml says."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.apidocs.pages import DOCS_CONTENT_SECURITY_POLICY
from tests.conftest import AppFactory
from tests.support.api import assert_problem, create_account, create_post
from tests.support.contract import assert_documented, spec

STRICT_STYLES = "style-src 'self';"


def test_the_docs_pages_and_their_assets_come_from_the_service(make_client: AppFactory) -> None:
    anonymous = make_client(dispatch=False, as_user=None)
    for page in ("/docs", "/redoc"):
        response = anonymous.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert policy == DOCS_CONTENT_SECURITY_POLICY
        assert "script-src 'self';" in policy  # no inline or outside scripts, even here
        assert "frame-ancestors 'none'" in policy
        assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert assets and all(url.startswith("/docs/assets/") for url in assets), assets
        for url in assets:
            assert anonymous.get(url).status_code == 200, url
    assert "SwaggerUIBundle" in anonymous.get("/docs/assets/swagger-ui-bundle.js").text
    assert anonymous.get("/docs/assets/%2e%2e/pages.py").status_code == 404


def test_every_other_page_keeps_the_strict_policy(client: TestClient) -> None:
    for url in ("/", "/api/v1/accounts", "/openapi.json", "/docs/assets/swagger-init.js"):
        assert STRICT_STYLES in client.get(url).headers["content-security-policy"], url


def test_operation_ids_are_a_verb_on_a_resource_and_unique() -> None:
    ids = [
        operation["operationId"]
        for operations in spec()["paths"].values()
        for operation in operations.values()
    ]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id), operation_id
        assert "api_v1" not in operation_id
    assert {"list_posts", "create_post", "get_me", "list_publish_log"} <= set(ids)


def test_created_and_read_resources_carry_their_declared_headers(client: TestClient) -> None:
    created = client.post(
        "/api/v1/accounts",
        json={"network": "mastodon", "handle": "ada", "purpose": "society", "audience": "all"},
    )
    assert_documented(created)
    assert created.headers["location"] == f"/api/v1/accounts/{created.json()['id']}"
    post = create_post(client, created.json()["id"], "A first post, written for the fediverse.")
    assert_documented(post)
    assert client.get(post.headers["location"]).headers["etag"] == post.headers["etag"]
    assert_documented(client.get(post.headers["location"]))


def _goal(client: TestClient) -> str:
    response = client.post("/api/v1/strategy/goals", json={"name": "Build relationships"})
    goal_id: str = response.json()["id"]
    return goal_id


def _post(client: TestClient) -> str:
    account = create_account(client, "mastodon", "ada")
    post_id: str = create_post(client, account["id"], "Written for the fediverse.").json()["id"]
    return post_id


def _account(client: TestClient) -> str:
    account_id: str = create_account(client, "linkedin")["id"]
    return account_id


def _strategy(_client: TestClient) -> str:
    return ""  # one per user: its path names no id


PATCHES: list[tuple[str, Any, str]] = [
    ("/api/v1/accounts/{account_id}", _account, "purpose"),
    ("/api/v1/accounts/{account_id}", _account, "audience"),
    ("/api/v1/accounts/{account_id}", _account, "mode"),
    ("/api/v1/accounts/{account_id}", _account, "active"),
    ("/api/v1/posts/{post_id}", _post, "text"),
    ("/api/v1/strategy/goals/{goal_id}", _goal, "name"),
    ("/api/v1/strategy", _strategy, "require_goal"),
    ("/api/v1/strategy", _strategy, "review_interval_months"),
]


@pytest.mark.parametrize(("path", "make", "field"), PATCHES)
def test_a_field_the_document_says_is_not_nullable_refuses_null(
    client: TestClient, path: str, make: Any, field: str
) -> None:
    operation = spec()["paths"][path]["patch"]
    reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec()["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert "null" not in str(schema["properties"][field]), "the document allows null"

    url = re.sub(r"\{[^}]+\}", make(client), path)
    readable = "/goals/" not in url  # goals are read in a list, not one by one
    before = client.get(url).json() if readable else None
    response = client.patch(url, json={field: None}, headers={"If-Match": "*"})
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == [field]
    if readable:
        assert client.get(url).json() == before
