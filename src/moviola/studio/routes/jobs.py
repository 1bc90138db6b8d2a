"""Jobs: creating them (an effect chain or a shot detection on one input), listing, cancelling,
running again, deleting, their results and before/after frames, and a live stream of changes.
The work itself happens in worker processes (moviola.studio.worker)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from moviola.studio import compare, editing, projects, score, specs
from moviola.studio.jobs import clear_folder
from moviola.studio.routes.common import (
    JPEG_CACHE,
    ApiError,
    job_of,
    json_body,
    number,
    public_job,
    public_jobs,
    result_path,
)
from moviola.studio.state import studio_state
from moviola.studio.store import FINISHED


async def jobs_list(request: Request) -> Response:
    return JSONResponse({"jobs": public_jobs(studio_state(request).store.list())})


async def jobs_create(request: Request) -> Response:
    state = studio_state(request)
    data = await json_body(request)
    kind = data.get("kind", "effects")
    project = projects.checked_project(state, data.get("project"))
    if kind == "compare":
        job = state.store.create("compare", *_comparison(state, data))
        projects.add_job(state, project, job["id"])
        state.runner.wake()
        return JSONResponse(public_job(job), status_code=201)
    input_path = state.roots.resolve(str(data.get("input", "")))
    if not input_path.is_file():
        raise ApiError("the input must be a file", 400)
    if kind == "shots":
        available = editing.available()
        if not available["shots"]:
            raise ApiError(available["message"], 501)
        spec = specs.shots_spec(data, input_path, available["methods"])
        title = f"shots of {input_path.name}"
    elif kind == "transcript":
        spec = specs.transcript_spec(data, input_path)
        title = f"transcript of {input_path.name}" + (
            f" ({spec['model']})" if spec["model"] != specs.TRANSCRIBE_MODELS[0] else ""
        )
    elif kind == "score":
        available = await run_in_threadpool(score.availability)
        if not available["available"]:
            raise ApiError(available["message"], 501)
        spec = score.score_spec(data, input_path)
        title = score.score_title(spec, input_path)
    elif kind == "effects":
        spec = await run_in_threadpool(specs.effects_spec, data, input_path, state.roots)
        await run_in_threadpool(specs.check_start, spec, _duration(input_path))
        title = specs.effects_title(spec, input_path)
    else:
        raise ApiError(f"unknown job kind {kind!r}")
    job = state.store.create(kind, spec, title=title)
    projects.add_job(state, project, job["id"])
    state.runner.wake()
    return JSONResponse(public_job(job), status_code=201)


def _comparison(state, data: dict) -> tuple[dict, str]:
    """(spec, title) of a before/after video of a finished effects job (``"job": ID``)."""
    source = state.store.get(str(data.get("job") or ""))
    if source is None or source["kind"] != "effects":
        raise ApiError("choose a finished effects job to compare", 404)
    after = result_path(state, source)
    if after is None:
        raise ApiError(f"the job is {source['status']}: it has no result to compare", 409)
    after_id = state.roots.media_id(after) or ""
    spec = compare.comparison_spec(data, source, after, after_id)
    return spec, compare.comparison_title(spec, source["title"])


def _duration(path: Path) -> float | None:
    """The clip's length in seconds (probe), or None when it cannot be told."""
    from moviola.errors import MoviolaError
    from moviola.media import probe

    try:
        info = probe(path)
    except MoviolaError:
        return None
    return float(info.duration) if info.duration is not None else None


async def job_get(request: Request) -> Response:
    return JSONResponse(public_job(job_of(request)))


def _still_there(job: dict | None) -> dict:
    if job is None:  # deleted meanwhile
        raise ApiError("no such job", 404)
    return job


async def job_cancel(request: Request) -> Response:
    state = studio_state(request)
    job = job_of(request)
    return JSONResponse(public_job(_still_there(state.store.request_cancel(job["id"]))))


async def job_retry(request: Request) -> Response:
    state = studio_state(request)
    job = job_of(request)
    if not state.store.requeue(job["id"]):
        raise ApiError(f"the job is {job['status']}; only a finished job can run again", 409)
    clear_folder(state.job_dir(job["id"]), keep_log=True)
    state.runner.wake()
    return JSONResponse(public_job(_still_there(state.store.get(job["id"]))))


async def job_delete(request: Request) -> Response:
    state = studio_state(request)
    job = job_of(request)
    if job["status"] not in FINISHED and job["status"] != "queued":
        raise ApiError("cancel the job first", 409)
    state.remove_job(job["id"])
    return JSONResponse({"deleted": job["id"]})


async def job_result(request: Request) -> Response:
    job = job_of(request)
    path = result_path(studio_state(request), job)
    if path is None:
        raise ApiError(f"the job is {job['status']}: no result to download", 409)
    inline = request.query_params.get("inline") in ("1", "true")
    headers = {"Cache-Control": "no-cache"}
    if not inline:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(path.name)}"
    return FileResponse(path, headers=headers)


async def job_frame(request: Request) -> Response:
    """The same moment before and after: ``side=after`` is the output at time ``t``;
    ``side=before`` the input frame that the output shows at ``t`` (trims, speed changes
    and preview ranges followed)."""
    from moviola.studio.frames import frame_at

    job = job_of(request)
    path = result_path(studio_state(request), job)
    if path is None or job["kind"] != "effects":
        raise ApiError("no result to compare", 409)
    t = number(request.query_params.get("t"), 0.0)
    width = int(number(request.query_params.get("w"), 640))
    side = request.query_params.get("side", "after")
    if side == "before":
        timeline = job["result"].get("timeline") or {"start": 0.0, "speed": 1.0}
        path = Path(job["spec"]["input_path"])
        if not path.is_file():
            raise ApiError("the input file is gone", 404)
        t = timeline["start"] + t * timeline["speed"]
    elif side != "after":
        raise ApiError("side must be before or after")
    data = await run_in_threadpool(frame_at, path, t, width)
    return Response(data, media_type="image/jpeg", headers=JPEG_CACHE)


async def events(request: Request) -> Response:
    """Server-sent events: every job whose row changed, as it changes."""
    state = studio_state(request)

    async def stream():
        since = time.time() - 1.0
        yield "retry: 2000\n\n"
        last_beat = time.monotonic()
        while not state.stopping.is_set() and not await request.is_disconnected():
            changed = await run_in_threadpool(state.store.list, 0, since)
            for job in changed:
                since = max(since, job["updated"])
            for shown in public_jobs(changed):
                yield f"event: job\ndata: {json.dumps(shown, allow_nan=False)}\n\n"
            if time.monotonic() - last_beat > 15:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.4)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


ROUTES = [
    Route("/api/jobs", jobs_list, methods=["GET"]),
    Route("/api/jobs", jobs_create, methods=["POST"]),
    Route("/api/jobs/{job_id:str}", job_get, methods=["GET"]),
    Route("/api/jobs/{job_id:str}", job_delete, methods=["DELETE"]),
    Route("/api/jobs/{job_id:str}/cancel", job_cancel, methods=["POST"]),
    Route("/api/jobs/{job_id:str}/retry", job_retry, methods=["POST"]),
    Route("/api/jobs/{job_id:str}/result", job_result),
    Route("/api/jobs/{job_id:str}/frame", job_frame),
    Route("/api/events", events),
]
