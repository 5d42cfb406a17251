"""Hostile input over real HTTP: schemathesis generates requests from the checked-in
openapi.yaml and sends them to a running `handpost serve`, on SQLite and on PostgreSQL.

Every response must be a documented status, with a body and headers that match the contract,
and no input may reach a 5xx. The token stays valid for the whole run (logging out is tried
with a throwaway token of its own), and half the cases aim their path parameters at objects
that exist, so the endpoints' real work is fuzzed, not only their 404s. The full number of
examples runs once, on SQLite; PostgreSQL gets a smaller share (fuzzing is a slow matrix).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.db import Database
from service.users import repository as users_repository
from service.users import service as users
from tests.support.databases import database_kinds
from tests.support.server import ServiceProcess, served

ROOT = Path(__file__).resolve().parent.parent
# A body over the size limit is rightly refused with 413 before it is read; schemathesis does
# not count 413 as a rejection of invalid data by default.
REJECTIONS = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, 431]
config = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)
schema = schemathesis.openapi.from_path(ROOT / "openapi.yaml", config=config)
EXAMPLES = {"sqlite": 25, "postgresql": 6}


@dataclass
class Target:
    kind: str
    service: ServiceProcess
    database_url: str
    token: str
    ids: dict[str, str]

    def throwaway_token(self) -> str:
        database = Database(self.database_url)
        try:
            with database.session() as session:
                user = users_repository.find_by_username(session, "fuzzer")
                assert user is not None
                _token, plain = users.issue_token(
                    session, user, kind="session", name="throwaway", ttl=timedelta(hours=1)
                )
                session.commit()
        finally:
            database.dispose()
        return plain


def _seed(base_url: str, token: str) -> dict[str, str]:
    """A goal, an account, a post and a personal token: real targets for path parameters."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        goal = client.post("/api/v1/strategy/goals", json={"name": "Build relationships"})
        account = client.post(
            "/api/v1/accounts",
            json={"network": "mastodon", "handle": "fuzz", "purpose": "p", "audience": "a"},
        )
        post = client.post(
            "/api/v1/posts", json={"account_id": account.json()["id"], "text": "Seeded post"}
        )
        personal = client.post("/api/v1/tokens", json={"name": "seeded"})
    return {
        "goal_id": goal.json()["id"],
        "account_id": account.json()["id"],
        "post_id": post.json()["id"],
        "token_id": personal.json()["id"],
    }


@pytest.fixture(scope="module", params=database_kinds())
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    with served(
        request.param,
        tmp_path_factory.mktemp(f"fuzz-{request.param}"),
        {"fuzzer": "fuzzer-password-1"},
        HANDPOST_LOGIN_MAX_FAILURES="1000",
        HANDPOST_AUTH_FAILURE_DELAY_SECONDS="0",
        HANDPOST_LOG_LEVEL="WARNING",
    ) as server:
        yield Target(
            request.param,
            server.service,
            server.database_url,
            server.token,
            _seed(server.service.base_url, server.token),
        )


@schema.parametrize()
@settings(
    max_examples=max(EXAMPLES.values()), deadline=None, suppress_health_check=list(HealthCheck)
)
def test_no_input_reaches_a_5xx_and_every_answer_fits_the_contract(case, target: Target) -> None:  # type: ignore[no-untyped-def]
    draw = random.Random(repr(case.path_parameters) + repr(case.body))
    if draw.random() * EXAMPLES["sqlite"] >= EXAMPLES[target.kind]:
        return  # this database's share of the examples is smaller
    for name in case.path_parameters or {}:
        if name in target.ids and draw.random() < 0.5:
            case.path_parameters[name] = target.ids[name]
    token = target.token
    if case.operation.path == "/api/v1/auth/logout":
        token = target.throwaway_token()  # logging out must not end the run's session
    # Every check but "schema-valid data is accepted": the schema cannot say every business
    # rule (a live account's credentials, a time in the future), so valid-looking input may
    # rightly get a 422 problem, which the other checks still hold to the contract.
    case.call_and_validate(
        base_url=target.service.base_url,
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[positive_data_acceptance],
    )
