"""Serves the front end: ``/`` is the app's page, ``/static/...`` its files.

No build step: the files in ``static/`` are what the browser runs. Their names carry no content
hash, so browsers must revalidate them (``no-cache`` with the ETag StaticFiles sends) instead
of keeping a stale copy after an upgrade; a 304 costs one round trip.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
CACHE_CONTROL = "no-cache"

router = APIRouter(include_in_schema=False)


class RevalidatedStaticFiles(StaticFiles):
    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response


@router.get("/", response_class=FileResponse)
def index() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": CACHE_CONTROL},
    )


router.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
