"""Facebook Pages (Graph API): POST /v{N}.0/{page_id}/feed and GET /v{N}.0/{object_id}."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from . import graph, oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Account, Post, RateInfo

DUPLICATE_USER_MSG = (
    "This status update is identical to the last one you posted. Try posting something "
    "different, or delete your previous update."
)


def graph_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FacebookModel(NetworkModel):
    name = "facebook"

    def new_store(self) -> dict[str, Any]:
        return {"posts": {}, "next": 122_100_000_000_000_000}

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        body = graph.status_error_body(status, params, throttle_code=32)
        headers: dict[str, str] = {}
        if body["error"]["code"] in graph.THROTTLE_CODES:
            headers = self.throttle(ctx, float(params.get("retry_after_s", 300)))
        return body, headers

    def rate_headers(self, ctx: Ctx, info: RateInfo) -> dict[str, str]:
        page_id = ctx.request.path_params.get("page_id") or (
            ctx.account.key if ctx.account else "0"
        )
        used = (
            100
            if info.exceeded or info.remaining == 0
            else 100 - info.remaining * 100 // info.limit
        )
        regain = 0
        if info.remaining == 0:
            regain = max(1, int((info.reset_at - ctx.state.now() + 59) // 60))
        usage = {
            page_id: [
                {
                    "type": "pages",
                    "call_count": used,
                    "total_cputime": min(used, 5),
                    "total_time": min(used, 5),
                    "estimated_time_to_regain_access": regain,
                }
            ]
        }
        return {"x-business-use-case-usage": json.dumps(usage, separators=(",", ":"))}

    def expired_token(self, ctx: Ctx) -> Response:
        return graph.auth_error("expired", ctx)

    def duplicate(self, ctx: Ctx) -> Response:
        return json_response(
            graph.graph_error(
                "Duplicate status message",
                506,
                subcode=1455006,
                is_transient=False,
                user_title="Duplicate Post",
                user_msg=DUPLICATE_USER_MSG,
            ),
            400,
        )

    def not_found(self, ctx: Ctx) -> Response:
        return json_response(
            graph.graph_error("Unknown path components: " + ctx.request.url.path, 2500), 400
        )

    @route("POST", "/v{version:int}.0/{page_id}/feed", "create")
    async def create(self, ctx: Ctx) -> Response:
        account = graph.authenticate(ctx, "facebook")
        page_id = ctx.request.path_params["page_id"]
        token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        scoped_out = token is not None and not token.allows("pages_manage_posts")
        if account.key != page_id or scoped_out:
            raise Reply(
                json_response(
                    graph.graph_error(
                        "(#200) If posting to a page, requires both pages_read_engagement and "
                        "pages_manage_posts as an admin with sufficient administrative permission",
                        200,
                        type_="OAuthException",
                    ),
                    403,
                )
            )
        self.count(ctx, ("page", page_id), 4800, 86400)
        params = ctx.params
        message = params.get("message") or ""
        link = params.get("link")
        if not isinstance(message, str):
            message = str(message)
        if not message.strip() and not link and not params.get("attached_media"):
            raise Reply(
                json_response(graph.graph_error("(#100) Missing message or attachment", 100), 400)
            )
        store = self.store(ctx)
        if ctx.state.config.get("natural_duplicates") and message:
            previous = ctx.state.posts_of("facebook", page_id)
            if previous and previous[-1].text == message:
                raise Reply(self.duplicate(ctx))
        store["next"] += 1 + ctx.state.next_int() % 7
        post_number = str(store["next"])
        post_id = f"{page_id}_{post_number}"
        permalink = f"https://www.facebook.com/{page_id}/posts/{post_number}"
        post = ctx.state.add_post(
            Post(
                network="facebook",
                id=post_id,
                account=page_id,
                username=account.username,
                text=message,
                created_at=ctx.state.now(),
                url=permalink,
                details={
                    "link": link,
                    "published": str(params.get("published", "true")).lower() != "false",
                    "graph_version": f"v{ctx.request.path_params['version']}.0",
                },
            )
        )
        store["posts"][post_id] = post
        result: dict[str, Any] = {"id": post_id}
        if "permalink_url" in graph.requested_fields(ctx):
            result["permalink_url"] = permalink
        return json_response(result)

    # -- Facebook Login (manual flow) and the Pages a person manages ---------------------

    @route(("GET", "POST"), "/v{version:int}.0/dialog/oauth", "authorize")
    async def authorize(self, ctx: Ctx) -> Response:
        """The consent page (GET), and its form's answer (POST)."""
        return oauth.authorize(ctx, AUTHORIZE)

    @route("GET", "/v{version:int}.0/oauth/access_token", "token")
    async def access_token(self, ctx: Ctx) -> Response:
        """The code for a short-lived user token, or (``fb_exchange_token``) a short-lived
        user token for a long-lived one; both need the app secret."""
        params = ctx.params
        client = ctx.state.client("facebook", params.get("client_id"))
        if client is None or params.get("client_secret") != client.client_secret:
            raise Reply(json_response(graph.graph_error("Error validating client secret.", 1), 400))
        if params.get("grant_type") == "fb_exchange_token":
            check = ctx.state.check_token("facebook", params.get("fb_exchange_token"))
            if not check.ok or check.account is None or check.account.kind != "user":
                raise Reply(graph.auth_error(check.status, ctx))
            assert check.token is not None
            ctx.authenticated(check)
            return self._user_token(
                ctx, check.account.key, check.token.scopes, client.client_id, LONG_LIVED_S
            )
        code = oauth.reply_unless(
            oauth.redeem(
                ctx, params.get("code"), client.client_id, params.get("redirect_uri"), None
            ),
            _code_error,
        )
        return self._user_token(ctx, code.account_key, code.scopes, client.client_id, SHORT_LIVED_S)

    def _user_token(
        self,
        ctx: Ctx,
        person: str,
        scopes: frozenset[str] | None,
        client_id: str,
        lifetime: float,
    ) -> Response:
        token = ctx.state.issue_token(
            "facebook",
            person,
            "access",
            None,
            lifetime,
            scopes=scopes,
            client_id=client_id,
            short_lived=lifetime == SHORT_LIVED_S,
        )
        return json_response(
            {"access_token": token.value, "token_type": "bearer", "expires_in": int(lifetime)}
        )

    def _person(self, ctx: Ctx) -> Account:
        account = graph.authenticate(ctx, "facebook")
        if account.kind != "user":
            raise Reply(
                json_response(
                    graph.graph_error(
                        "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
                        100,
                    ),
                    400,
                )
            )
        return account

    @route("GET", "/v{version:int}.0/me/accounts", "accounts")
    async def pages(self, ctx: Ctx) -> Response:
        """The Pages the person manages, each with a Page token; made from a long-lived user
        token, a Page token does not expire (access-tokens guide)."""
        person = self._person(ctx)
        user_token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        assert user_token is not None
        if not user_token.allows("pages_show_list"):
            return json_response({"data": []})
        lifetime = SHORT_LIVED_S if user_token.short_lived else None
        data = []
        for page_id in person.manages:
            page = ctx.state.accounts["facebook"].get(page_id)
            if page is None:
                continue
            token = ctx.state.issue_token(
                "facebook",
                page.key,
                "access",
                None,
                lifetime,
                scopes=user_token.scopes,
                client_id=user_token.client_id,
            )
            data.append(
                {
                    "access_token": token.value,
                    "category": "Personal blog",
                    "category_list": [{"id": "2700", "name": "Personal blog"}],
                    "name": page.display_name,
                    "id": page.key,
                    "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
                }
            )
        return json_response(
            {"data": data, "paging": {"cursors": {"before": "QVFIUm", "after": "QVFIUn"}}}
        )

    @route("GET", "/v{version:int}.0/me/permissions", "permissions")
    async def permissions(self, ctx: Ctx) -> Response:
        self._person(ctx)
        token = ctx.state.check_token("facebook", graph.token_of(ctx)).token
        assert token is not None
        granted = sorted(token.scopes) if token.scopes is not None else sorted(PERMISSIONS)
        return json_response({"data": [{"permission": p, "status": "granted"} for p in granted]})

    @route("GET", "/v{version:int}.0/{object_id}", "get")
    async def get(self, ctx: Ctx) -> Response:
        graph.authenticate(ctx, "facebook")
        object_id = ctx.request.path_params["object_id"]
        fields = graph.requested_fields(ctx)
        post: Post | None = self.store(ctx)["posts"].get(object_id)
        if post is None:
            page = ctx.state.accounts["facebook"].get(object_id)
            if page is None:
                raise Reply(graph.object_missing(object_id))
            return json_response({"id": page.key, "name": page.display_name})
        values: dict[str, Any] = {
            "id": post.id,
            "message": post.text,
            "created_time": graph_time(post.created_at),
            "permalink_url": post.url,
            "is_published": post.details.get("published", True),
        }
        wanted = fields or ["created_time", "message"]
        result = {"id": post.id}
        for name in wanted:
            if name not in values:
                raise Reply(
                    json_response(
                        graph.graph_error(
                            f"(#100) Tried accessing nonexisting field ({name}) "
                            "on node type (Post)",
                            100,
                        ),
                        400,
                    )
                )
            result[name] = values[name]
        return json_response(result)


