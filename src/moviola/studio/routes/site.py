"""The page itself, the server's health and the effects' declarations (the page builds its
forms from them)."""

from __future__ import annotations

import hmac
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from moviola._version import __version__
from moviola.studio import editing
from moviola.studio.guard import TOKEN_COOKIE
from moviola.studio.specs import OUTPUT_FORMATS
from moviola.studio.state import studio_state

STATIC = Path(__file__).resolve().parent.parent / "static"


async def index(request: Request) -> Response:
    """The page; opened with the right ``?token=``, it also sets the token's cookie."""
    config = studio_state(request).config
    response = FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})
    token = request.query_params.get("token")
    if config.token and token and hmac.compare_digest(token, config.token):
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
    return response


async def health(request: Request) -> Response:
    from moviola.pipeline import registry

    state = studio_state(request)
    config = state.config
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "effects": len(registry.effects()),
            "jobs_running": len(state.runner.running()),
            "workers": state.runner.workers,
            "interrupted_at_start": state.interrupted,
            "editing": editing.available()["shots"],
            "token_required": bool(config.token),
            "max_upload_bytes": config.max_upload_bytes,
        }
    )


async def effects(request: Request) -> Response:
    from moviola.pipeline import registry

    described = [cls.describe() for cls in registry.effects().values()]
    return JSONResponse({"effects": described, "formats": list(OUTPUT_FORMATS)})


ROUTES = [
    Route("/", index),
    Route("/api/health", health),
    Route("/api/effects", effects),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]
