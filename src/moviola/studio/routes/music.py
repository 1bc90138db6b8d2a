"""Music for a clip: what the music panel offers (moods, instrument sets, whether this install
can render music) and a finished score job's MIDI file. The jobs themselves are created with
``POST /api/jobs`` and ``kind: "score"`` (see moviola.studio.score)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from moviola.studio import score
from moviola.studio.paths import sanitize_filename
from moviola.studio.routes.common import ApiError, finished_job
from moviola.studio.state import studio_state


async def music_options(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(score.options))


async def job_midi(request: Request) -> Response:
    """A finished render's MIDI file (when it was asked for), as a download."""
    job = finished_job(request, "score", "no music for this job")
    name = (job["result"] or {}).get("midi")
    path = studio_state(request).job_dir(job["id"]) / sanitize_filename(name or "none.mid")
    if not name or not path.is_file():
        raise ApiError("this job kept no MIDI file", 404)
    return FileResponse(
        path,
        media_type="audio/midi",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
    )


ROUTES = [
    Route("/api/music", music_options),
    Route("/api/jobs/{job_id:str}/midi", job_midi),
]
