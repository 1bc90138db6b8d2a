"""Picking a subject on the player's frame: matte's point (with its mask where MobileSAM is
cached) or the face faceswap targets (see moviola.studio.pick)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moviola.studio import pick
from moviola.studio.routes.common import json_body
from moviola.studio.state import studio_state


async def pick_subject(request: Request) -> Response:
    state = studio_state(request)
    data = await json_body(request, limit=16 * 1024)
    return JSONResponse(await run_in_threadpool(pick.pick, state, data))


ROUTES = [Route("/api/pick", pick_subject, methods=["POST"])]
