"""What an operator relies on: /metrics counts, request ids, JSON logs, and no secret in a log."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from service.config import Settings
from service.observability import metrics as metrics_module
from service.observability.logging import CHATTY_LOGGERS, REDACTED, configure_logging
from service.observability.metrics import LATENESS_BUCKETS, Metrics, record_attempt
from service.observability.middleware import RequestContextMiddleware
from tests.conftest import METRICS_TOKEN, AppFactory
from tests.support.api import create_account, create_post, in_seconds, post_state, wait_for

ROOT = Path(__file__).resolve().parent.parent
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# -- /metrics -------------------------------------------------------------------------------


def test_http_requests_are_counted_by_route_template(client: TestClient) -> None:
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    missing = uuid.uuid4().hex
    assert client.get(f"/api/v1/posts/{missing}?marker=query-marker").status_code == 404
    assert client.get(f"/no/such/{missing}").status_code == 404

    raw = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    samples = scrape(client)
    healthz = {"method": "GET", "route": "/healthz"}
    assert value(samples, "handpost_http_requests_total", status="200", **healthz) == 3
    assert value(samples, "handpost_http_request_duration_seconds_count", **healthz) == 3
    assert (
        value(
            samples,
            "handpost_http_requests_total",
            method="GET",
            route="/api/v1/posts/{post_id}",
            status="404",
        )
        == 1
    )
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(samples, "handpost_http_requests_total", **unmatched) == 1
    # Raw paths and query strings never become labels: cardinality stays bounded.
    assert missing not in raw
    assert "query-marker" not in raw
    # The first scrape was counted by the time of the second.
    assert value(
        samples, "handpost_http_requests_total", status="200", method="GET", route="/metrics"
    )


def test_metrics_route_is_not_in_the_api_contract(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    assert "/metrics:" not in (ROOT / "openapi.yaml").read_text(encoding="utf-8")


def test_unknown_methods_share_one_label(client: TestClient) -> None:
    client.request("BREW", "/healthz")
    samples = scrape(client)
    assert value(
        samples, "handpost_http_requests_total", method="OTHER", route="/healthz", status="405"
    )
    assert not any(labels and ("method", "BREW") in labels for _, labels in samples)


def test_posts_due_counts_scheduled_posts_whose_time_has_come(client: TestClient) -> None:
    """No dispatcher runs here, so a post that comes due stays due: the backlog an alert watches."""
    account = create_account(client, "mastodon", base_url="https://fosstodon.org")
    assert value(scrape(client), "handpost_posts_due") == 0
    response = create_post(
        client, account["id"], "Due soon, for the gauge.", scheduled_at=in_seconds(1)
    )
    assert response.status_code == 201, response.text
    later = create_post(
        client, account["id"], "Much later, not due.", scheduled_at=in_seconds(3600)
    )
    assert later.status_code == 201, later.text
    assert value(scrape(client), "handpost_posts_due") == 0
    wait_for(lambda: value(scrape(client), "handpost_posts_due") == 1, timeout=10)


def test_record_attempt_fills_counters_and_histograms(client: TestClient) -> None:
    network = f"test-{uuid.uuid4().hex[:8]}"  # counters are per process: a label of our own
    record_attempt(network, "published", 0.07, 0.2)
    record_attempt(network, "failed", 7200.0, 1.5)
    record_attempt(network, "retrying", -3.0, 0.01)  # clock skew counts as on time

    samples = scrape(client)
    net = {"network": network}
    assert value(samples, "handpost_publish_attempts_total", outcome="published", **net) == 1
    assert value(samples, "handpost_publish_attempts_total", outcome="failed", **net) == 1
    assert value(samples, "handpost_publish_attempts_total", outcome="retrying", **net) == 1
    assert value(samples, "handpost_posts_published_total", **net) == 1
    assert value(samples, "handpost_posts_failed_total", **net) == 1

    lateness = "handpost_publish_lateness_seconds"
    assert LATENESS_BUCKETS[0] == 0.05 and LATENESS_BUCKETS[-1] == 3600.0
    assert value(samples, f"{lateness}_bucket", le="0.05", **net) == 1
    assert value(samples, f"{lateness}_bucket", le="0.1", **net) == 2
    assert value(samples, f"{lateness}_bucket", le="3600.0", **net) == 2
    assert value(samples, f"{lateness}_bucket", le="+Inf", **net) == 3
    assert value(samples, f"{lateness}_count", **net) == 3
    assert value(samples, f"{lateness}_sum", **net) == pytest.approx(7200.07)

    duration = "handpost_publish_duration_seconds"
    assert value(samples, f"{duration}_count", **net) == 3
    assert value(samples, f"{duration}_sum", **net) == pytest.approx(1.71)
    assert value(samples, f"{duration}_bucket", le="0.25", **net) == 2


def test_record_attempt_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_labels: str) -> Any:
        raise RuntimeError("metrics bug")

    monkeypatch.setattr(metrics_module.PUBLISH_ATTEMPTS, "labels", broken)
    record_attempt("mastodon", "published", 1.0, 1.0)  # a publish must not fail over a metric


def test_a_failing_due_count_does_not_fail_the_scrape() -> None:
    def down() -> int:
        raise ConnectionError("database is down")

    body, _content_type = Metrics(posts_due=down).render(None)
    assert "handpost_posts_due NaN" in body.decode()


def test_apps_in_one_process_have_their_own_registries() -> None:
    first, second = Metrics(), Metrics()
    first.observe_request("GET", "/healthz", 200, 0.01)
    assert b'route="/healthz"' in first.render(None)[0]
    assert b'route="/healthz"' not in second.render(None)[0]


def test_dispatcher_publishing_shows_in_metrics(make_client: AppFactory) -> None:
    client = make_client(dispatch=True)
    account = create_account(client, "mastodon", base_url="https://fosstodon.org")
    net = {"network": "mastodon"}
    before = scrape(client)
    post = create_post(client, account["id"], "Shipped, and measured.", scheduled_at=in_seconds(1))
    assert post.status_code == 201, post.text
    wait_for(lambda: post_state(client, post.json()["id"]) == "published")
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("handpost_publish_attempts_total", outcome="published", **net) == 1
    assert grew("handpost_posts_published_total", **net) == 1
    assert grew("handpost_publish_lateness_seconds_count", **net) == 1
    assert grew("handpost_publish_duration_seconds_count", **net) == 1


# -- request ids ----------------------------------------------------------------------------


def test_a_valid_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.42:1"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.42:1"


def test_a_request_id_is_generated_when_absent_or_invalid(client: TestClient) -> None:
    generated = [client.get("/healthz").headers["X-Request-ID"] for _ in range(2)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in generated)
    assert generated[0] != generated[1]
    for bad in ("has space", "x" * 200, "-starts-with-dash", 'quote"d'):
        rid = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid), bad


def test_error_responses_carry_the_request_id_too(client: TestClient) -> None:
    response = client.get(f"/api/v1/posts/{uuid.uuid4().hex}", headers={"X-Request-ID": "e404"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "e404"


# -- logs -----------------------------------------------------------------------------------


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY_LOGGERS}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, chatty_level in chatty.items():
        logging.getLogger(name).setLevel(chatty_level)


@pytest.fixture
def log_stream(restored_logging: None) -> io.StringIO:
    """configure_logging (JSON, DEBUG) writing to a buffer."""
    stream = io.StringIO()
    configure_logging("DEBUG", json_format=True, stream=stream)
    return stream


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line must be one JSON object."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_access_lines_are_json_with_the_request_id(
    client: TestClient, log_stream: io.StringIO
) -> None:
    response = client.get(
        f"/api/v1/posts/{uuid.uuid4().hex}?marker=query-marker", headers={"X-Request-ID": "req-1"}
    )
    client.get("/healthz")
    lines = records(log_stream)
    access = [line for line in lines if line["logger"] == "handpost.access"]
    [line] = [line for line in access if line["request_id"] == "req-1"]
    assert response.headers["X-Request-ID"] == "req-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/posts/{post_id}"
    assert line["status"] == 404
    assert line["duration_ms"] >= 0
    assert "query-marker" not in json.dumps(access)  # query strings may hold secrets
    # Probes are frequent: their lines are DEBUG, not INFO.
    assert [line["level"] for line in access if line["route"] == "/healthz"] == ["DEBUG"]


def test_lines_logged_inside_a_request_carry_its_id(log_stream: io.StringIO) -> None:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)
    log = logging.getLogger("handpost.test.inside")

    @app.get("/sync")
    def sync_endpoint() -> dict[str, str]:
        log.info("in a worker thread", extra={"post_id": "p-1", "worker": "w-1"})
        return {}

    @app.get("/async")
    async def async_endpoint() -> dict[str, str]:
        log.info("on the event loop", extra={"account_id": "a-1"})
        return {}

    with TestClient(app) as test_client:
        sync_id = test_client.get("/sync").headers["X-Request-ID"]
        async_id = test_client.get("/async", headers={"X-Request-ID": "given"}).headers[
            "X-Request-ID"
        ]
    log.info("outside any request")

    by_message = {line["message"]: line for line in records(log_stream)}
    assert by_message["in a worker thread"]["request_id"] == sync_id
    assert by_message["in a worker thread"]["post_id"] == "p-1"
    assert by_message["in a worker thread"]["worker"] == "w-1"
    assert by_message["on the event loop"]["request_id"] == async_id == "given"
    assert by_message["on the event loop"]["account_id"] == "a-1"
    assert "request_id" not in by_message["outside any request"]


def test_secrets_are_redacted_from_extras_and_messages(log_stream: io.StringIO) -> None:
    log = logging.getLogger("handpost.test.redaction")
    log.warning(
        "calling %s with Bearer %s and access_token=%s",
        "mastodon",
        "abc.DEF-123_xyz~",
        "q-999",
        extra={
            "access_token": "tok-123",
            "api_key": "key-789",
            "request": {
                "headers": {"Authorization": "Bearer hdr-000", "Accept": "application/json"},
                "json": {"password": "pw-456", "status": "hello world"},
            },
            "post_id": "p-9",
        },
    )
    try:
        raise RuntimeError("refused: Authorization: Bearer exc-321")
    except RuntimeError:
        log.exception("publisher raised")

    output = log_stream.getvalue()
    for secret in (
        "abc.DEF-123_xyz",
        "q-999",
        "tok-123",
        "key-789",
        "hdr-000",
        "pw-456",
        "exc-321",
    ):
        assert secret not in output, secret
    first, second = records(log_stream)
    assert first["message"] == (
        f"calling mastodon with Bearer {REDACTED} and access_token={REDACTED}"
    )
    assert first["access_token"] == REDACTED
    assert first["request"]["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert first["request"]["json"] == {"password": REDACTED, "status": "hello world"}
    assert first["post_id"] == "p-9"
    assert "RuntimeError" in second["exception"]


@pytest.mark.usefixtures("restored_logging")
def test_text_format_is_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_format=False, stream=stream)
    logging.getLogger("handpost.test.text").info(
        "sent with Bearer s3cr3t-token", extra={"client_secret": "cs-1", "post_id": "p-2"}
    )
    line = stream.getvalue()
    assert "s3cr3t-token" not in line and "cs-1" not in line
    assert f"Bearer {REDACTED}" in line
    assert "post_id=p-2" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


@pytest.mark.usefixtures("restored_logging")
def test_configure_logging_replaces_its_own_handler_only() -> None:
    root = logging.getLogger()
    others = list(root.handlers)
    first = configure_logging("INFO", json_format=True, stream=io.StringIO())
    second = configure_logging("WARNING", json_format=False, stream=io.StringIO())
    assert first not in root.handlers
    assert second in root.handlers
    assert all(handler in root.handlers for handler in others)
    assert root.level == logging.WARNING
    # APScheduler logs two INFO lines per poll: kept to warnings unless DEBUG is asked for.
    assert logging.getLogger("apscheduler").level == logging.WARNING
    configure_logging("DEBUG", json_format=True, stream=io.StringIO())
    assert logging.getLogger("apscheduler").level == logging.DEBUG


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(database_url="sqlite://").log_format == "json"
    monkeypatch.setenv("HANDPOST_LOG_FORMAT", "text")
    assert Settings(database_url="sqlite://").log_format == "text"
    with pytest.raises(ValidationError):
        Settings(database_url="sqlite://", log_format="xml")
