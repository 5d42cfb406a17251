"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served with their assets from this service.

The assets come from the pinned ``fastapi-offline`` package, so the pages work offline and
load nothing from a CDN. Both pages need inline styles (and ReDoc a worker made from a
``blob:``), which the strict policy every other page gets refuses; they carry their own, still
limited to this site. SecurityHeaders keeps a policy a response already has.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.web.endpoints import CACHE_CONTROL, RevalidatedStaticFiles

DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Handpost API</title>
<link rel="icon" href="/docs/assets/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""
# Swagger UI starts from a file of ours, swagger-init.js: the policy allows no inline script.
SWAGGER_UI = PAGE.format(
    head='<link rel="stylesheet" href="/docs/assets/swagger-ui.css">',
    body='<div id="swagger-ui" data-spec-url="/openapi.json"></div>\n'
    '<script src="/docs/assets/swagger-ui-bundle.js"></script>\n'
    '<script src="/docs/assets/swagger-init.js"></script>',
)
# ReDoc starts itself on its <redoc> element.
REDOC = PAGE.format(
    head="<style>body { margin: 0; }</style>",
    body="<noscript>ReDoc needs JavaScript; the contract is also at /openapi.json.</noscript>\n"
    '<redoc spec-url="/openapi.json"></redoc>\n'
    '<script src="/docs/assets/redoc.standalone.js"></script>',
)

router = APIRouter(include_in_schema=False)


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(
        html,
        headers={
            "Cache-Control": CACHE_CONTROL,
            "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY,
        },
    )


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _page(SWAGGER_UI)


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _page(REDOC)


router.mount(
    "/docs/assets",
    RevalidatedStaticFiles(packages=[("fastapi_offline", "static"), ("service.apidocs", "static")]),
    name="docs-assets",
)
