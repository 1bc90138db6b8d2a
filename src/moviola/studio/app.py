"""The studio's web server: a Starlette app over the job store, the media folders and the
effect registry. Every route is under /api except the page itself and its static files; the
handlers live in moviola.studio.routes and read the shared state from ``app.state.studio``."""

from __future__ import annotations

from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from moviola.errors import MoviolaError
from moviola.studio.config import StudioConfig, check_config, is_loopback
from moviola.studio.guard import Guard
from moviola.studio.routes import common, editing, jobs, library, media, music, pick, site
from moviola.studio.state import StudioState

__all__ = ["Guard", "StudioConfig", "check_config", "create_app", "is_loopback"]


def create_app(config: StudioConfig) -> Guard:
    """The studio as an ASGI app (the Starlette app inside its Guard); the job runner starts
    and stops with the app's lifespan."""
    check_config(config)
    state = StudioState.open(config)

    @asynccontextmanager
    async def lifespan(app):
        state.interrupted = state.runner.start()
        try:
            yield
        finally:
            await run_in_threadpool(state.runner.stop)

    app = Starlette(
        routes=[
            *site.ROUTES,
            *media.ROUTES,
            *jobs.ROUTES,
            *editing.ROUTES,
            *music.ROUTES,
            *library.ROUTES,
            *pick.ROUTES,
        ],
        lifespan=lifespan,
        exception_handlers={
            common.ApiError: common.api_error,
            MoviolaError: common.api_error,
            404: common.not_found,
            405: common.not_allowed,
        },
    )
    app.state.studio = state
    return Guard(app, config)
