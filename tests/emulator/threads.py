"""Threads (Meta): two-step publishing, container status, permalink, token refresh."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from . import graph, oauth
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Account, Post
from .textutil import threads_length, urls

TEXT_LIMIT = 500
LINK_LIMIT = 5
CONTAINER_TTL_S = 24 * 3600
LONG_LIVED_TOKEN_S = 60 * 24 * 3600
LINK_LIMIT_CODE = "THREADS_API__LINK_LIMIT_EXCEEDED"
_SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _shortcode(number: int) -> str:
    chars = []
    for _ in range(10):
        chars.append(_SHORTCODE_ALPHABET[number % 64])
        number //= 64
    return "D" + "".join(reversed(chars))


def _timestamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _param_error(message: str, **extra: Any) -> Response:
    return json_response(graph.graph_error(message, 100, **extra), 400)


def _media_not_found(object_id: str) -> Response:
    return json_response(
        graph.graph_error(
            "The requested resource does not exist",
            24,
            subcode=4279009,
            is_transient=False,
            user_title="Media Not Found",
            user_msg=f"The media with id {object_id} cannot be found",
        ),
        400,
    )


class ThreadsModel(NetworkModel):
    name = "threads"

    def new_store(self) -> dict[str, Any]:
        return {
            "containers": {},
            "media": {},
            "next_container": 17_900_000_000_000_000,
            "next_media": 18_050_000_000_000_000,
        }

    def error_body(
        self, ctx: Ctx, status: int, params: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        # Threads documents no rate-limit headers; throttling is an error code (4 by default).
        return graph.status_error_body(status, params, throttle_code=4), {}

    def expired_token(self, ctx: Ctx) -> Response:
        return graph.auth_error("expired", ctx)

    def not_found(self, ctx: Ctx) -> Response:
        return graph.object_missing(ctx.request.url.path)

    def _user(self, ctx: Ctx, user_id: str, method: str) -> Account:
        account = graph.authenticate(ctx, "threads")
        if user_id not in ("me", account.key):
            raise Reply(graph.object_missing(user_id, method=method))
        return account

    def _container_status(self, ctx: Ctx, container: dict[str, Any]) -> str:
        if container["status"] == "PUBLISHED":
            return "PUBLISHED"
        now = ctx.state.now()
        if now - container["created_at"] >= CONTAINER_TTL_S:
            return "EXPIRED"
        if now < container["ready_at"]:
            return "IN_PROGRESS"
        return "FINISHED"

    @route("POST", "/v1.0/{user_id}/threads", "container")
    async def create_container(self, ctx: Ctx) -> Response:
        account = self._user(ctx, ctx.request.path_params["user_id"], "post")
        token = ctx.state.check_token("threads", graph.token_of(ctx)).token
        if token is not None and not token.allows("threads_content_publish"):
            raise Reply(
                json_response(
                    graph.graph_error(
                        "(#10) Application does not have permission for this action", 10
                    ),
                    403,
                )
            )
        self.count(ctx, ("calls", account.key), 4800, 86400)
        params = ctx.params
        media_type = str(params.get("media_type") or "")
        if not media_type:
            raise Reply(_param_error("(#100) The parameter media_type is required"))
        if media_type != "TEXT":
            raise Reply(_param_error("(#100) Only media_type=TEXT is supported by the emulator"))
        text = params.get("text") or ""
        if not isinstance(text, str):
            text = str(text)
        if not text.strip():
            raise Reply(_param_error("(#100) The parameter text is required for TEXT posts"))
        if threads_length(text) > TEXT_LIMIT:
            raise Reply(
                _param_error(f"(#100) Param text must be at most {TEXT_LIMIT} characters long.")
            )
        links = urls(text)
        attachment = params.get("link_attachment")
        if attachment and attachment not in links:
            links.append(str(attachment))
        if len(links) > LINK_LIMIT:
            raise Reply(
                _param_error(
                    f"{LINK_LIMIT_CODE}: a post can contain at most {LINK_LIMIT} links",
                    type_="THApiException",
                    user_title=LINK_LIMIT_CODE,
                    user_msg=f"The post contains {len(links)} links; the limit is {LINK_LIMIT}.",
                )
            )
        store = self.store(ctx)
        store["next_container"] += 1 + ctx.state.next_int() % 5
        container_id = str(store["next_container"])
        now = ctx.state.now()
        container: dict[str, Any] = {
            "id": container_id,
            "user_id": account.key,
            "text": text,
            "media_type": media_type,
            "status": "CREATED",
            "created_at": now,
            "ready_at": now + float(ctx.state.config.get("threads_processing_s", 0) or 0),
            "media_id": None,
            "params": {
                k: v for k, v in params.items() if k not in ("access_token", "text", "media_type")
            },
        }
        store["containers"][container_id] = container
        auto = str(params.get("auto_publish_text", "")).lower() == "true"
        if auto and container["ready_at"] <= now:
            media_id = self._publish(ctx, account, container)
            return json_response({"id": media_id})
        return json_response({"id": container_id})

    def _publish(self, ctx: Ctx, account: Account, container: dict[str, Any]) -> str:
        store = self.store(ctx)
        store["next_media"] += 1 + ctx.state.next_int() % 5
        media_id = str(store["next_media"])
        shortcode = _shortcode(int(media_id))
        permalink = f"https://www.threads.net/@{account.username}/post/{shortcode}"
        post = ctx.state.add_post(
            Post(
                network="threads",
                id=media_id,
                account=account.key,
                username=account.username,
                text=container["text"],
                created_at=ctx.state.now(),
                url=permalink,
                details={
                    "container_id": container["id"],
                    "shortcode": shortcode,
                    "permalink": permalink,
                    **container["params"],
                },
            )
        )
        container["status"] = "PUBLISHED"
        container["media_id"] = media_id
        store["media"][media_id] = post
        return media_id

    @route("POST", "/v1.0/{user_id}/threads_publish", "create")
    async def publish(self, ctx: Ctx) -> Response:
        account = self._user(ctx, ctx.request.path_params["user_id"], "post")
        self.count(ctx, ("publish", account.key), 250, 86400)
        creation_id = ctx.params.get("creation_id")
        if not creation_id:
            raise Reply(_param_error("(#100) The parameter creation_id is required"))
        container = self.store(ctx)["containers"].get(str(creation_id))
        if container is None or container["user_id"] != account.key:
            raise Reply(_media_not_found(str(creation_id)))
        # A container publishes once: PUBLISHED, EXPIRED or still IN_PROGRESS -> Media Not Found.
        if self._container_status(ctx, container) != "FINISHED":
            raise Reply(_media_not_found(str(creation_id)))
        return json_response({"id": self._publish(ctx, account, container)})

    @route("GET", "/v1.0/{user_id}/threads", "list")
    async def list_threads(self, ctx: Ctx) -> Response:
        account = self._user(ctx, ctx.request.path_params["user_id"], "get")
        self.count(ctx, ("calls", account.key), 4800, 86400)
        fields = graph.requested_fields(ctx) or ["id"]
        posts = [p for p in ctx.state.posts_of("threads", account.key)]
        posts.sort(key=lambda p: int(p.id), reverse=True)
        limit = int(ctx.params.get("limit") or 25)
        data = [self._media_fields(ctx, p, fields) for p in posts[:limit]]
        return json_response({"data": data, "paging": {}})

    def _media_fields(self, ctx: Ctx, post: Post, fields: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": post.id,
            "permalink": post.url,
            "text": post.text,
            "timestamp": _timestamp(post.created_at),
            "media_type": "TEXT_POST",
            "media_product_type": "THREADS",
            "shortcode": post.details.get("shortcode"),
            "username": post.username,
            "owner": {"id": post.account},
            "is_quote_post": False,
        }
        result: dict[str, Any] = {}
        for name in fields:
            if name not in values:
                raise Reply(
                    _param_error(
                        f"Tried accessing nonexisting field ({name})", type_="THApiException"
                    )
                )
            result[name] = values[name]
        result.setdefault("id", post.id)
        return result

    @route("GET", "/v1.0/{object_id}", "get")
    async def get_object(self, ctx: Ctx) -> Response:
        account = graph.authenticate(ctx, "threads")
        self.count(ctx, ("calls", account.key), 4800, 86400)
        object_id = ctx.request.path_params["object_id"]
        fields = graph.requested_fields(ctx)
        store = self.store(ctx)
        if object_id in ("me", account.key):
            values = {"id": account.key, "username": account.username, "name": account.display_name}
            return json_response({k: values[k] for k in (fields or ["id"]) if k in values})
        container = store["containers"].get(object_id)
        if container is not None and container["user_id"] == account.key:
            status = self._container_status(ctx, container)
            values = {"id": object_id, "status": status}
            if status in ("ERROR", "EXPIRED"):
                values["error_message"] = status.lower()
            result: dict[str, Any] = {}
            for name in fields or ["id"]:
                if name == "error_message":
                    if "error_message" in values:
                        result[name] = values[name]
                    continue
                if name not in values:
                    raise Reply(
                        _param_error(
                            f"Tried accessing nonexisting field ({name})", type_="THApiException"
                        )
                    )
                result[name] = values[name]
            result.setdefault("id", object_id)
            return json_response(result)
        post: Post | None = store["media"].get(object_id)
        if post is not None and post.account == account.key:
            return json_response(self._media_fields(ctx, post, fields or ["id"]))
        raise Reply(graph.object_missing(object_id))

    @route("GET", "/refresh_access_token", "refresh")
    async def refresh(self, ctx: Ctx) -> Response:
        if ctx.params.get("grant_type") != "th_refresh_token":
            raise Reply(_param_error("(#100) grant_type must be th_refresh_token"))
        account = graph.authenticate(ctx, "threads")
        old = ctx.state.check_token("threads", graph.token_of(ctx)).token
        assert old is not None
        if old.short_lived:  # only long-lived tokens are refreshed (long-lived-tokens guide)
            raise Reply(
                json_response(
                    graph.graph_error("Session key invalid. This token cannot be refreshed.", 190),
                    400,
                )
            )
        return self._long_lived(ctx, account, old.scopes, old.client_id)

    def _long_lived(
        self, ctx: Ctx, account: Account, scopes: frozenset[str] | None, client_id: str | None
    ) -> Response:
        lifetime = account.token_lifetime_s or LONG_LIVED_TOKEN_S
        token = ctx.state.issue_token(
            "threads", account.key, "access", None, lifetime, scopes=scopes, client_id=client_id
        )
        return json_response(
            {"access_token": token.value, "token_type": "bearer", "expires_in": int(lifetime)}
        )

    # -- authorization: the Authorization Window, the code, the long-lived token ----------

    @route(("GET", "POST"), "/oauth/authorize", "authorize")
    async def authorize(self, ctx: Ctx) -> Response:
        """The consent page (GET), and its form's answer (POST)."""
        return oauth.authorize(ctx, AUTHORIZE)

    @route("POST", "/oauth/access_token", "token")
    async def token(self, ctx: Ctx) -> Response:
        """The code for a short-lived (1 hour) token and the user id."""
        params = ctx.params
        client = ctx.state.client("threads", params.get("client_id"))
        if client is None or params.get("client_secret") != client.client_secret:
            raise Reply(json_response(graph.graph_error("Error validating client secret.", 1), 400))
        if params.get("grant_type") != "authorization_code":
            raise Reply(_param_error("(#100) grant_type must be authorization_code"))
        code = oauth.reply_unless(
            oauth.redeem(
                ctx, params.get("code"), client.client_id, params.get("redirect_uri"), None
            ),
            _code_error,
        )
        token = ctx.state.issue_token(
            "threads",
            code.account_key,
            "access",
            None,
            SHORT_LIVED_TOKEN_S,
            scopes=code.scopes,
            client_id=client.client_id,
            short_lived=True,
        )
        user_id = int(code.account_key) if code.account_key.isdigit() else code.account_key
        return json_response({"access_token": token.value, "user_id": user_id})

    @route("GET", "/access_token", "exchange")
    async def exchange(self, ctx: Ctx) -> Response:
        """``th_exchange_token``: a short-lived token for a 60-day one (with the app secret)."""
        params = ctx.params
        if params.get("grant_type") != "th_exchange_token":
            raise Reply(_param_error("(#100) grant_type must be th_exchange_token"))
        account = graph.authenticate(ctx, "threads")
        short = ctx.state.check_token("threads", graph.token_of(ctx)).token
        assert short is not None
        client = ctx.state.client("threads", short.client_id)
        if client is None or params.get("client_secret") != client.client_secret:
            raise Reply(json_response(graph.graph_error("Error validating client secret.", 1), 400))
        return self._long_lived(ctx, account, short.scopes, short.client_id)


SHORT_LIVED_TOKEN_S = 3600

# developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions: the
# scopes (comma-separated), codes valid for one hour and used once, "#_" after the redirect,
# a refusal as error_reason=user_denied&error=access_denied; no PKCE.
AUTHORIZE = oauth.AuthorizeRules(
    network_name="Threads",
    known_scopes=frozenset(
        {
            "threads_basic",
            "threads_content_publish",
            "threads_manage_replies",
            "threads_read_replies",
            "threads_manage_insights",
            "threads_keyword_search",
            "threads_manage_mentions",
            "threads_location_tagging",
            "threads_delete",
        }
    ),
    scope_separator=",",
    pkce="none",
    code_lifetime_s=3600,
    deny={
        "error_reason": "user_denied",
        "error": "access_denied",
        "error_description": "Permissions error",
    },
    fragment="#_",
)


def _code_error(reason: str) -> Response:
    messages = {
        "used": "This authorization code has been used.",
        "expired": "This authorization code has expired.",
        "redirect": "Error validating verification code. Please make sure your redirect_uri "
        "is identical to the one you used in the OAuth dialog request",
    }
    message = messages.get(reason, "Invalid verification code format.")
    return json_response(graph.graph_error(message, 100), 400)
