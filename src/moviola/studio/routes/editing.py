"""The editing view: what this install can do, a finished job's shot list and its exports (EDL,
OTIO, FCPXML, CSV...), a finished transcription (JSON, SRT, WebVTT, text), and search over the
described shots."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from moviola.studio import editing
from moviola.studio.routes.common import ApiError, finished_job, json_body
from moviola.studio.state import studio_state


async def editing_status(request: Request) -> Response:
    return JSONResponse(editing.available())


async def editing_search(request: Request) -> Response:
    state = studio_state(request)
    data = await json_body(request)
    query = str(data.get("query") or "").strip()
    if not query:
        raise ApiError("type something to search for")
    filters = data.get("filters") or {}
    if not isinstance(filters, dict):
        raise ApiError("filters must be an object of name: value")
    limit = data.get("limit") or 20
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise ApiError("limit must be a whole number from 1 to 500")
    results = await run_in_threadpool(
        editing.search,
        query,
        state.data_dir,
        state.roots,
        limit,
        {k: v for k, v in filters.items() if v not in (None, "")},
    )
    for row in results:
        row["match"] = float(row.get("score") or 0.0) >= editing.MATCH_THRESHOLD
    return JSONResponse(
        {
            "query": query,
            "results": results,
            "matched": any(r["match"] for r in results),
            "threshold": editing.MATCH_THRESHOLD,
        }
    )


async def job_shots(request: Request) -> Response:
    job = finished_job(request, "shots", "no shots for this job")
    path = studio_state(request).job_dir(job["id"]) / "shots.json"
    if not path.is_file():
        raise ApiError("the shot list is gone", 404)
    data = json.loads(path.read_text())
    data["input"] = data["source"] = job["spec"]["input"]  # a media id, not a server path
    return JSONResponse(data)


async def job_export(request: Request) -> Response:
    job = finished_job(request, "shots", "export needs a finished shot list")
    fmt = request.query_params.get("format", "csv")
    out_dir = studio_state(request).job_dir(job["id"])
    path = await run_in_threadpool(
        editing.export, out_dir / "shots.json", Path(job["spec"]["input_path"]), fmt, out_dir
    )
    return FileResponse(
        path,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
    )


TRANSCRIPT_TYPES = {
    "json": "application/json",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "txt": "text/plain",
}


async def job_transcript(request: Request) -> Response:
    """A finished transcription: ``?format=json`` (default, inline) or srt, vtt, txt (files)."""
    from moviola.speech.transcript import load_transcript

    job = finished_job(request, "transcript", "no transcript for this job")
    fmt = request.query_params.get("format", "json")
    if fmt not in TRANSCRIPT_TYPES:
        raise ApiError(f"format must be one of {', '.join(TRANSCRIPT_TYPES)}")
    path = studio_state(request).job_dir(job["id"]) / "transcript.json"
    if not path.is_file():
        raise ApiError("the transcript is gone", 404)
    transcript = await run_in_threadpool(load_transcript, path)
    if fmt == "json":
        data = transcript.to_dict()
        data["input"] = job["spec"]["input"]  # a media id, not a server path
        return JSONResponse(data)
    text = await run_in_threadpool(transcript.format, f".{fmt}")
    name = f"{Path(job['spec']['input']).stem}.{fmt}"
    return Response(
        text,
        media_type=TRANSCRIPT_TYPES[fmt] + "; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


ROUTES = [
    Route("/api/editing", editing_status),
    Route("/api/editing/search", editing_search, methods=["POST"]),
    Route("/api/jobs/{job_id:str}/shots", job_shots),
    Route("/api/jobs/{job_id:str}/export", job_export),
    Route("/api/jobs/{job_id:str}/transcript", job_transcript),
]
