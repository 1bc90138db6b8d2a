"""The page itself, the server's health and the effects' declarations (the page builds its
forms from them)."""

from __future__ import annotations

import hashlib
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
            # names this studio's data folder without showing it: the page keys what it
            # remembers across reloads (chosen clip, chain, form values) by it
            "studio_id": hashlib.sha256(str(state.data_dir).encode()).hexdigest()[:16],
        }
    )


async def effects(request: Request) -> Response:
    from moviola.pipeline import registry

    described = [cls.describe() for cls in registry.effects().values()]
    for effect in described:
        for param in effect["params"]:
            notes = _model_notes(param.get("choices") or (), param.get("help") or "")
            if notes:
                param["choice_notes"] = notes
    return JSONResponse({"effects": described, "formats": list(OUTPUT_FORMATS)})


def _model_notes(choices, help_text: str = "") -> dict[str, str]:
    """``{choice: "not installed (size, license)"}`` for the choices that name models of the
    store none of which is cached: the model's id, the family its ids begin with, or the id
    the help text gives after the choice (``vintage (model vintagify-cyclegan, ...)``)."""
    import re

    from moviola.models.registry import list_models
    from moviola.models.store import is_cached

    models = list_models()
    notes = {}
    for choice in choices:
        said = re.search(rf"\b{re.escape(choice)} \((?:model )?([\w.-]+)", help_text)
        named = (
            [m for m in models if m.id == choice]
            or [m for m in models if said and m.id == said.group(1)]
            or [m for m in models if m.id.startswith(f"{choice}-")]
        )
        if not named or any(is_cached(m.id) for m in named):
            continue
        spec = named[0]
        size = sum(f.size or 0 for f in spec.files)
        where = f"{size / 1e6:.0f} MB, " if size else ""
        fetch = "" if spec.sources else ", supply the file yourself"
        notes[choice] = f"not installed ({where}{spec.license}{fetch})"
    return notes


ROUTES = [
    Route("/", index),
    Route("/api/health", health),
    Route("/api/effects", effects),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]
