"""Meta Graph API conventions shared by the Facebook Pages and Threads emulations."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from .framework import Ctx, Reply, json_response
from .state import Account, iso

THROTTLE_MESSAGES: dict[int, str] = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: (
        "(#80001) There have been too many calls to this Page account. Wait a bit and try again."
    ),
}
THROTTLE_CODES = frozenset(THROTTLE_MESSAGES)


def graph_error(
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    type_: str = "OAuthException",
    is_transient: bool | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
    return {"error": error}


def status_error_body(status: int, params: dict[str, Any], throttle_code: int) -> dict[str, Any]:
    """The Graph error for a status fault; ``code``/``subcode``/``message`` in params override."""
    code = params.get("code")
    if code is None:
        if status == 429:
            code = throttle_code
        elif status == 500:
            code = 1
        elif status >= 500:
            code = 2
        else:
            code = 100
    code = int(code)
    if code in THROTTLE_CODES:
        message = THROTTLE_MESSAGES[code]
        transient = True
    elif code == 1:
        message, transient = "An unknown error occurred", True
    elif code == 2:
        message, transient = (
            "An unexpected error has occurred. Please retry your request later.",
            True,
        )
    elif code == 190:
        message, transient = "Invalid OAuth access token - Cannot parse access token", False
    else:
        message, transient = "(#100) Invalid parameter", False
    subcode = params.get("subcode")
    return graph_error(
        str(params.get("message") or message),
        code,
        subcode=int(subcode) if subcode is not None else None,
        is_transient=transient,
    )


def token_of(ctx: Ctx) -> str | None:
    """access_token from the query, the form or JSON body, or an Authorization header."""
    token = ctx.params.get("access_token")
    if isinstance(token, str) and token:
        return token
    return ctx.bearer()


def auth_error(status: str, ctx: Ctx) -> Response:
    if status == "missing":
        body = graph_error("An access token is required to request this resource.", 104)
    elif status == "expired":
        now = ctx.state.now()
        body = graph_error(
            f"Error validating access token: Session has expired on {iso(now - 1)}. "
            f"The current time is {iso(now)}.",
            190,
            subcode=463,
        )
    elif status == "revoked":
        body = graph_error(
            "Error validating access token: The session has been invalidated because the user "
            "changed their password or Facebook has changed the session for security reasons.",
            190,
            subcode=460,
        )
    else:
        body = graph_error("Invalid OAuth access token - Cannot parse access token", 190)
    return json_response(body, 400)


def authenticate(ctx: Ctx, network: str) -> Account:
    check = ctx.state.check_token(network, token_of(ctx))
    if not check.ok:
        raise Reply(auth_error(check.status, ctx))
    return ctx.authenticated(check)


def object_missing(object_id: str, *, method: str = "get") -> Response:
    return json_response(
        graph_error(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please read "
            "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            100,
            subcode=33,
            type_="GraphMethodException",
        ),
        400,
    )


def requested_fields(ctx: Ctx) -> list[str]:
    fields = ctx.params.get("fields") or ""
    if isinstance(fields, list):
        fields = ",".join(fields)
    return [f.strip() for f in str(fields).split(",") if f.strip()]