SHORT_LIVED_S = 3600  # "usually have a lifetime of about an hour or two" (access-tokens guide)
LONG_LIVED_S = 60 * 24 * 3600
PERMISSIONS = frozenset(
    {
        "public_profile",
        "email",
        "pages_show_list",
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_manage_engagement",
        "pages_manage_metadata",
        "read_insights",
        "business_management",
    }
)


def _people(ctx: Ctx) -> list[Account]:
    """The people who can log in: those registered with kind "user"; if none, one admin who
    manages every registered Page."""
    accounts = ctx.state.accounts["facebook"]
    people = [a for a in accounts.values() if a.kind == "user"]
    if people:
        return people
    admin = Account(
        network="facebook",
        key="100000000000001",
        username="page.admin",
        display_name="Page Admin",
        kind="user",
        manages=[a.key for a in accounts.values()],
        created_at=ctx.state.now(),
    )
    ctx.state.add_account(admin)
    return [admin]


# developers.facebook.com, facebook-login/guides/advanced/manual-flow: the dialog, a refusal
# as error_reason=user_denied&error=access_denied, "#_=_" on the redirect; a person may
# untick permissions ("Edit access"); no PKCE in this flow. The code's lifetime is not
# documented: 10 minutes, as RFC 6749 recommends.
AUTHORIZE = oauth.AuthorizeRules(
    network_name="Facebook",
    known_scopes=PERMISSIONS,
    scope_separator=",",
    pkce="none",
    partial_grant=True,
    code_lifetime_s=600,
    deny={
        "error_reason": "user_denied",
        "error": "access_denied",
        "error_description": "Permissions error.",
    },
    fragment="#_=_",
    people=_people,
)

_CODE_ERRORS = {
    "used": ("This authorization code has been used.", 36009),
    "expired": ("This authorization code has expired.", 36007),
    "redirect": (
        "Error validating verification code. Please make sure your redirect_uri is identical "
        "to the one you used in the OAuth dialog request",
        36008,
    ),
}


def _code_error(reason: str) -> Response:
    message, subcode = _CODE_ERRORS.get(reason, ("Invalid verification code format.", None))
    return json_response(graph.graph_error(message, 100, subcode=subcode), 400)
