"""Facebook Pages (Graph API): POST /v{N}.0/{page_id}/feed and GET /v{N}.0/{object_id}."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from . import graph
from .framework import Ctx, NetworkModel, Reply, json_response, route
from .state import Post, RateInfo

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
        if account.key != page_id:
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
