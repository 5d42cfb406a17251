"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served with their assets from this service.

The assets come from the pinned ``fastapi-offline`` package, so the pages work offline and
load nothing from a CDN. Both pages need inline styles (and ReDoc a worker made from a
``blob:``), which the strict policy every other page gets refuses; they carry their own, still
limited to this site. SecurityHeaders keeps a policy a response already has.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.web.endpoints import CACHE_CONTROL, RevalidatedStaticFiles

PAGES_DIR = Path(__file__).resolve().parent
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(
        PAGES_DIR / name,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": CACHE_CONTROL,
            "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY,
        },
    )


@router.get("/docs")
def swagger_ui() -> FileResponse:
    return _page("swagger.html")


@router.get("/redoc")
def redoc() -> FileResponse:
    return _page("redoc.html")


router.mount(
    "/docs/assets",
    RevalidatedStaticFiles(packages=[("fastapi_offline", "static"), ("service.apidocs", "static")]),
    name="docs-assets",
)
