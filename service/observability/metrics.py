"""Prometheus metrics, exposed at ``GET /metrics``.

Every app has its own :class:`CollectorRegistry`, never prometheus_client's global one, so
several apps in one process (as in the tests) do not clash over metric names. The publishing
instruments are the exception that proves the rule: :func:`record_attempt` is a plain function
the dispatcher calls without knowing about any app, so they are created once per process and
registered into each app's registry. In production a process runs one app, so the two agree.

Labels are bounded on purpose: ``network`` and ``outcome`` come from fixed sets, ``route`` is
the route's template (``/api/v1/posts/{post_id}``), never the raw path, and unknown HTTP
methods are folded into ``OTHER``.
"""

from __future__ import annotations

import hmac
import logging
import math
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder

from service.problems import ProblemError

log = logging.getLogger("handpost.metrics")

# From a post sent on the dot to one an hour late (later than that is "missed" by default).
LATENESS_BUCKETS = (
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip
# One network call: from a sandbox record (milliseconds) to a slow live upload.
PUBLISH_DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
HTTP_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"

# -- publishing: one set per process, fed by record_attempt ---------------------------------

PUBLISH_ATTEMPTS = Counter(
    "handpost_publish_attempts",
    "Publish attempts, by network and outcome (published, failed, retrying, unknown, missed).",
    ["network", "outcome"],
    registry=None,
)
POSTS_PUBLISHED = Counter(
    "handpost_posts_published", "Posts that went out.", ["network"], registry=None
)
POSTS_FAILED = Counter(
    "handpost_posts_failed",
    "Posts that failed for good (the network or the guard refused them).",
    ["network"],
    registry=None,
)
PUBLISH_LATENESS = Histogram(
    "handpost_publish_lateness_seconds",
    "How long after its due time an attempt started.",
    ["network"],
    buckets=LATENESS_BUCKETS,
    registry=None,
)
PUBLISH_DURATION = Histogram(
    "handpost_publish_duration_seconds",
    "How long one publish attempt took.",
    ["network"],
    buckets=PUBLISH_DURATION_BUCKETS,
    registry=None,
)
_PUBLISHING = (PUBLISH_ATTEMPTS, POSTS_PUBLISHED, POSTS_FAILED, PUBLISH_LATENESS, PUBLISH_DURATION)


def record_attempt(
    network: str, outcome: str, lateness_seconds: float, duration_seconds: float
) -> None:
    """Count one publish attempt; the dispatcher calls this once per attempt it records.

    Never raises: a metrics bug must not fail a publish whose post may already have gone out.
    Negative times (clock skew between replicas) are counted as zero.
    """
    try:
        PUBLISH_ATTEMPTS.labels(network=network, outcome=outcome).inc()
        if outcome == "published":
            POSTS_PUBLISHED.labels(network=network).inc()
        elif outcome == "failed":
            POSTS_FAILED.labels(network=network).inc()
        PUBLISH_LATENESS.labels(network=network).observe(max(0.0, lateness_seconds))
        PUBLISH_DURATION.labels(network=network).observe(max(0.0, duration_seconds))
    except Exception:
        log.warning("could not record a publish attempt in the metrics", exc_info=True)


# -- per app --------------------------------------------------------------------------------


class Metrics:
    """One app's registry: HTTP metrics, the due-posts gauge, and the process's publishing."""

    def __init__(self, posts_due: Callable[[], int] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        for collector in _PUBLISHING:
            self.registry.register(collector)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(GC_COLLECTOR)
        self.http_requests = Counter(
            "handpost_http_requests",
            "HTTP requests, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "handpost_http_request_duration_seconds",
            "HTTP request duration, until the response was sent, by method and route template.",
            ["method", "route"],
            buckets=HTTP_DURATION_BUCKETS,
            registry=self.registry,
        )
        if posts_due is not None:
            gauge = Gauge(
                "handpost_posts_due",
                "Scheduled posts whose time has come and that no worker has claimed yet.",
                registry=self.registry,
            )
            gauge.set_function(_never_raising(posts_due))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else "OTHER"
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_duration.labels(method=method, route=route).observe(seconds)

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition in the format the scraper asked for, and its content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


def _never_raising(count: Callable[[], int]) -> Callable[[], float]:
    # A scrape while the database is down reports NaN instead of failing the whole scrape.
    def value() -> float:
        try:
            return float(count())
        except Exception:
            log.warning("could not count due posts for the metrics", exc_info=True)
            return math.nan

    return value


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition (sync: the due-posts gauge queries the database).

    On the API's own address it needs ``HANDPOST_METRICS_TOKEN`` as a bearer token: the
    metrics show every user's activity, and the API may face the internet. Without that
    setting the API serves none; ``HANDPOST_METRICS_PORT`` gives a separate listener.
    """
    expected = request.app.state.settings.metrics_token
    if expected is None:
        raise ProblemError(
            404,
            "not-found",
            "Not found",
            "Metrics are not served on this address: set HANDPOST_METRICS_TOKEN to scrape "
            "them here, or HANDPOST_METRICS_PORT for a separate listener.",
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.get_secret_value().encode()
    ):
        problem = ProblemError(
            401,
            "unauthenticated",
            "Authentication required",
            "Send the metrics token (HANDPOST_METRICS_TOKEN) as a bearer token.",
        )
        problem.headers["WWW-Authenticate"] = 'Bearer realm="handpost-metrics"'
        raise problem
    app_metrics: Metrics = request.app.state.metrics
    body, content_type = app_metrics.render(request.headers.get("accept"))
    return Response(content=body, media_type=content_type)
