"""The pages a browser sees when a network sends it back to Handpost and something is wrong.

The callback is a browser route with no token, so it answers in HTML: one short page per
refusal, saying what happened and what to do, with a way back to the accounts page. Every
value that came from outside (a network's error text) is escaped and shortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from starlette.responses import HTMLResponse

ACCOUNTS = "/#/accounts"


@dataclass(frozen=True)
class Refusal:
    """Why a callback was refused: a title, a plain explanation, and the HTTP status."""

    status: int
    title: str
    detail: str
    kind: str  # stable, for tests and logs: "state-unknown", "browser-mismatch"...


class RefusedCallback(Exception):
    """Raised while handling a callback to answer with ``refusal``'s page."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.title)
        self.refusal = refusal


def state_missing() -> Refusal:
    return Refusal(
        400,
        "This link did not come from Handpost",
        "The network sent your browser back without the state Handpost gave it, so Handpost "
        "cannot tell which connection this is. Start again from the accounts page.",
        "state-missing",
    )


def state_unknown() -> Refusal:
    return Refusal(
        400,
        "This connection is not one Handpost started",
        "The state in the link is unknown: it was changed, or it belongs to another Handpost. "
        "Nothing was connected. Start again from the accounts page.",
        "state-unknown",
    )


def state_used() -> Refusal:
    return Refusal(
        400,
        "This connection was already completed",
        "Each connection link works once, and this one has been used. If you went back in "
        "your browser, your account is probably connected already: check the accounts page.",
        "state-used",
    )


def state_expired() -> Refusal:
    return Refusal(
        400,
        "This connection took too long",
        "Connections must be finished within a few minutes of starting them. Nothing was "
        "connected. Start again from the accounts page.",
        "state-expired",
    )


def other_browser() -> Refusal:
    return Refusal(
        403,
        "Finish connecting in the browser you started in",
        "This connection was started in another browser (or your browser's Handpost cookie "
        "expired or was removed). For your safety it can only be completed where it began. "
        "Nothing was connected.",
        "browser-mismatch",
    )


def wrong_network() -> Refusal:
    return Refusal(
        400,
        "This link belongs to another network",
        "The connection was started for a different network than the one that answered. "
        "Nothing was connected.",
        "network-mismatch",
    )


def network_said_no(name: str, error: str, description: str) -> Refusal:
    denied = error in ("access_denied", "user_denied", "user_cancelled_login",
                       "user_cancelled_authorize")  # fmt: skip
    if denied:
        return Refusal(
            400,
            f"You did not allow Handpost on {name}",
            f"{name} says access was not granted ({_short(error)}). Nothing was connected; "
            "you can try again whenever you like.",
            "network-denied",
        )
    said = f": {_short(description)}" if description else ""
    return Refusal(
        502,
        f"{name} could not connect Handpost",
        f"{name} returned an error ({_short(error)}){said}. Nothing was connected.",
        "network-error",
    )


def connect_failed(
    name: str, message: str, *, retry: bool, kind: str = "connect-failed"
) -> Refusal:
    return Refusal(
        502 if retry else 400,
        f"Connecting {name} did not work",
        _short(message, 600) + (" Try again in a few minutes." if retry else ""),
        kind,
    )


def refusal_page(refusal: Refusal) -> HTMLResponse:
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(refusal.title)} · Handpost</title>
<link rel="stylesheet" href="/static/styles.css">
</head>
<body>
<main id="main" class="connect-result" data-refusal="{escape(refusal.kind)}">
<h1 class="page-title">{escape(refusal.title)}</h1>
<p class="notice notice-error" role="alert">{escape(refusal.detail)}</p>
<p><a class="button" href="{ACCOUNTS}">Back to your accounts</a></p>
</main>
</body>
</html>
"""
    return HTMLResponse(body, status_code=refusal.status, headers={"Cache-Control": "no-store"})


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
