"""The media folders: listing, probing, the files themselves, still frames, and uploads (probed
before they are kept: the extension alone proves nothing)."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from moviola.errors import MoviolaError
from moviola.studio import projects
from moviola.studio.paths import (
    AUDIO_EXTENSIONS,
    MEDIA_EXTENSIONS,
    PathRefused,
    sanitize_filename,
    unique_path,
)
from moviola.studio.routes.common import JPEG_CACHE, ApiError, error, number
from moviola.studio.state import studio_state


class _TooLarge(Exception):
    pass


def media_path(request: Request) -> Path:
    """The file the ``id`` query parameter names, inside the media folders (else PathRefused,
    which the app answers with 403 or 404)."""
    media_id = request.query_params.get("id", "")
    path = studio_state(request).roots.resolve(media_id)
    if not path.is_file():
        raise PathRefused(f"no such file: {media_id}", missing=True)
    return path


async def media_list(request: Request) -> Response:
    roots = studio_state(request).roots
    files = await run_in_threadpool(roots.listing)
    return JSONResponse(
        {"roots": roots.describe(), "files": files, "extensions": sorted(MEDIA_EXTENSIONS)}
    )


async def media_probe(request: Request) -> Response:
    from moviola.media import probe

    path = media_path(request)
    info = await run_in_threadpool(probe, path)
    out = info.to_dict()
    out["path"] = request.query_params["id"]
    return JSONResponse(out)


async def media_file(request: Request) -> Response:
    return FileResponse(media_path(request), headers={"Cache-Control": "no-cache"})


async def media_frame(request: Request) -> Response:
    from moviola.studio.frames import frame_at

    path = media_path(request)
    t = number(request.query_params.get("t"), 0.0)
    width = int(number(request.query_params.get("w"), 480))
    data = await run_in_threadpool(frame_at, path, t, width)
    return Response(data, media_type="image/jpeg", headers=JPEG_CACHE)


def _upload_name(request: Request) -> tuple[str, str]:
    """(safe file name, its extension) of an upload, or a 415 for a type not taken."""
    raw_name = request.query_params.get("name") or request.headers.get("x-filename") or ""
    name = sanitize_filename(raw_name)
    ext = os.path.splitext(name)[1].lower()
    if ext not in MEDIA_EXTENSIONS:
        raise ApiError(
            f"file type {ext or '(none)'} is not accepted; use one of "
            f"{' '.join(sorted(MEDIA_EXTENSIONS))}",
            415,
        )
    return name, ext


async def _receive(request: Request, part: Path, limit: int) -> int:
    """The request's body into ``part``; its size in bytes (_TooLarge past ``limit``)."""
    size = 0
    with open(part, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            out.write(chunk)
    return size


async def upload(request: Request) -> Response:
    from moviola.media import probe

    state = studio_state(request)
    config = state.config
    name, ext = _upload_name(request)
    project = projects.checked_project(state, request.query_params.get("project"))
    too_large = f"file too large: the limit is {config.max_upload_mb:g} MB"
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > config.max_upload_bytes:
        return error(too_large, 413)
    folder = state.roots.uploads.path
    part = folder / f".part-{os.urandom(6).hex()}{ext}"
    try:
        size = await _receive(request, part, config.max_upload_bytes)
        if size == 0:
            return error("the upload is empty", 400)
        try:
            info = await run_in_threadpool(probe, part)
        except MoviolaError:
            return error(f"{name} is not a video, picture or sound moviola can read", 415)
        if not info.video and not (ext in AUDIO_EXTENSIONS and info.audio):
            return error(f"{name} has no video stream", 415)
        target = unique_path(folder, name)
        os.replace(part, target)
    except _TooLarge:
        return error(too_large, 413)
    finally:
        if part.exists():
            part.unlink()
    media_id = state.roots.media_id(target)
    if project and media_id:
        projects.change(state, project, assets=[media_id])
    return JSONResponse(
        {
            "id": media_id,
            "name": target.name,
            "size": size,
            "probe": {**info.to_dict(), "path": media_id},
        },
        status_code=201,
    )


ROUTES = [
    Route("/api/media", media_list),
    Route("/api/media/probe", media_probe),
    Route("/api/media/file", media_file),
    Route("/api/media/frame", media_frame),
    Route("/api/upload", upload, methods=["POST", "PUT"]),
]
