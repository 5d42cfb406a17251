"""The authorization side of the emulated networks: registered apps, consent pages, codes.

Each network's model calls :func:`authorize` from its authorization endpoint with the rules
that network documents (scopes, PKCE, code lifetime, how a refusal comes back) and
:func:`redeem` from its token endpoint, then answers in its own error shape. What they share
is what RFC 6749 and RFC 7636 say and every network here follows: an unknown client or a
redirect URI that is not registered exactly gets an error page and never a redirect (6749
§4.1.2.1); other errors go back to the redirect URI as ``error=`` (§4.1.2.1); a code is
single use and short-lived, bound to the client and redirect URI (§4.1.3, §10.5), and to the
PKCE challenge when one was sent (7636 §4.6).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

from starlette.responses import HTMLResponse, RedirectResponse, Response

from .framework import Ctx, Reply
from .state import Account, AuthCode, OAuthClient


@dataclass(frozen=True)
class AuthorizeRules:
    """How one network's authorization endpoint behaves (each field cites its docs)."""

    network_name: str
    known_scopes: frozenset[str]
    scope_separator: str = " "
    pkce: str = "optional"  # "required", "optional" or "none"
    pkce_methods: tuple[str, ...] = ("S256", "plain")
    # May the person untick permissions (Facebook's "Edit access", Google's granular consent)?
    partial_grant: bool = False
    code_lifetime_s: float = 600.0
    # Query parameters a refusal comes back with (besides state).
    deny: dict[str, str] = field(default_factory=lambda: {"error": "access_denied"})
    fragment: str = ""  # Facebook appends "#_=_" to its redirects
    # Mastodon: the scopes must be among those the app registered.
    registered_scopes_only: bool = False
    # Who may sign in on the consent page (default: the network's registered accounts).
    people: Callable[[Ctx], list[Account]] | None = None


def error_page(status: int, title: str, detail: str) -> HTMLResponse:
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><main>"
        f"<h1>{escape(title)}</h1><p>{escape(detail)}</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def redirect_with(
    redirect_uri: str, params: dict[str, str], state: str | None, fragment: str = ""
) -> RedirectResponse:
    """302 to the app's redirect URI with ``params`` (and the state it sent)."""
    query = dict(params)
    if state is not None:
        query["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(
        f"{redirect_uri}{separator}{urlencode(query)}{fragment}", status_code=302
    )


def parse_scopes(raw: str | None, separator: str) -> list[str]:
    text = (raw or "").replace("+", " ")
    parts = text.split(separator) if separator != " " else text.split()
    return [p.strip() for p in parts if p.strip()]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def pkce_matches(code: AuthCode, verifier: str) -> bool:
    expected = code.challenge or ""
    actual = s256(verifier) if code.challenge_method == "S256" else verifier
    return hmac.compare_digest(expected.encode(), actual.encode())


def _request_params(ctx: Ctx) -> dict[str, str]:
    return {k: str(v) for k, v in ctx.query.items()}


def authorize(ctx: Ctx, rules: AuthorizeRules) -> Response:
    """GET: the consent page. POST (the page's form): the person's answer, as a redirect."""
    params = _request_params(ctx)
    client = ctx.state.client(ctx.network, params.get("client_id"))
    if client is None:
        return error_page(
            400,
            f"{rules.network_name}: invalid client",
            "The app's client id is not registered. No redirect is made to an unknown app.",
        )
    redirect_uri = params.get("redirect_uri") or ""
    if redirect_uri not in client.redirect_uris:
        return error_page(
            400,
            f"{rules.network_name}: redirect URI mismatch",
            f"{redirect_uri!r} is not one of the app's registered redirect URIs "
            "(they must match exactly).",
        )
    state = params.get("state")

    def fail(error: str, description: str) -> RedirectResponse:
        return redirect_with(
            redirect_uri,
            {"error": error, "error_description": description},
            state,
            rules.fragment,
        )

    if params.get("response_type") != "code":
        return fail("unsupported_response_type", "Only response_type=code is supported.")
    scopes = parse_scopes(params.get("scope"), rules.scope_separator)
    allowed = set(rules.known_scopes)
    if rules.registered_scopes_only:
        allowed &= set(client.scopes)
    unknown = [s for s in scopes if s not in allowed]
    if unknown or not scopes:
        return fail("invalid_scope", f"The requested scope is invalid: {' '.join(unknown)}.")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method") or ("plain" if challenge else None)
    if challenge and rules.pkce == "none":
        challenge = method = None  # ignored by networks without PKCE
    if rules.pkce == "required" and not challenge:
        return fail("invalid_request", "code_challenge is required.")
    if challenge and method not in rules.pkce_methods:
        return fail("invalid_request", f"code_challenge_method {method} is not supported.")
    people = rules.people(ctx) if rules.people else list(ctx.state.accounts[ctx.network].values())
    if ctx.request.method == "GET":
        return consent_page(ctx, rules, client, scopes, people)
    form = ctx.data
    if form.get("decision") != "approve":
        return redirect_with(redirect_uri, rules.deny, state, rules.fragment)
    account = next((a for a in people if a.key == form.get("account")), None)
    if account is None:
        return error_page(400, f"{rules.network_name}: choose an account", "No account chosen.")
    granted = scopes
    if rules.partial_grant:
        ticked = form.get("grant")
        ticked_list = ticked if isinstance(ticked, list) else [ticked] if ticked else []
        granted = [s for s in scopes if s in ticked_list]
    now = ctx.state.now()
    code = ctx.state.issue_code(
        AuthCode(
            network=ctx.network,
            value=secrets.token_urlsafe(24),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            account_key=account.key,
            scopes=frozenset(granted),
            issued_at=now,
            expires_at=now + rules.code_lifetime_s,
            challenge=challenge,
            challenge_method=method if challenge else None,
            offline=params.get("access_type") == "offline",
            prompted=params.get("prompt") == "consent",
        )
    )
    ctx.entry["account"] = account.key
    return redirect_with(redirect_uri, {"code": code.value}, state, rules.fragment)


