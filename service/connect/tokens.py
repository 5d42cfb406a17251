"""What the database keeps about a token, worked out from the credentials it encrypts.

The lifecycle chore must find the tokens to renew without decrypting every account, so each
time credentials are written their expiry, whether they can be renewed, and when to renew
them are written beside them (``AccountConnection``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from service.networks import CONNECTORS
from service.networks.base import Network


@dataclass(frozen=True)
class TokenState:
    expires_at: datetime | None
    refreshable: bool
    refresh_due_at: datetime | None

    def columns(self) -> dict[str, object]:
        return {
            "token_expires_at": self.expires_at,
            "refreshable": self.refreshable,
            "refresh_due_at": self.refresh_due_at,
        }


def token_state(network: Network | str, credentials: Mapping[str, str]) -> TokenState:
    connector = CONNECTORS.get(Network(network))
    if connector is None:
        return TokenState(None, False, None)
    expires = connector.expires_at(credentials)
    refreshable = connector.refreshable(credentials)
    due = connector.refresh_due(credentials) if refreshable else None
    return TokenState(expires, refreshable, due)