def consent_page(
    ctx: Ctx,
    rules: AuthorizeRules,
    client: OAuthClient,
    scopes: list[str],
    people: list[Account],
) -> HTMLResponse:
    """What the person sees at the network: who they are, what the app asks, two buttons."""
    if not people:
        return error_page(
            400, f"{rules.network_name}: nobody to sign in as", "Register an account first."
        )
    if len(people) == 1:
        who = (
            f"<p>Signed in as <strong>{escape(people[0].display_name)}</strong> "
            f"(@{escape(people[0].username)})</p>"
            f"<input type='hidden' name='account' value='{escape(people[0].key)}'>"
        )
    else:
        options = "".join(
            f"<option value='{escape(p.key)}'>{escape(p.display_name)} (@{escape(p.username)})"
            "</option>"
            for p in people
        )
        who = f"<label>Sign in as <select name='account'>{options}</select></label>"
    disabled = "" if rules.partial_grant else " disabled"
    permissions = "".join(
        f"<li><label><input type='checkbox' name='grant' value='{escape(s)}' checked{disabled}> "
        f"{escape(s)}</label></li>"
        for s in scopes
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(rules.network_name)}: authorize {escape(client.name)}</title></head>
<body><main>
<h1>Authorize {escape(client.name)} to use your {escape(rules.network_name)} account?</h1>
<form method="post" action="">
{who}
<fieldset><legend>{escape(client.name)} asks to</legend><ul>{permissions}</ul></fieldset>
<button type="submit" name="decision" value="approve">Authorize app</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>
</main></body></html>"""
    return HTMLResponse(body)


def client_credentials(ctx: Ctx) -> tuple[str | None, str | None]:
    """(client id, secret) from HTTP Basic, else from the form/query."""
    header = ctx.header("authorization") or ""
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except ValueError:
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id or None, secret or None
    params = ctx.params
    client_id = params.get("client_id")
    secret = params.get("client_secret")
    return (str(client_id) if client_id else None), (str(secret) if secret else None)


def authenticated_client(ctx: Ctx, *, secret_required: bool = True) -> OAuthClient | None:
    client_id, secret = client_credentials(ctx)
    client = ctx.state.client(ctx.network, client_id)
    if client is None:
        return None
    if secret_required and not hmac.compare_digest(
        (secret or "").encode(), client.client_secret.encode()
    ):
        return None
    return client


def redeem(
    ctx: Ctx, code_value: str | None, client_id: str, redirect_uri: str | None, verifier: str | None
) -> AuthCode | str:
    """The code if it may be exchanged now, else why not: ``unknown``, ``used``, ``expired``,
    ``client``, ``redirect``, ``verifier_missing`` or ``verifier``. Used up on success."""
    code = ctx.state.codes.get((ctx.network, code_value or ""))
    if code is None:
        return "unknown"
    if code.used:
        return "used"
    if code.expires_at <= ctx.state.now():
        return "expired"
    if code.client_id != client_id:
        return "client"
    if redirect_uri != code.redirect_uri:
        return "redirect"
    if code.challenge is not None:
        if not verifier:
            return "verifier_missing"
        if not pkce_matches(code, verifier):
            return "verifier"
    code.used = True
    ctx.account = ctx.state.accounts[ctx.network].get(code.account_key)
    ctx.entry["account"] = code.account_key
    return code


def reply_unless(result: AuthCode | str, error: Callable[[str], Response]) -> AuthCode:
    """The redeemed code, or an early answer built by the network's ``error``."""
    if isinstance(result, str):
        raise Reply(error(result))
    return result
